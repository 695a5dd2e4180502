/**
 * Container cgroup settings between the seam and Docker (pure): the body of `POST /containers/{id}/update` for an
 * in-place resize (CRI UpdateContainerResources, as cri-dockerd does it) and the settings a container runs with, read
 * back from its inspected HostConfig (Docker persists every update there).
 */
import type Docker from 'dockerode';
import type { LinuxContainerResources } from '../types.js';

/** The fields of Docker's ContainerUpdate body this backend sends. */
export interface DockerUpdate {
  CpuShares?: number;
  CpuPeriod?: number;
  CpuQuota?: number;
  Memory?: number;
  MemorySwap?: number;
}

/**
 * Docker update body for `r`. Only positive values are sent (Docker reads 0 as "leave as is"); the memory limit goes
 * with an equal MemorySwap, as at creation (no swap beyond the limit) — Docker refuses a Memory above the swap limit
 * already set otherwise.
 */
export function dockerUpdate(r: LinuxContainerResources): DockerUpdate {
  const out: DockerUpdate = {};
  if (r.cpuShares !== undefined && r.cpuShares > 0) out.CpuShares = r.cpuShares;
  if (r.cpuPeriod !== undefined && r.cpuPeriod > 0) out.CpuPeriod = r.cpuPeriod;
  if (r.cpuQuota !== undefined && r.cpuQuota > 0) out.CpuQuota = r.cpuQuota;
  if (r.memoryLimitInBytes !== undefined && r.memoryLimitInBytes > 0) {
    out.Memory = r.memoryLimitInBytes;
    out.MemorySwap = r.memoryLimitInBytes;
  }
  return out;
}

/** The settings of an inspected container (zero/unset values are left out: unlimited or the runtime default). */
export function resourcesFromHostConfig(host: Docker.HostConfig | undefined): LinuxContainerResources {
  const out: LinuxContainerResources = {};
  const pos = (v: number | undefined): number | undefined => (v !== undefined && v > 0 ? v : undefined);
  const shares = pos(host?.CpuShares);
  const quota = pos(host?.CpuQuota);
  const period = pos(host?.CpuPeriod);
  const memory = pos(host?.Memory);
  if (shares !== undefined) out.cpuShares = shares;
  if (quota !== undefined) out.cpuQuota = quota;
  if (period !== undefined) out.cpuPeriod = period;
  if (memory !== undefined) out.memoryLimitInBytes = memory;
  return out;
}
