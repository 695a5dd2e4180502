/**
 * Pod- and QoS-level cgroup settings as upstream computes them (pkg/kubelet/cm/helpers_linux.go
 * ResourceConfigForPod, qos_container_manager_linux.go). Pure.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { quantityMilliValue, quantityValue } from '../../util/quantity.js';
import { MIN_SHARES, milliCPUToQuota, milliCPUToShares, QUOTA_PERIOD } from '../security/resources.js';
import { qosClass } from '../security/qos.js';

/** Settings of one cgroup; undefined fields are left as the kernel has them (unlimited by default). */
export interface CgroupResources {
  cpuShares?: number;
  /** CFS quota in µs per `cpuPeriod`; -1 = unlimited. */
  cpuQuota?: number;
  cpuPeriod?: number;
  /** Bytes; -1 = unlimited. */
  memoryLimit?: number;
  /** -1 = unlimited. */
  pidsLimit?: number;
}

interface PodTotals {
  cpuRequestMilli: number;
  cpuLimitMilli: number;
  memoryLimit: number;
  allCpuLimited: boolean;
  allMemoryLimited: boolean;
}

/**
 * Sums the pod's effective requests/limits as upstream: app containers add up; an init container counts as the max
 * with the sum; sidecars (init containers with restartPolicy Always) add to everything after them; pod overhead adds.
 */
function podTotals(pod: V1Pod): PodTotals {
  const spec = pod.spec;
  let cpuReq = 0;
  let cpuLim = 0;
  let mem = 0;
  let allCpu = true;
  let allMem = true;
  for (const c of spec?.containers ?? []) {
    const r = c.resources;
    const lim = quantityMilliValue(r?.limits?.cpu, `spec.containers{${c.name}}.resources.limits.cpu`);
    cpuReq += quantityMilliValue(r?.requests?.cpu ?? r?.limits?.cpu, `spec.containers{${c.name}}.resources.requests.cpu`);
    cpuLim += lim;
    const m = quantityValue(r?.limits?.memory, `spec.containers{${c.name}}.resources.limits.memory`);
    mem += m;
    if (lim === 0) allCpu = false;
    if (m === 0) allMem = false;
  }
  let sidecarReq = 0;
  let sidecarLim = 0;
  let sidecarMem = 0;
  let initReq = 0;
  let initLim = 0;
  let initMem = 0;
  for (const c of spec?.initContainers ?? []) {
    const r = c.resources;
    const req = quantityMilliValue(r?.requests?.cpu ?? r?.limits?.cpu, `spec.initContainers{${c.name}}.resources.requests.cpu`);
    const lim = quantityMilliValue(r?.limits?.cpu, `spec.initContainers{${c.name}}.resources.limits.cpu`);
    const m = quantityValue(r?.limits?.memory, `spec.initContainers{${c.name}}.resources.limits.memory`);
    if (lim === 0) allCpu = false;
    if (m === 0) allMem = false;
    if (c.restartPolicy === 'Always') {
      sidecarReq += req;
      sidecarLim += lim;
      sidecarMem += m;
      continue;
    }
    initReq = Math.max(initReq, req + sidecarReq);
    initLim = Math.max(initLim, lim + sidecarLim);
    initMem = Math.max(initMem, m + sidecarMem);
  }
  const overhead = spec?.overhead ?? {};
  const ohCpu = quantityMilliValue(overhead.cpu, 'spec.overhead.cpu');
  const ohMem = quantityValue(overhead.memory, 'spec.overhead.memory');
  return {
    cpuRequestMilli: Math.max(cpuReq + sidecarReq, initReq) + ohCpu,
    cpuLimitMilli: Math.max(cpuLim + sidecarLim, initLim) + ohCpu,
    memoryLimit: Math.max(mem + sidecarMem, initMem) + ohMem,
    allCpuLimited: allCpu,
    allMemoryLimited: allMem,
  };
}

/**
 * The pod cgroup's settings (upstream ResourceConfigForPod): cpu.shares from the summed requests; CFS quota and
 * memory limit only when every container has that limit (Guaranteed always; Burstable when all are limited);
 * BestEffort gets the minimum shares and no limits. `pidsLimit` is podPidsLimit (-1 = unlimited).
 */
export function podCgroupResources(pod: V1Pod, opts: { cpuCFSQuota: boolean; pidsLimit: number }): CgroupResources {
  const qos = qosClass(pod);
  const out: CgroupResources = { pidsLimit: opts.pidsLimit > 0 ? opts.pidsLimit : -1 };
  if (qos === 'BestEffort') return { ...out, cpuShares: MIN_SHARES, cpuQuota: -1, memoryLimit: -1 };
  const t = podTotals(pod);
  out.cpuShares = milliCPUToShares(t.cpuRequestMilli);
  out.cpuPeriod = QUOTA_PERIOD;
  out.cpuQuota = opts.cpuCFSQuota && t.allCpuLimited && t.cpuLimitMilli > 0 ? milliCPUToQuota(t.cpuLimitMilli) : -1;
  out.memoryLimit = t.allMemoryLimited && t.memoryLimit > 0 ? t.memoryLimit : -1;
  return out;
}

/** cpu.shares of the burstable QoS cgroup: the summed CPU requests of its pods (upstream setCPUCgroupConfig). */
export function burstableShares(pods: readonly V1Pod[]): number {
  let milli = 0;
  for (const p of pods) if (qosClass(p) === 'Burstable') milli += podTotals(p).cpuRequestMilli;
  return milliCPUToShares(milli);
}

/** cgroup v1 cpu.shares → v2 cpu.weight (as runc converts). */
export function sharesToWeight(shares: number): number {
  if (shares === 0) return 100;
  return 1 + Math.floor(((shares - 2) * 9999) / 262142);
}
