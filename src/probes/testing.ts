/**
 * Test fixtures for the prober (after upstream prober/testing.go): pod and status builders, a recording event
 * recorder, and scriptable fake handlers. Used by the probe unit tests; not used by production code.
 */
import type { V1Container, V1Pod, V1PodStatus, V1Probe } from '@kubernetes/client-node';
import type { EventRecorder, ObjectReference } from '../api/types.js';
import type { ProbeHandlers } from './prober.js';
import type { ProbeOutcome } from './handlers/types.js';
import type { ProberManager } from './types.js';
import { probeReadiness } from './view.js';

/** An event as recorded. */
export interface RecordedEvent {
  ref: ObjectReference;
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
  /** Wall-clock time of recording (Date.now()). */
  at: number;
}

/** An EventRecorder that keeps every event in memory. */
export class RecordingRecorder implements EventRecorder {
  readonly events: RecordedEvent[] = [];

  event(ref: ObjectReference, type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.events.push({ ref, type, reason, message, at: Date.now() });
  }

  /** `reason: message` lines, for compact assertions. */
  lines(): string[] {
    return this.events.map((e) => `${e.type} ${e.reason} ${e.message}`);
  }
}

/** A pod with one container `c` carrying the given probes (uid `uid-1`, default/web). */
export function podWithProbes(
  probes: { liveness?: V1Probe; readiness?: V1Probe; startup?: V1Probe },
  extra: { hostNetwork?: boolean; restartPolicy?: string; container?: Partial<V1Container> } = {},
): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', namespace: 'default', uid: 'uid-1' },
    spec: {
      hostNetwork: extra.hostNetwork,
      restartPolicy: extra.restartPolicy ?? 'Always',
      containers: [
        {
          name: 'c',
          image: 'localhost/nodelet/testbox:1.0',
          livenessProbe: probes.liveness,
          readinessProbe: probes.readiness,
          startupProbe: probes.startup,
          ...extra.container,
        },
      ],
    },
  };
}

/** A status with container `c` running as `containerID` since `startedAt`. */
export function runningStatus(containerID: string, startedAt: Date, podIP = '172.17.0.5'): V1PodStatus {
  return {
    phase: 'Running',
    podIP,
    podIPs: [{ ip: podIP }],
    hostIP: '10.9.9.9',
    containerStatuses: [
      {
        name: 'c',
        containerID,
        image: 'localhost/nodelet/testbox:1.0',
        imageID: '',
        ready: false,
        restartCount: 0,
        state: { running: { startedAt } },
      },
    ],
  };
}

/** A status with container `c` terminated (exit `exitCode`). */
export function terminatedStatus(containerID: string, exitCode: number): V1PodStatus {
  return {
    phase: 'Running',
    podIP: '172.17.0.5',
    containerStatuses: [
      {
        name: 'c',
        containerID,
        image: 'localhost/nodelet/testbox:1.0',
        imageID: '',
        ready: false,
        restartCount: 0,
        state: { terminated: { exitCode, finishedAt: new Date(0) } },
      },
    ],
  };
}

/** Which handler was called with what. */
export interface HandlerCall {
  kind: 'exec' | 'http' | 'tcp' | 'grpc';
  detail: unknown;
}

/**
 * Fake handlers answering from `next()` (default success). Every call is logged in `calls`. A function answer may
 * throw to simulate a prober error.
 */
export function scriptedHandlers(next: () => ProbeOutcome | Promise<ProbeOutcome>): {
  handlers: ProbeHandlers;
  calls: HandlerCall[];
} {
  const calls: HandlerCall[] = [];
  const answer = async (kind: HandlerCall['kind'], detail: unknown): Promise<ProbeOutcome> => {
    calls.push({ kind, detail });
    return next();
  };
  return {
    calls,
    handlers: {
      exec: (req) => answer('exec', { containerID: req.containerID, command: req.command, timeout: req.timeoutSeconds }),
      http: (req, timeoutMs) => answer('http', { req, timeoutMs }),
      tcp: (ip, port, timeoutMs) => answer('tcp', { ip, port, timeoutMs }),
      grpc: (req) => answer('grpc', req),
    },
  };
}

/** Minimal fake of the exec seam that fails the test if called (handlers are faked instead). */
export const unusedRuntime = {
  execSync(): Promise<never> {
    return Promise.reject(new Error('execSync must not be called: handlers are faked'));
  },
};

/**
 * Sets `started`/`ready` of the status's app and sidecar containers from `m.results(podUID)` (what the kubelet's
 * status generation does with the same data).
 */
export function applyResults(m: Pick<ProberManager, 'results'>, podUID: string, status: V1PodStatus): void {
  const r = m.results(podUID);
  for (const c of [...(status.containerStatuses ?? []), ...(status.initContainerStatuses ?? [])]) {
    Object.assign(c, probeReadiness(r, c.name, c.containerID ?? '', c.state?.running !== undefined && c.state.running !== null));
  }
}
