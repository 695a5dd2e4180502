/**
 * Container cgroup settings from requests/limits, as upstream kuberuntime computes them
 * (pkg/kubelet/cm/helpers_linux.go, pkg/kubelet/qos/policy.go).
 */
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import type { LinuxContainerResources } from '../../cri/types.js';
import { quantityMilliValue, quantityValue } from '../../util/quantity.js';
import { qosClass } from './qos.js';

/** Smallest cpu.shares the kernel accepts (also what zero milliCPU maps to). */
export const MIN_SHARES = 2;
/** Largest cpu.shares value. */
export const MAX_SHARES = 262144;
/** Default CFS period in microseconds (100 ms). */
export const QUOTA_PERIOD = 100000;
const MIN_QUOTA_PERIOD = 1000;

/** oom_score_adj of Guaranteed (and node-critical) containers. */
export const GUARANTEED_OOM_SCORE_ADJ = -997;
/** oom_score_adj of BestEffort containers. */
export const BESTEFFORT_OOM_SCORE_ADJ = 1000;

/** milliCPU → cpu.shares: milliCPU × 1024 / 1000, clamped to [2, 262144]; 0 → 2. */
export function milliCPUToShares(milliCPU: number): number {
  if (milliCPU === 0) return MIN_SHARES;
  const shares = Math.floor((milliCPU * 1024) / 1000);
  return Math.min(MAX_SHARES, Math.max(MIN_SHARES, shares));
}

/** milliCPU → CFS quota over `period` µs (at least 1 ms); 0 → 0 (unlimited). */
export function milliCPUToQuota(milliCPU: number, period = QUOTA_PERIOD): number {
  if (milliCPU === 0) return 0;
  return Math.max(MIN_QUOTA_PERIOD, Math.floor((milliCPU * period) / 1000));
}

/**
 * oom_score_adj for a container (upstream `GetContainerOOMScoreAdjust`): node-critical and Guaranteed -997,
 * BestEffort 1000, Burstable 1000 - 1000 × memoryRequest / memoryCapacity clamped to [3, 999].
 */
export function containerOOMScoreAdj(pod: V1Pod, container: V1Container, memoryCapacityBytes: number): number {
  if (pod.spec?.priorityClassName === 'system-node-critical') return GUARANTEED_OOM_SCORE_ADJ;
  const qos = qosClass(pod);
  if (qos === 'Guaranteed') return GUARANTEED_OOM_SCORE_ADJ;
  if (qos === 'BestEffort') return BESTEFFORT_OOM_SCORE_ADJ;
  const req = container.resources?.requests?.memory ?? container.resources?.limits?.memory;
  const memoryRequest = quantityValue(req);
  const adj = 1000 - Math.trunc((1000 * memoryRequest) / Math.max(1, memoryCapacityBytes));
  if (adj < 1000 + GUARANTEED_OOM_SCORE_ADJ) return 1000 + GUARANTEED_OOM_SCORE_ADJ;
  if (adj === BESTEFFORT_OOM_SCORE_ADJ) return adj - 1;
  return adj;
}

/** Options for {@link containerResources}. */
export interface ContainerResourcesOptions {
  /** Node memory capacity for the Burstable oom_score_adj formula. */
  memoryCapacityBytes: number;
  /** Per-pod pids limit (podPidsLimit); undefined or -1 = unlimited. */
  pidsLimit?: number;
  /** Enforce CPU limits with CFS quota (cpuCFSQuota, default true). */
  cpuCFSQuota?: boolean;
}

/** The CRI LinuxContainerResources for a container. Throws InvalidError on a malformed quantity. */
export function containerResources(pod: V1Pod, c: V1Container, opts: ContainerResourcesOptions): LinuxContainerResources {
  const field = `spec.containers{${c.name}}.resources`;
  const cpuRequest = c.resources?.requests?.cpu;
  const cpuLimit = c.resources?.limits?.cpu;
  const reqMilli = quantityMilliValue(cpuRequest, `${field}.requests.cpu`);
  const limMilli = quantityMilliValue(cpuLimit, `${field}.limits.cpu`);
  const out: LinuxContainerResources = {
    cpuShares: milliCPUToShares(reqMilli === 0 && limMilli !== 0 ? limMilli : reqMilli),
    oomScoreAdj: containerOOMScoreAdj(pod, c, opts.memoryCapacityBytes),
  };
  const mem = quantityValue(c.resources?.limits?.memory, `${field}.limits.memory`);
  if (mem > 0) out.memoryLimitInBytes = mem;
  if ((opts.cpuCFSQuota ?? true) && limMilli > 0) {
    out.cpuPeriod = QUOTA_PERIOD;
    out.cpuQuota = milliCPUToQuota(limMilli, QUOTA_PERIOD);
  }
  if (opts.pidsLimit !== undefined && opts.pidsLimit > 0) out.pidsLimit = opts.pidsLimit;
  return out;
}
