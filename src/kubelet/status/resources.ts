/**
 * `status.containerStatuses[].resources` (and `allocatedResources`) under in-place resize, as upstream v1.33
 * convertContainerStatusResources computes them. Pure. Starts from the container's allocated resources; for a running
 * container the values the runtime reports it runs with replace them (CPU limit from the CFS quota, CPU request from
 * the shares, memory limit), or, when the runtime reports nothing, the values the previous status showed for the same
 * container are kept. Containers without an allocation (regular init and ephemeral containers) get none.
 */
import type { V1ContainerStatus, V1ResourceRequirements } from '@kubernetes/client-node';
import type { LinuxContainerResources } from '../../cri/types.js';
import { formatMilliCPU, quantityMilliValue } from '../../util/quantity.js';
import type { ContainerRecord } from '../podstate/records.js';

/** Requests and limits as allocated (quantities as strings). */
export interface AllocatedResources {
  requests?: Record<string, string>;
  limits?: Record<string, string>;
}

/** Upstream cm.MinShares and cm.MinMilliCPULimit. */
const MIN_SHARES = 2;
const MIN_MILLI_CPU_LIMIT = 10;

/** cpu.shares → millicores, rounded up (upstream sharesToMilliCPU). */
export function sharesToMilliCPU(shares: number): number {
  return shares >= MIN_SHARES ? Math.ceil((shares * 1000) / 1024) : 0;
}

/** CFS quota → millicores (upstream quotaToMilliCPU). */
export function quotaToMilliCPU(quota: number, period: number): number {
  return quota <= 0 || period <= 0 ? 0 : Math.floor((quota * 1000) / period);
}

const BINARY_SUFFIXES = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];

/** Bytes as a binary-SI quantity the way the API prints it (`64Mi`, `1536Ki`, `100000000`). */
export function formatBytes(bytes: number): string {
  let v = Math.max(0, Math.round(bytes));
  let i = 0;
  while (v >= 1024 && v % 1024 === 0 && i < BINARY_SUFFIXES.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v}${BINARY_SUFFIXES[i] ?? ''}`;
}

const milli = (q: string | undefined): number => {
  try {
    return quantityMilliValue(q);
  } catch {
    return 0;
  }
};

/**
 * The container status's `resources` (see module comment). `old` is the container's status reported before (same
 * name), `containerID` the one being reported now.
 */
export function statusResources(
  alloc: AllocatedResources | undefined,
  rec: ContainerRecord | undefined,
  old: V1ContainerStatus | undefined,
  containerID: string,
): V1ResourceRequirements | undefined {
  if (alloc === undefined || rec === undefined) return undefined;
  const out: V1ResourceRequirements = {};
  if (alloc.requests !== undefined) out.requests = { ...alloc.requests };
  if (alloc.limits !== undefined) out.limits = { ...alloc.limits };
  if (rec.state !== 'running') return out;
  const actual: LinuxContainerResources | undefined = rec.resources;
  const sameRunning = old?.state?.running !== undefined && old.containerID === containerID;
  const keep = (list: 'requests' | 'limits', name: string): void => {
    const v = (old?.resources?.[list] as Record<string, string> | undefined)?.[name];
    const target = out[list] as Record<string, string> | undefined;
    if (sameRunning && v !== undefined && target !== undefined) target[name] = v;
  };
  if (out.limits !== undefined) {
    const limits = out.limits as Record<string, string>;
    if (actual !== undefined && (actual.cpuQuota ?? 0) > 0) {
      const m = quotaToMilliCPU(actual.cpuQuota ?? 0, actual.cpuPeriod ?? 100_000);
      if (m > MIN_MILLI_CPU_LIMIT || milli(limits['cpu']) > MIN_MILLI_CPU_LIMIT) limits['cpu'] = formatMilliCPU(m);
    } else keep('limits', 'cpu');
    if (actual !== undefined && (actual.memoryLimitInBytes ?? 0) > 0) limits['memory'] = formatBytes(actual.memoryLimitInBytes ?? 0);
    else keep('limits', 'memory');
  }
  if (out.requests !== undefined) {
    const requests = out.requests as Record<string, string>;
    if (actual !== undefined && (actual.cpuShares ?? 0) > 0) {
      const m = sharesToMilliCPU(actual.cpuShares ?? 0);
      if (m > MIN_SHARES || milli(requests['cpu']) > MIN_SHARES) requests['cpu'] = formatMilliCPU(m);
    } else keep('requests', 'cpu');
  }
  return out;
}
