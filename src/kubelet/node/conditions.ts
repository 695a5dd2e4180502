/**
 * Node conditions as pure functions of readings (upstream pkg/kubelet/nodestatus/setters.go): the order, types,
 * reasons and messages are upstream's. lastHeartbeatTime is `now` on every computation; lastTransitionTime moves only
 * when the status changes.
 */
import type { V1NodeCondition } from '@kubernetes/client-node';
import { thresholdValue } from '../../config/quantity.js';
import type { EvictionThresholds } from '../../config/types.js';
import type { HostReadings } from './host.js';

/** What the kubelet knows about the container runtime. */
export type RuntimeHealth =
  /** No check has completed yet. */
  | { state: 'unknown' }
  /** The runtime did not answer (`error` is for logs). */
  | { state: 'down'; error: string }
  /** The runtime answered; `conditions` are its RuntimeReady / NetworkReady conditions. */
  | { state: 'up'; conditions: { type: string; status: boolean; reason: string; message: string }[] };

/** Inputs of {@link computeConditions}. */
export interface ConditionInputs {
  runtime: RuntimeHealth;
  /** Other reasons the node is not ready (e.g. `PLEG is not healthy: …`), from the roles. */
  extraErrors: readonly string[];
  readings: HostReadings;
  evictionHard: EvictionThresholds;
  /**
   * The pressure conditions the eviction manager holds (its thresholds, grace periods and transition period); when
   * given they replace the comparison of `readings` with `evictionHard`.
   */
  pressure?: ReadonlySet<string>;
  /** Conditions currently on the Node (for lastTransitionTime); may be empty. */
  previous: readonly V1NodeCondition[];
  now: Date;
}

/** The reasons the node is not ready (upstream runtimeState.runtimeErrors + networkErrors), in upstream wording. */
export function readinessErrors(runtime: RuntimeHealth, extra: readonly string[]): string[] {
  const errs: string[] = [];
  if (runtime.state === 'unknown') errs.push('container runtime status check may not have completed yet');
  else if (runtime.state === 'down') errs.push('container runtime is down');
  else {
    for (const type of ['RuntimeReady', 'NetworkReady']) {
      const c = runtime.conditions.find((x) => x.type === type);
      if (c === undefined || c.status) continue;
      const what = type === 'RuntimeReady' ? 'container runtime not ready' : 'container runtime network not ready';
      errs.push(`${what}: ${type}=false reason:${c.reason} message:${c.message}`);
    }
  }
  return [...errs, ...extra];
}

/** Upstream aggregate error text: one error as is, several as `[a, b]`; the initial check is always bracketed. */
function aggregate(errs: string[]): string {
  if (errs.length === 1 && !errs[0]?.startsWith('container runtime status check')) return errs[0] ?? '';
  return `[${errs.join(', ')}]`;
}

function condition(
  type: string,
  status: boolean,
  reason: string,
  message: string,
  previous: readonly V1NodeCondition[],
  now: Date,
): V1NodeCondition {
  const text = status ? 'True' : 'False';
  const prev = previous.find((c) => c.type === type);
  const changed = prev === undefined || prev.status !== text;
  return {
    type,
    status: text,
    reason,
    message,
    lastHeartbeatTime: now,
    lastTransitionTime: changed || prev.lastTransitionTime === undefined ? now : new Date(prev.lastTransitionTime),
  };
}

/** True when `available` is below the threshold for `signal` (false when no threshold is set). */
function below(t: EvictionThresholds[keyof EvictionThresholds], available: number, capacity: number): boolean {
  return t !== undefined && capacity > 0 && available < thresholdValue(t, capacity);
}

/** Computes MemoryPressure, DiskPressure, PIDPressure and Ready (upstream order). */
export function computeConditions(input: ConditionInputs): V1NodeCondition[] {
  const { readings: r, evictionHard: e, previous, now } = input;
  const p = input.pressure;
  const memPressure = p !== undefined ? p.has('MemoryPressure') : below(e['memory.available'], r.memory.availableBytes, r.memory.totalBytes);
  const diskPressure =
    p !== undefined
      ? p.has('DiskPressure')
      : below(e['nodefs.available'], r.fs.availableBytes, r.fs.capacityBytes) || below(e['nodefs.inodesFree'], r.fs.inodesFree, r.fs.inodes);
  const pidPressure = p !== undefined ? p.has('PIDPressure') : below(e['pid.available'], r.pids.max - r.pids.running, r.pids.max);
  const errs = readinessErrors(input.runtime, input.extraErrors);
  return [
    memPressure
      ? condition('MemoryPressure', true, 'KubeletHasInsufficientMemory', 'kubelet has insufficient memory available', previous, now)
      : condition('MemoryPressure', false, 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available', previous, now),
    diskPressure
      ? condition('DiskPressure', true, 'KubeletHasDiskPressure', 'kubelet has disk pressure', previous, now)
      : condition('DiskPressure', false, 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure', previous, now),
    pidPressure
      ? condition('PIDPressure', true, 'KubeletHasInsufficientPID', 'kubelet has insufficient PID available', previous, now)
      : condition('PIDPressure', false, 'KubeletHasSufficientPID', 'kubelet has sufficient PID available', previous, now),
    errs.length === 0
      ? condition('Ready', true, 'KubeletReady', 'kubelet is posting ready status', previous, now)
      : condition('Ready', false, 'KubeletNotReady', aggregate(errs), previous, now),
  ];
}
