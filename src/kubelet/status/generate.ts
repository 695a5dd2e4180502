/**
 * The whole pod status the kubelet reports (upstream generateAPIPodStatus), pure: plain data in, a V1PodStatus out.
 */
import type { V1Pod, V1PodCondition, V1PodStatus } from '@kubernetes/client-node';
import type { PodRuntimeState } from '../podstate/records.js';
import { NO_PROBE_RESULTS, type PodProbeResults } from '../../probes/index.js';
import { applyProbeResults, convertContainerStatuses, convertEphemeralStatuses, type WaitingReason } from './containers.js';
import { computeConditions } from './conditions.js';
import type { AllocatedResources } from './resources.js';
import { withDisruptionTarget } from './disruption.js';
import { computePodPhase, isTerminalPhase } from './phase.js';
import { qosClass } from '../security/qos.js';
import { apiTime } from './time.js';

/** A pod-level terminal failure decided by the kubelet (admission rejection, deadline, eviction). */
export interface PodFailure {
  reason: string;
  message: string;
  /** Grace period for killing the pod's containers (eviction: 0 for hard thresholds); default the pod's own. */
  gracePeriodSeconds?: number;
  /** Ended by the eviction manager (upstream KillPodOptions.Evict): its containers are garbage-collected. */
  evicted?: boolean;
  /**
   * The `DisruptionTarget` condition (status True) to report with the terminal status (eviction, node shutdown:
   * reason `TerminationByKubelet`).
   */
  disruptionTarget?: { reason: string; message: string };
}

/** Inputs of {@link generatePodStatus}. */
export interface GenerateInput {
  pod: V1Pod;
  state: PodRuntimeState;
  reasons: ReadonlyMap<string, WaitingReason>;
  /** The status last reported (from the cache or the API object); source of times to carry over. */
  oldStatus: V1PodStatus | undefined;
  /**
   * The status the API object has now (informer), when there is one: conditions written by others (readiness
   * gates) are read from it, so a gate set through the status subresource is seen and never overwritten.
   */
  apiStatus?: V1PodStatus;
  now: number;
  hostIPs: string[];
  runtimeName: string;
  /** The worker decided nothing will run again (terminating/terminated). */
  podIsTerminal: boolean;
  failure?: PodFailure;
  /** The pod's probe results (ProberManager.results) as data; default: no probes (running ⇒ started and ready). */
  probes?: PodProbeResults;
  /** PodResizePending / PodResizeInProgress as the allocation manager holds them (kubelet-owned, added as given). */
  resizeConditions?: V1PodCondition[];
  /** Allocated resources by container name (in-place resize): container statuses get `resources` from them. */
  allocation?: Readonly<Record<string, AllocatedResources>>;
  /** Report `allocatedResources` too (off by default, as upstream v1.33). */
  reportAllocatedResources?: boolean;
}

/** Pure: the pod status. Never regresses a terminal phase found in `oldStatus`. */
export function generatePodStatus(input: GenerateInput): V1PodStatus {
  const { pod, state } = input;
  const init = convertContainerStatuses(input, true);
  const app = convertContainerStatuses(input, false);
  const status: V1PodStatus = { initContainerStatuses: init, containerStatuses: app };
  const probes = input.probes ?? NO_PROBE_RESULTS;
  applyProbeResults(init, pod.spec?.initContainers ?? [], true, probes);
  applyProbeResults(app, pod.spec?.containers ?? [], false, probes);
  const old = input.oldStatus;
  let phase: string = computePodPhase(pod, init, app, input.podIsTerminal);
  if (input.failure !== undefined) {
    phase = 'Failed';
    status.reason = input.failure.reason;
    status.message = input.failure.message;
  } else if (isTerminalPhase(old?.phase)) {
    phase = old?.phase ?? phase;
    status.reason = old?.reason;
    status.message = old?.message;
  }
  status.phase = phase;
  const network = pod.spec?.hostNetwork === true;
  const sandbox = state.sandboxes[0];
  const sandboxReady = sandbox !== undefined && sandbox.ready && (network || sandbox.ips.length > 0);
  let ips = network ? input.hostIPs : sandbox?.ready === true ? sandbox.ips : [];
  if (ips.length === 0 && old?.podIPs !== undefined) ips = old.podIPs.map((p) => p.ip);
  if (ips.length > 0) {
    status.podIP = ips[0];
    status.podIPs = ips.map((ip) => ({ ip }));
  }
  if (input.hostIPs.length > 0) {
    status.hostIP = input.hostIPs[0];
    status.hostIPs = input.hostIPs.map((ip) => ({ ip }));
  }
  const now = apiTime(input.now) ?? new Date(0);
  status.startTime = old?.startTime ?? now;
  status.conditions = computeConditions({
    pod,
    init,
    app,
    phase,
    sandboxReady,
    oldConditions: old?.conditions ?? [],
    apiConditions: input.apiStatus === undefined ? undefined : (input.apiStatus.conditions ?? []),
    now,
    resizeConditions: input.resizeConditions,
  });
  if (input.failure?.disruptionTarget !== undefined) {
    status.conditions = withDisruptionTarget(status.conditions, input.failure.disruptionTarget, old?.conditions, now);
  }
  status.qosClass = qosClass(pod);
  if ((pod.spec?.initContainers ?? []).length === 0) delete status.initContainerStatuses;
  if ((pod.spec?.ephemeralContainers ?? []).length > 0) status.ephemeralContainerStatuses = convertEphemeralStatuses(input);
  return status;
}
