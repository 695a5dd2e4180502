/**
 * Container statuses for the API (upstream convertToAPIContainerStatuses), pure: from the spec, the runtime records
 * and the reasons the last sync left (CrashLoopBackOff, ErrImagePull, …).
 */
import type { V1Container, V1ContainerState, V1ContainerStatus, V1Pod, V1PodStatus } from '@kubernetes/client-node';
import { statusResources, type AllocatedResources } from './resources.js';
import { containerHistory, type ContainerRecord, type PodRuntimeState } from '../podstate/records.js';
import { isSidecar, shouldRestart } from '../podstate/policy.js';
import { probeReadiness, type PodProbeResults } from '../../probes/index.js';
import { apiTime } from './time.js';

/** Why a container is waiting, as the last sync saw it. */
export interface WaitingReason {
  reason: string;
  message: string;
}

/** Inputs of {@link convertContainerStatuses}. */
export interface ContainerStatusInput {
  pod: V1Pod;
  state: PodRuntimeState;
  /** Waiting reasons by container name from the last sync. */
  reasons: ReadonlyMap<string, WaitingReason>;
  /** `docker`, `containerd`, … (containerID prefix). */
  runtimeName: string;
  /**
   * Allocated resources by container name (in-place resize; only resizable containers have one): fills each
   * container status's `resources` (status/resources.ts). Undefined: no `resources` are reported.
   */
  allocation?: Readonly<Record<string, AllocatedResources>>;
  /** Also report `allocatedResources` (upstream gate InPlacePodVerticalScalingAllocatedStatus, off by default in v1.33). */
  reportAllocatedResources?: boolean;
  /** The status reported before (container `resources` the runtime no longer reports are kept from it). */
  oldStatus?: V1PodStatus;
}

/** `docker://<id>`. */
export function containerIDString(runtimeName: string, id: string): string {
  return `${runtimeName}://${id}`;
}

/** imageID as the API shows it: `docker-pullable://repo@sha256:…` for digests, else the image id. */
export function imageIDString(imageRef: string): string {
  if (imageRef === '') return '';
  if (imageRef.includes('@')) return `docker-pullable://${imageRef}`;
  return imageRef;
}

/** Terminated state of a dead container record. */
export function terminatedState(rec: ContainerRecord, runtimeName: string): V1ContainerState {
  const reason = rec.reason !== '' ? rec.reason : rec.exitCode === 0 ? 'Completed' : 'Error';
  return {
    terminated: {
      exitCode: rec.exitCode,
      reason,
      message: rec.message === '' ? undefined : rec.message,
      startedAt: apiTime(rec.startedAt),
      finishedAt: apiTime(rec.finishedAt),
      containerID: containerIDString(runtimeName, rec.id),
    },
  };
}

function stateOf(rec: ContainerRecord, runtimeName: string): V1ContainerState {
  switch (rec.state) {
    case 'running':
      return { running: { startedAt: apiTime(rec.startedAt) } };
    case 'exited':
      return terminatedState(rec, runtimeName);
    case 'created':
      return { waiting: { reason: 'ContainerCreating' } };
    default:
      return { waiting: { reason: 'ContainerCreating', message: 'container state unknown' } };
  }
}

function one(c: V1Container, isInit: boolean, input: ContainerStatusInput, defaultReason: string): V1ContainerStatus {
  const [cur, prev] = containerHistory(input.state, c.name);
  const status: V1ContainerStatus = {
    name: c.name,
    image: c.image ?? '',
    imageID: '',
    ready: false,
    restartCount: 0,
    started: false,
    state: { waiting: { reason: defaultReason } },
  };
  if (cur !== undefined) {
    status.state = stateOf(cur, input.runtimeName);
    status.containerID = containerIDString(input.runtimeName, cur.id);
    status.imageID = imageIDString(cur.imageRef);
    status.restartCount = cur.restartCount;
    status.started = cur.state === 'running';
    if (prev !== undefined && prev.state === 'exited') status.lastState = terminatedState(prev, input.runtimeName);
    const alloc = input.allocation?.[c.name];
    const old = [...(input.oldStatus?.containerStatuses ?? []), ...(input.oldStatus?.initContainerStatuses ?? [])].find((s) => s.name === c.name);
    const resources = statusResources(alloc, cur, old, status.containerID);
    if (resources !== undefined) status.resources = resources;
    if (input.reportAllocatedResources === true && alloc?.requests !== undefined) status.allocatedResources = { ...alloc.requests };
  }
  const waiting = input.reasons.get(c.name);
  if (waiting !== undefined && shouldRestart(input.pod, c, cur, isInit)) {
    const initDone = isInit && !isSidecar(c) && cur?.state === 'exited' && cur.exitCode === 0;
    if (!initDone) {
      if (status.state?.terminated !== undefined) status.lastState = status.state;
      status.state = { waiting: { reason: waiting.reason, message: waiting.message || undefined } };
    }
  }
  return status;
}

/** Statuses of the app containers (`isInit` false) or init containers, in spec order. */
export function convertContainerStatuses(input: ContainerStatusInput, isInit: boolean): V1ContainerStatus[] {
  const spec = input.pod.spec;
  const list = (isInit ? spec?.initContainers : spec?.containers) ?? [];
  const hasInit = (spec?.initContainers ?? []).length > 0;
  const defaultReason = hasInit ? 'PodInitializing' : 'ContainerCreating';
  return list.map((c) => one(c, isInit, input, defaultReason));
}

/** Statuses of the ephemeral containers (`kubectl debug`), in spec order; never ready, never restarted. */
export function convertEphemeralStatuses(input: ContainerStatusInput): V1ContainerStatus[] {
  return (input.pod.spec?.ephemeralContainers ?? []).map((e) => {
    const s = one(e as V1Container, false, input, 'ContainerCreating');
    s.ready = false;
    return s;
  });
}

/**
 * Fills `started` and `ready` of freshly converted statuses from the probe results (upstream UpdatePodStatus): app
 * containers and sidecars (init containers with `restartPolicy: Always`) are started once running and past their
 * startup probe, ready once started and past their readiness probe; a regular init container is ready when it exited
 * 0. Without probe results (`NO_PROBE_RESULTS`), running means started and ready. Mutates the statuses it was given
 * (they are this computation's own output, not a status reported before).
 */
export function applyProbeResults(statuses: V1ContainerStatus[], specs: readonly V1Container[], isInit: boolean, probes: PodProbeResults): void {
  for (const s of statuses) {
    const running = s.state?.running !== undefined;
    const r = probeReadiness(probes, s.name, s.containerID ?? '', running);
    s.started = r.started;
    const spec = specs.find((c) => c.name === s.name);
    s.ready = isInit && (spec === undefined || !isSidecar(spec)) ? s.state?.terminated?.exitCode === 0 : r.ready;
  }
}
