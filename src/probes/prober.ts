/**
 * Runs one probe action for a container and reports it (upstream prober.go): picks the handler, retries prober
 * errors up to 3 times, and records the container's events — Warning `Unhealthy` `<Type> probe failed: <output>` on
 * each failed probe, `<Type> probe errored: <error>` on prober errors, Warning `ProbeWarning` `<Type> probe warning:
 * <output>` when a success carries a warning.
 */
import type { V1Container, V1Pod, V1PodStatus } from '@kubernetes/client-node';
import { containerRef } from '../api/refs.js';
import type { EventRecorder, ObjectReference } from '../api/types.js';
import type { ContainerManager } from '../cri/types.js';
import { errorMessage, type Clock, type Logger, errorFields } from '../util/index.js';
import { execProbe, type ExecProbeRequest } from './handlers/exec.js';
import { grpcProbe, type GrpcProbeRequest } from './handlers/grpc.js';
import { buildHttpProbeRequest, type HttpProbeRequest } from './handlers/http-request.js';
import { httpProbe } from './handlers/http.js';
import { resolveContainerPort } from './handlers/port.js';
import { tcpProbe } from './handlers/tcp.js';
import type { ProbeOutcome } from './handlers/types.js';
import { expandCommandStatic } from './expand.js';
import type { ResolvedProbe } from './spec.js';
import { resolveProbeTarget } from './target.js';
import type { ProbeResult, ProbeType } from './types.js';

/** The network/exec effects of probing; tests replace them with fakes. */
export interface ProbeHandlers {
  exec(req: ExecProbeRequest): Promise<ProbeOutcome>;
  http(req: HttpProbeRequest, timeoutMs: number, clock: Clock): Promise<ProbeOutcome>;
  tcp(ip: string, port: number, timeoutMs: number, clock: Clock): Promise<ProbeOutcome>;
  grpc(req: GrpcProbeRequest): Promise<ProbeOutcome>;
}

/** The real handlers. */
export const defaultProbeHandlers: ProbeHandlers = { exec: execProbe, http: httpProbe, tcp: tcpProbe, grpc: grpcProbe };

/** Upstream's retry count for prober errors. */
const MAX_PROBE_RETRIES = 3;

/** Upstream's display name of a probe type (`Liveness`). */
export function probeTypeName(t: ProbeType): string {
  return t === 'liveness' ? 'Liveness' : t === 'readiness' ? 'Readiness' : 'Startup';
}

/** The runtime ID inside a status container ID (`docker://abc` → `abc`). */
export function runtimeContainerID(containerID: string): string {
  const i = containerID.indexOf('://');
  return i < 0 ? containerID : containerID.slice(i + 3);
}

/** One probe to run. */
export interface ProbeInput {
  probeType: ProbeType;
  pod: V1Pod;
  container: V1Container;
  status: V1PodStatus;
  /** Container ID as in status (`docker://…`). */
  containerID: string;
  spec: ResolvedProbe;
}

/** What the worker gets back: a result to count, a prober error (thrown away), or "no target yet". */
export type ProbeRun = { kind: 'result'; result: ProbeResult } | { kind: 'error'; error: unknown } | { kind: 'pending' };

/** Options of {@link Prober}. */
export interface ProberOptions {
  runtime: Pick<ContainerManager, 'execSync'>;
  clock: Clock;
  nodeIP: string;
  recorder: EventRecorder | undefined;
  logger: Logger;
  userAgent: string;
  handlers: ProbeHandlers;
}

/** Executes probe actions and records their events. Stateless apart from its options; safe for concurrent calls. */
export class Prober {
  readonly #o: ProberOptions;

  constructor(options: ProberOptions) {
    this.#o = options;
  }

  /** Runs the probe (with retries on prober errors) and records events. Never rejects. */
  async probe(input: ProbeInput): Promise<ProbeRun> {
    let lastErr: unknown;
    let outcome: ProbeOutcome | 'pending' | undefined;
    for (let i = 0; i < MAX_PROBE_RETRIES && outcome === undefined; i++) {
      try {
        outcome = await this.runOnce(input);
      } catch (err) {
        lastErr = err;
      }
    }
    const name = probeTypeName(input.probeType);
    const ref = (): ObjectReference => containerRef(input.pod, input.container.name);
    if (outcome === undefined) {
      this.#event(ref(), 'Unhealthy', `${name} probe errored: ${errorMessage(lastErr)}`);
      return { kind: 'error', error: lastErr };
    }
    if (outcome === 'pending') return { kind: 'pending' };
    if (outcome.result === 'success') return { kind: 'result', result: 'success' };
    if (outcome.result === 'warning') {
      this.#event(ref(), 'ProbeWarning', `${name} probe warning: ${outcome.output}`);
      return { kind: 'result', result: 'success' };
    }
    this.#event(ref(), 'Unhealthy', `${name} probe failed: ${outcome.output}`);
    return { kind: 'result', result: 'failure' };
  }

  /** Runs the action once, no events. Throws for prober errors; 'pending' when the pod has no IP yet. */
  async runOnce(input: ProbeInput): Promise<ProbeOutcome | 'pending'> {
    const { spec, container, status, pod } = input;
    const a = spec.action;
    const timeoutMs = spec.timeoutSeconds * 1000;
    const h = this.#o.handlers;
    if (a.kind === 'exec') {
      return h.exec({
        runtime: this.#o.runtime,
        containerID: runtimeContainerID(input.containerID),
        command: expandCommandStatic(a.command, container.env),
        timeoutSeconds: spec.timeoutSeconds,
        clock: this.#o.clock,
      });
    }
    const host = a.kind === 'httpGet' ? a.action.host : a.kind === 'tcpSocket' ? a.host : undefined;
    const target = resolveProbeTarget(host, { pod, status, nodeIP: this.#o.nodeIP });
    if (!target.ok) {
      if (target.pending) return 'pending';
      return { result: 'failure', output: target.message };
    }
    if (a.kind === 'httpGet') {
      const req = buildHttpProbeRequest({
        action: a.action,
        container,
        hostname: target.hostname,
        ip: target.ip,
        userAgent: this.#o.userAgent,
      });
      return h.http(req, timeoutMs, this.#o.clock);
    }
    if (a.kind === 'tcpSocket') {
      return h.tcp(target.ip, resolveContainerPort(a.port, container), timeoutMs, this.#o.clock);
    }
    return h.grpc({
      ip: target.ip,
      port: a.port,
      service: a.service,
      timeoutSeconds: spec.timeoutSeconds,
      userAgent: this.#o.userAgent,
    });
  }

  #event(ref: ObjectReference, reason: string, message: string): void {
    try {
      this.#o.recorder?.event(ref, 'Warning', reason, message);
    } catch (err) {
      this.#o.logger.warn({ ...errorFields(err) }, 'Event recorder threw');
    }
  }
}
