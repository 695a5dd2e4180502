/**
 * The Summary API (`/stats/summary`), upstream type statsapi.Summary (k8s.io/kubelet/pkg/apis/stats/v1alpha1), built
 * from a snapshot by pure functions. Field names and omissions follow the Go JSON tags (`omitempty` pointers are left
 * out when unknown).
 */
import type { CgroupStats } from './cgroup.js';
import type { ContainerSample, NodeSample, PodSample, StatsSnapshot } from './collect.js';
import type { DirUsage, FsUsage } from './fs.js';
import type { InterfaceCounters } from './net.js';

/** statsapi.CPUStats. */
export interface CPUStats {
  time: string;
  usageNanoCores?: number;
  usageCoreNanoSeconds?: number;
}

/** statsapi.MemoryStats. */
export interface MemoryStats {
  time: string;
  availableBytes?: number;
  usageBytes?: number;
  workingSetBytes?: number;
  rssBytes?: number;
  pageFaults?: number;
  majorPageFaults?: number;
}

/** statsapi.FsStats. */
export interface FsStats {
  time: string;
  availableBytes?: number;
  capacityBytes?: number;
  usedBytes?: number;
  inodesFree?: number;
  inodes?: number;
  inodesUsed?: number;
}

/** statsapi.InterfaceStats. */
export interface InterfaceStats {
  name: string;
  rxBytes?: number;
  rxErrors?: number;
  txBytes?: number;
  txErrors?: number;
}

/** statsapi.NetworkStats (the default interface inline, all interfaces in `interfaces`). */
export interface NetworkStats extends InterfaceStats {
  time: string;
  interfaces?: InterfaceStats[];
}

/** statsapi.ContainerStats. */
export interface ContainerStats {
  name: string;
  startTime: string;
  cpu?: CPUStats;
  memory?: MemoryStats;
  rootfs?: FsStats;
  logs?: FsStats;
}

/** statsapi.VolumeStats. */
export interface VolumeStats extends FsStats {
  name: string;
  pvcRef?: { name: string; namespace: string };
}

/** statsapi.PodStats. */
export interface PodStats {
  podRef: { name: string; namespace: string; uid: string };
  startTime: string;
  containers: ContainerStats[];
  cpu?: CPUStats;
  memory?: MemoryStats;
  network?: NetworkStats;
  volume?: VolumeStats[];
  'ephemeral-storage'?: FsStats;
  process_stats?: { process_count?: number };
}

/** statsapi.NodeStats. */
export interface NodeStats {
  nodeName: string;
  systemContainers?: ContainerStats[];
  startTime: string;
  cpu?: CPUStats;
  memory?: MemoryStats;
  network?: NetworkStats;
  fs?: FsStats;
  runtime?: { imageFs?: FsStats; containerFs?: FsStats };
  rlimit?: { time: string; maxpid?: number; curproc?: number };
}

/** statsapi.Summary. */
export interface Summary {
  node: NodeStats;
  pods: PodStats[];
}

/** metav1.Time: RFC 3339 with seconds. */
export function rfc3339(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

function cpuStats(time: string, s: CgroupStats | undefined, nanoCores: number | undefined): CPUStats | undefined {
  if (s?.cpuUsageNanos === undefined) return undefined;
  const out: CPUStats = { time };
  if (nanoCores !== undefined) out.usageNanoCores = nanoCores;
  out.usageCoreNanoSeconds = Math.round(s.cpuUsageNanos);
  return out;
}

function memoryStats(time: string, s: CgroupStats | undefined, capacity?: number): MemoryStats | undefined {
  const m = s?.memory;
  if (m === undefined) return undefined;
  const limit = m.limitBytes ?? capacity;
  const out: MemoryStats = { time };
  if (limit !== undefined) out.availableBytes = Math.max(0, limit - m.workingSetBytes);
  out.usageBytes = m.usageBytes;
  out.workingSetBytes = m.workingSetBytes;
  out.rssBytes = m.rssBytes;
  out.pageFaults = m.pageFaults;
  out.majorPageFaults = m.majorPageFaults;
  return out;
}

function fsStats(time: string, fs: FsUsage | undefined, used?: DirUsage): FsStats | undefined {
  if (fs === undefined && used === undefined) return undefined;
  const out: FsStats = { time };
  if (fs !== undefined) {
    out.availableBytes = fs.availableBytes;
    out.capacityBytes = fs.capacityBytes;
  }
  out.usedBytes = used !== undefined ? used.bytes : fs!.usedBytes;
  if (fs !== undefined) {
    out.inodesFree = fs.inodesFree;
    out.inodes = fs.inodes;
  }
  out.inodesUsed = used !== undefined ? used.inodes : fs!.inodes - fs!.inodesFree;
  return out;
}

/** The default interface is eth0 (upstream network.DefaultInterfaceName); all interfaces are listed. */
export function networkStats(time: string, ifaces: InterfaceCounters[] | undefined): NetworkStats | undefined {
  if (ifaces === undefined) return undefined;
  const list: InterfaceStats[] = ifaces.map((i) => ({ name: i.name, rxBytes: i.rxBytes, rxErrors: i.rxErrors, txBytes: i.txBytes, txErrors: i.txErrors }));
  const def = list.find((i) => i.name === 'eth0');
  return { time, ...(def ?? { name: '' }), interfaces: list };
}

function containerStats(time: string, c: ContainerSample, imageFs: FsUsage | undefined, logsFs: FsUsage | undefined): ContainerStats {
  const out: ContainerStats = { name: c.name, startTime: rfc3339(c.createdAtMs) };
  const cpu = cpuStats(time, c.stats, c.nanoCores);
  if (cpu) out.cpu = cpu;
  const mem = memoryStats(time, c.stats);
  if (mem) out.memory = mem;
  if (imageFs !== undefined) {
    // Writable-layer usage is not known through the runtime seam: capacity and availability only.
    out.rootfs = { time, availableBytes: imageFs.availableBytes, capacityBytes: imageFs.capacityBytes, inodesFree: imageFs.inodesFree, inodes: imageFs.inodes };
  }
  const logs = fsStats(time, logsFs, c.logs ?? { bytes: 0, inodes: 0 });
  if (logs) out.logs = logs;
  return out;
}

function addMem(a: CgroupStats['memory'], b: CgroupStats['memory']): CgroupStats['memory'] {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return {
    usageBytes: a.usageBytes + b.usageBytes,
    workingSetBytes: a.workingSetBytes + b.workingSetBytes,
    rssBytes: a.rssBytes + b.rssBytes,
    pageFaults: a.pageFaults + b.pageFaults,
    majorPageFaults: a.majorPageFaults + b.majorPageFaults,
    limitBytes: undefined,
  };
}

/** A pod's usage: its own cgroup (kubepods hierarchy), else its sandbox plus its containers. */
export function podTotals(p: PodSample): CgroupStats | undefined {
  if (p.podStats !== undefined) return p.podStats;
  const parts = [p.sandboxStats, ...p.containers.map((c) => c.stats)].filter((s): s is CgroupStats => s !== undefined);
  if (parts.length === 0) return undefined;
  let cpu: number | undefined;
  let memory: CgroupStats['memory'];
  let pids: number | undefined;
  for (const s of parts) {
    if (s.cpuUsageNanos !== undefined) cpu = (cpu ?? 0) + s.cpuUsageNanos;
    memory = addMem(memory, s.memory);
    if (s.pids !== undefined) pids = (pids ?? 0) + s.pids;
  }
  return { cpuUsageNanos: cpu, memory, pids };
}

function podStats(time: string, p: PodSample, node: NodeSample): PodStats {
  const out: PodStats = {
    podRef: { name: p.name, namespace: p.namespace, uid: p.uid },
    startTime: rfc3339(p.startTimeMs),
    containers: p.containers.map((c) => containerStats(time, c, node.imageFs, node.rootFs)),
  };
  const totals = podTotals(p);
  const cpu = cpuStats(time, totals, p.cpuNanoCores);
  if (cpu) out.cpu = cpu;
  const mem = memoryStats(time, totals);
  if (mem) out.memory = mem;
  const net = networkStats(time, p.network);
  if (net) out.network = net;
  const vols: VolumeStats[] = [];
  let ephBytes = p.logs?.bytes ?? 0;
  let ephInodes = p.logs?.inodes ?? 0;
  for (const v of p.volumes) {
    const fs = fsStats(time, v.fs, v.du);
    if (fs === undefined) continue;
    const vs: VolumeStats = { ...fs, name: v.name };
    if (v.pvcName !== undefined) vs.pvcRef = { name: v.pvcName, namespace: p.namespace };
    vols.push(vs);
    if (v.plugin === 'empty-dir' && v.du !== undefined) {
      ephBytes += v.du.bytes;
      ephInodes += v.du.inodes;
    }
  }
  if (vols.length > 0) out.volume = vols;
  const eph = fsStats(time, node.rootFs, { bytes: ephBytes, inodes: ephInodes });
  if (eph) out['ephemeral-storage'] = eph;
  if (totals?.pids !== undefined) out.process_stats = { process_count: totals.pids };
  return out;
}

function nodeStats(s: StatsSnapshot, time: string): NodeStats {
  const n = s.node;
  const out: NodeStats = { nodeName: s.nodeName, startTime: rfc3339(n.bootTimeMs) };
  const sys: ContainerStats[] = [];
  if (n.kubelet !== undefined && n.kubelet.stats !== undefined) {
    const k: ContainerStats = { name: 'kubelet', startTime: rfc3339(n.bootTimeMs) };
    const cpu = cpuStats(time, n.kubelet.stats, n.kubelet.nanoCores);
    if (cpu) k.cpu = cpu;
    const mem = memoryStats(time, n.kubelet.stats);
    if (mem) k.memory = mem;
    sys.push(k);
  }
  const podsCpu = s.pods.reduce<number | undefined>((acc, p) => (p.cpuNanoCores === undefined ? acc : (acc ?? 0) + p.cpuNanoCores), undefined);
  let podsTotals: CgroupStats | undefined;
  for (const p of s.pods) {
    const t = podTotals(p);
    if (t === undefined) continue;
    podsTotals = {
      cpuUsageNanos: (podsTotals?.cpuUsageNanos ?? 0) + (t.cpuUsageNanos ?? 0),
      memory: addMem(podsTotals?.memory, t.memory),
      pids: undefined,
    };
  }
  const pods: ContainerStats = { name: 'pods', startTime: rfc3339(n.bootTimeMs) };
  const pc = cpuStats(time, podsTotals ?? { cpuUsageNanos: 0, memory: undefined, pids: undefined }, podsCpu ?? 0);
  if (pc) pods.cpu = pc;
  const pm = memoryStats(time, podsTotals, n.memoryCapacity);
  if (pm) pods.memory = pm;
  sys.push(pods);
  out.systemContainers = sys;
  const cpu = cpuStats(time, n.stats, n.nanoCores);
  if (cpu) out.cpu = cpu;
  const mem = memoryStats(time, n.stats, n.memoryCapacity);
  if (mem) out.memory = mem;
  const net = networkStats(time, n.network);
  if (net) out.network = net;
  const fs = fsStats(time, n.rootFs);
  if (fs) out.fs = fs;
  if (n.imageFs !== undefined) {
    const img = fsStats(time, n.imageFs, { bytes: n.imageFs.imagesBytes, inodes: n.imageFs.inodes - n.imageFs.inodesFree });
    if (img) {
      // Upstream: imageFs usedBytes is what images take; containerFs is the same file system here.
      out.runtime = { imageFs: img, containerFs: img };
    }
  }
  out.rlimit = { time };
  if (n.maxPid !== undefined) out.rlimit.maxpid = n.maxPid;
  if (n.curProc !== undefined) out.rlimit.curproc = n.curProc;
  return out;
}

/**
 * Builds the Summary. With `onlyCpuAndMemory` (`?only_cpu_and_memory=true`) node and pods carry only CPU and memory
 * (and pods their containers' CPU and memory), as upstream.
 */
export function buildSummary(s: StatsSnapshot, onlyCpuAndMemory = false): Summary {
  const time = rfc3339(s.atMs);
  const node = nodeStats(s, time);
  const pods = s.pods.map((p) => podStats(time, p, s.node));
  if (!onlyCpuAndMemory) return { node, pods };
  const cm = <T extends { cpu?: CPUStats; memory?: MemoryStats }>(x: T): Pick<T, 'cpu' | 'memory'> => ({ ...(x.cpu ? { cpu: x.cpu } : {}), ...(x.memory ? { memory: x.memory } : {}) });
  return {
    node: { nodeName: node.nodeName, systemContainers: node.systemContainers?.map((c) => ({ name: c.name, startTime: c.startTime, ...cm(c) })), startTime: node.startTime, ...cm(node) },
    pods: pods.map((p) => ({ podRef: p.podRef, startTime: p.startTime, containers: p.containers.map((c) => ({ name: c.name, startTime: c.startTime, ...cm(c) })), ...cm(p) })),
  };
}
