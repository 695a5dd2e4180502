/**
 * Reading container and node usage from cgroupfs, v1 (one hierarchy per controller) and v2 (unified), the way cAdvisor
 * does: CPU from cpuacct.usage / cpu.stat usage_usec, memory usage, working set (usage − inactive file), RSS and page
 * faults from memory.stat, process count from pids.current. Pure functions over a {@link StatsFs}.
 */
import type { StatsFs } from './fs.js';

/** Which cgroup interface the host mounts at `root`. */
export interface CgroupLayout {
  version: 1 | 2;
  /** Mount point of the cgroup file systems (default /sys/fs/cgroup). */
  root: string;
}

/** Memory of a cgroup, in bytes (page faults are counts). */
export interface CgroupMemory {
  usageBytes: number;
  workingSetBytes: number;
  rssBytes: number;
  pageFaults: number;
  majorPageFaults: number;
  /** The cgroup's limit; undefined when unlimited. */
  limitBytes: number | undefined;
}

/** One reading of a cgroup. Fields are undefined when the controller's files are missing. */
export interface CgroupStats {
  /** Cumulative CPU time of all tasks, nanoseconds. */
  cpuUsageNanos: number | undefined;
  memory: CgroupMemory | undefined;
  /** Number of tasks (pids.current). */
  pids: number | undefined;
}

/** v2 when the unified hierarchy is mounted at `root` (it has cgroup.controllers), else v1. */
export function detectCgroupLayout(fs: StatsFs, root = '/sys/fs/cgroup'): CgroupLayout {
  return { version: fs.readFile(`${root}/cgroup.controllers`) !== undefined ? 2 : 1, root };
}

/** Parses `key value` lines (memory.stat, cpu.stat) into numbers. */
export function parseKeyValues(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const sp = line.indexOf(' ');
    if (sp <= 0) continue;
    const v = Number(line.slice(sp + 1).trim());
    if (Number.isFinite(v)) out.set(line.slice(0, sp), v);
  }
  return out;
}

function num(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const t = text.trim();
  if (t === '' || t === 'max') return undefined;
  const v = Number(t);
  return Number.isFinite(v) ? v : undefined;
}

/** v1 "unlimited" is a page-aligned near-2^63 value. */
function limit(v: number | undefined): number | undefined {
  return v === undefined || v >= 2 ** 62 ? undefined : v;
}

function join(base: string, rel: string): string {
  return rel === '/' || rel === '' ? base : `${base}${rel.startsWith('/') ? '' : '/'}${rel}`;
}

function v1Dir(layout: CgroupLayout, controller: 'memory' | 'pids', rel: string): string {
  return join(`${layout.root}/${controller}`, rel);
}

/** cpuacct.usage of a v1 cgroup, from `cpuacct` or else `cpu,cpuacct` (one read when the first one has it). */
function v1CpuUsage(fs: StatsFs, layout: CgroupLayout, rel: string): string | undefined {
  return fs.readFile(`${join(`${layout.root}/cpuacct`, rel)}/cpuacct.usage`) ?? fs.readFile(`${join(`${layout.root}/cpu,cpuacct`, rel)}/cpuacct.usage`);
}

function workingSet(usage: number, inactiveFile: number): number {
  return usage > inactiveFile ? usage - inactiveFile : 0;
}

/**
 * Reads a v1 cgroup. With `mustExist`, a cgroup whose memory.usage_in_bytes cannot be read is checked for existence
 * (cgroup.procs of the memory hierarchy, as {@link cgroupExists}) and undefined is returned when it is gone — so an
 * existing cgroup costs no extra read.
 */
function readV1(fs: StatsFs, layout: CgroupLayout, rel: string, mustExist = false): CgroupStats | undefined {
  const memDir = v1Dir(layout, 'memory', rel);
  const usageText = fs.readFile(`${memDir}/memory.usage_in_bytes`);
  if (mustExist && usageText === undefined && !cgroupExists(fs, layout, rel)) return undefined;
  const cpuUsageNanos = num(v1CpuUsage(fs, layout, rel));
  let memory: CgroupMemory | undefined;
  const usage = num(usageText);
  const statText = usage === undefined ? undefined : fs.readFile(`${memDir}/memory.stat`);
  if (usage !== undefined && statText !== undefined) {
    const st = parseKeyValues(statText);
    memory = {
      usageBytes: usage,
      workingSetBytes: workingSet(usage, st.get('total_inactive_file') ?? 0),
      rssBytes: st.get('total_rss') ?? 0,
      pageFaults: st.get('total_pgfault') ?? 0,
      majorPageFaults: st.get('total_pgmajfault') ?? 0,
      limitBytes: limit(num(fs.readFile(`${memDir}/memory.limit_in_bytes`))),
    };
  }
  const pids = num(fs.readFile(`${v1Dir(layout, 'pids', rel)}/pids.current`));
  return { cpuUsageNanos, memory, pids };
}

/** Reads a v2 cgroup; with `mustExist`, as {@link readV1} but keyed on cpu.stat (present in every v2 cgroup). */
function readV2(fs: StatsFs, layout: CgroupLayout, rel: string, mustExist = false): CgroupStats | undefined {
  const dir = join(layout.root, rel);
  const cpuStat = fs.readFile(`${dir}/cpu.stat`);
  if (mustExist && cpuStat === undefined && !cgroupExists(fs, layout, rel)) return undefined;
  const usec = cpuStat === undefined ? undefined : parseKeyValues(cpuStat).get('usage_usec');
  let memory: CgroupMemory | undefined;
  const usage = num(fs.readFile(`${dir}/memory.current`));
  const statText = usage === undefined ? undefined : fs.readFile(`${dir}/memory.stat`);
  if (usage !== undefined && statText !== undefined) {
    const st = parseKeyValues(statText);
    memory = {
      usageBytes: usage,
      workingSetBytes: workingSet(usage, st.get('inactive_file') ?? 0),
      rssBytes: st.get('anon') ?? 0,
      pageFaults: st.get('pgfault') ?? 0,
      majorPageFaults: st.get('pgmajfault') ?? 0,
      limitBytes: limit(num(fs.readFile(`${dir}/memory.max`))),
    };
  }
  return { cpuUsageNanos: usec === undefined ? undefined : usec * 1000, memory, pids: num(fs.readFile(`${dir}/pids.current`)) };
}

/** Whether the cgroup `rel` (e.g. `/docker/<id>`) exists. */
export function cgroupExists(fs: StatsFs, layout: CgroupLayout, rel: string): boolean {
  const dir = layout.version === 2 ? join(layout.root, rel) : v1Dir(layout, 'memory', rel);
  return fs.readFile(`${dir}/cgroup.procs`) !== undefined;
}

/**
 * Reads one cgroup; undefined when it does not exist (the container is gone). Existence is known from the first usage
 * file read (memory.usage_in_bytes on v1, cpu.stat on v2); cgroup.procs is read only when that file is missing.
 */
export function readCgroup(fs: StatsFs, layout: CgroupLayout, rel: string): CgroupStats | undefined {
  return layout.version === 2 ? readV2(fs, layout, rel, true) : readV1(fs, layout, rel, true);
}

/** The PIDs in a cgroup (cgroup.procs), for finding a process in a pod's network namespace. */
export function cgroupProcs(fs: StatsFs, layout: CgroupLayout, rel: string): number[] {
  const dir = layout.version === 2 ? join(layout.root, rel) : v1Dir(layout, 'memory', rel);
  const text = fs.readFile(`${dir}/cgroup.procs`) ?? '';
  return text.split('\n').map(Number).filter((n) => Number.isInteger(n) && n > 0);
}

/** Parses /proc/meminfo (values in kB) into bytes. */
export function parseMeminfo(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([^:]+):\s+(\d+)(\s+kB)?/.exec(line);
    if (m) out.set(m[1]!, Number(m[2]) * (m[3] ? 1024 : 1));
  }
  return out;
}

/**
 * The node (root cgroup). v1's root has every file; v2's root has cpu.stat but no memory.current, so memory comes
 * from /proc/meminfo (usage = MemTotal − MemFree, working set = usage − Inactive(file)), as cAdvisor does.
 */
export function readNodeCgroup(fs: StatsFs, layout: CgroupLayout, procRoot = '/proc'): CgroupStats {
  const s = (layout.version === 2 ? readV2(fs, layout, '/') : readV1(fs, layout, '/'))!;
  if (s.memory === undefined) {
    const mi = parseMeminfo(fs.readFile(`${procRoot}/meminfo`) ?? '');
    const total = mi.get('MemTotal');
    if (total !== undefined) {
      const usage = total - (mi.get('MemFree') ?? 0);
      s.memory = {
        usageBytes: usage,
        workingSetBytes: workingSet(usage, mi.get('Inactive(file)') ?? 0),
        rssBytes: mi.get('AnonPages') ?? 0,
        pageFaults: 0,
        majorPageFaults: 0,
        limitBytes: total,
      };
    }
  }
  if (s.cpuUsageNanos === undefined) s.cpuUsageNanos = procStatCpuNanos(fs.readFile(`${procRoot}/stat`));
  return s;
}

/** CPU time of the whole machine from /proc/stat's `cpu` line (user+nice+system+irq+softirq+steal), in ns. */
export function procStatCpuNanos(text: string | undefined): number | undefined {
  const line = text?.split('\n').find((l) => l.startsWith('cpu '));
  if (line === undefined) return undefined;
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  const busy = (f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0);
  return (busy * 1e9) / 100; // USER_HZ = 100
}

/** Where runtimes put a container's cgroup when no parent is given (cgroupfs and systemd drivers). */
export function candidateCgroups(containerId: string): string[] {
  return [
    `/docker/${containerId}`,
    `/system.slice/docker-${containerId}.scope`,
    `/k8s.io/${containerId}`,
    `/system.slice/cri-containerd-${containerId}.scope`,
    `/${containerId}`,
  ];
}

/**
 * Finds the cgroup of a container: the runtimes' usual places first, then a bounded search of the tree (depth 4)
 * for a directory named after the ID (pods placed under a cgroup parent such as kubepods). Undefined when absent.
 */
export function findContainerCgroup(fs: StatsFs, layout: CgroupLayout, containerId: string): string | undefined {
  for (const c of candidateCgroups(containerId)) if (cgroupExists(fs, layout, c)) return c;
  const base = layout.version === 2 ? layout.root : `${layout.root}/memory`;
  const queue: { rel: string; depth: number }[] = [{ rel: '', depth: 0 }];
  let budget = 2000;
  while (queue.length > 0 && budget-- > 0) {
    const { rel, depth } = queue.shift()!;
    for (const name of fs.readDir(`${base}${rel}`) ?? []) {
      if (name.includes('.') && !name.endsWith('.slice') && !name.endsWith('.scope')) continue; // control files
      const child = `${rel}/${name}`;
      if (name.includes(containerId)) return child;
      if (depth < 6) queue.push({ rel: child, depth: depth + 1 });
    }
  }
  return undefined;
}
