/**
 * Gathers one snapshot of node and pod usage: the runtime's ready sandboxes and running containers (two list calls),
 * their cgroups, the sandbox's network namespace, the pod's volume and log directories, the node's root cgroup,
 * /proc and the root-dir and image file systems. The result is plain data that summary.ts and the metrics renderers
 * turn into the upstream formats.
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { Container, ContainerRuntime, PodSandbox } from '../../cri/types.js';
import type { KubeletPodLookup } from '../server/api/types.js';
import { cgroupExists, cgroupProcs, findContainerCgroup, readCgroup, readNodeCgroup, type CgroupLayout, type CgroupStats } from './cgroup.js';
import type { CpuRateCache } from './cpu-rate.js';
import type { DirUsage, FsUsage, StatsFs } from './fs.js';
import { hostInterfaces, parseNetDev, type InterfaceCounters } from './net.js';
import type { DiskUsageCache } from './usage-cache.js';

/** The runtime calls the stats code makes. */
export type StatsRuntime = Pick<ContainerRuntime, 'listPodSandboxes' | 'listContainers' | 'imageFsInfo'> & Partial<Pick<ContainerRuntime, 'containerStatus'>>;

/** A running container's reading. */
export interface ContainerSample {
  id: string;
  name: string;
  attempt: number;
  image: string;
  imageRef: string;
  createdAtMs: number;
  cgroup: string | undefined;
  stats: CgroupStats | undefined;
  nanoCores: number | undefined;
  logs: DirUsage | undefined;
}

/** A volume's reading. */
export interface VolumeSample {
  name: string;
  plugin: string;
  pvcName: string | undefined;
  fs: FsUsage | undefined;
  du: DirUsage | undefined;
}

/** A pod's reading (its newest ready sandbox and running containers). */
export interface PodSample {
  uid: string;
  name: string;
  namespace: string;
  sandboxId: string;
  sandboxCgroup: string | undefined;
  sandboxStats: CgroupStats | undefined;
  startTimeMs: number;
  containers: ContainerSample[];
  /** The pod's own cgroup (kubepods hierarchy) and its reading, when it has one. */
  podCgroup: string | undefined;
  podStats: CgroupStats | undefined;
  /** Interfaces of the pod's network namespace (undefined when no process was found). */
  network: InterfaceCounters[] | undefined;
  volumes: VolumeSample[];
  /** The pod's log directory usage (all containers). */
  logs: DirUsage | undefined;
  cpuNanoCores: number | undefined;
}

/** The node's reading. */
export interface NodeSample {
  stats: CgroupStats;
  nanoCores: number | undefined;
  bootTimeMs: number;
  network: InterfaceCounters[];
  rootFs: FsUsage | undefined;
  imageFs: (FsUsage & { imagesBytes: number }) | undefined;
  maxPid: number | undefined;
  curProc: number | undefined;
  memoryCapacity: number | undefined;
  numCores: number;
  /** The agent's own cgroup (the `kubelet` system container). */
  kubelet: { cgroup: string; stats: CgroupStats | undefined; nanoCores: number | undefined } | undefined;
}

/** One snapshot. */
export interface StatsSnapshot {
  atMs: number;
  nodeName: string;
  node: NodeSample;
  pods: PodSample[];
  /** True when some source failed (resource_scrape_error). */
  partial: boolean;
}

/** What the collector reads from. */
export interface CollectorDeps {
  nodeName: string;
  fs: StatsFs;
  layout: CgroupLayout;
  runtime: StatsRuntime;
  pods: KubeletPodLookup;
  /** The kubelet root dir (`--root-dir`): node fs and `<root>/pods/<uid>/volumes`. */
  rootDir: string;
  /** Root of pod log dirs, `<podLogsDir>/<ns>_<pod>_<uid>` (default /var/log/pods). */
  podLogsDir: string;
  procRoot: string;
  cpu: CpuRateCache;
  du: DiskUsageCache;
  now: () => number;
  /** The agent's own cgroup path (from /proc/self/cgroup), when known. */
  selfCgroup: string | undefined;
  /** Log file of each container as the runtime reports it (asked once per container; Docker's json-file logs). */
  logPaths: Map<string, string>;
  /**
   * The volume directories (`[plugin dir, volume name]`) of each pod UID as last listed, reused for
   * `volumeListTtlMs` (a running pod's volumes are set up before its sandbox; their usage is cached as long).
   */
  volumeDirs: Map<string, { atMs: number; dirs: [string, string][] }>;
  volumeListTtlMs: number;
}

/**
 * The log usage of a container: its directory under the pod log dir (CRI runtimes), else the log file the runtime
 * reports (Docker keeps json-file logs in its data root; the path is asked once per container and remembered).
 */
async function containerLogs(d: CollectorDeps, c: Container, dir: string, atMs: number, dataRoot: string | undefined): Promise<DirUsage | undefined> {
  const inDir = d.du.get(dir, atMs);
  if (inDir !== undefined) return inDir;
  let path = d.logPaths.get(c.id);
  if (path === undefined) {
    const reported = d.runtime.containerStatus === undefined ? '' : ((await d.runtime.containerStatus(c.id).catch(() => undefined))?.logPath ?? '');
    // Docker's json-file log lives in its data root, whatever CRI log path the container was labelled with.
    const engine = dataRoot === undefined ? '' : `${dataRoot}/containers/${c.id}/${c.id}-json.log`;
    path = [reported, engine].find((p) => p !== '' && d.fs.diskUsage(p, 1) !== undefined) ?? '';
    d.logPaths.set(c.id, path);
  }
  return path === '' ? undefined : d.du.get(path, atMs);
}

const UID_LABEL = 'io.kubernetes.pod.uid';

/** Code-unit order: locale-independent, and unlike localeCompare it never loads ICU's collation data (~3 MB RSS). */
const byCodeUnit = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function newestReadySandboxes(list: PodSandbox[]): Map<string, PodSandbox> {
  const out = new Map<string, PodSandbox>();
  for (const s of list) {
    if (s.state !== 'ready') continue;
    const uid = s.metadata.uid || s.labels[UID_LABEL] || '';
    const prev = out.get(uid);
    if (prev === undefined || s.createdAt > prev.createdAt) out.set(uid, s);
  }
  return out;
}

/** Newest running instance per container name of each sandbox. */
function runningBySandbox(list: Container[]): Map<string, Container[]> {
  const out = new Map<string, Map<string, Container>>();
  for (const c of list) {
    if (c.state !== 'running') continue;
    const byName = out.get(c.podSandboxId) ?? new Map<string, Container>();
    const prev = byName.get(c.metadata.name);
    if (prev === undefined || c.createdAt > prev.createdAt) byName.set(c.metadata.name, c);
    out.set(c.podSandboxId, byName);
  }
  return new Map([...out].map(([k, v]) => [k, [...v.values()]]));
}

function msOf(t: number): number {
  // CRI timestamps are nanoseconds; tolerate milliseconds.
  return t > 1e14 ? Math.floor(t / 1e6) : t;
}

/** Reads /proc/stat btime (seconds) as ms. */
function bootTime(fs: StatsFs, procRoot: string, nowMs: number): number {
  const m = /^btime\s+(\d+)/m.exec(fs.readFile(`${procRoot}/stat`) ?? '');
  if (m) return Number(m[1]) * 1000;
  const up = Number((fs.readFile(`${procRoot}/uptime`) ?? '').split(' ')[0]);
  return Number.isFinite(up) && up > 0 ? nowMs - Math.round(up * 1000) : nowMs;
}

function numCores(fs: StatsFs, procRoot: string): number {
  const text = fs.readFile(`${procRoot}/cpuinfo`) ?? '';
  const n = text.split('\n').filter((l) => l.startsWith('processor')).length;
  return n > 0 ? n : 1;
}

/** The cgroup path of the process from /proc/self/cgroup (v2 line `0::/x`, v1 the memory controller's line). */
export function selfCgroupPath(text: string | undefined, version: 1 | 2): string | undefined {
  for (const line of (text ?? '').split('\n')) {
    const [, ctrls, path] = line.split(':');
    if (path === undefined) continue;
    if (version === 2 && ctrls === '') return path;
    if (version === 1 && (ctrls ?? '').split(',').includes('memory')) return path;
  }
  return undefined;
}

/**
 * Cached cgroup resolution: the pod cgroups of the kubepods hierarchy (`kubepods[/<qos>]/pod<uid>`, or the systemd
 * slices, under any cgroupRoot), and containers inside their pod's cgroup (cgroupfs `<id>`, systemd
 * `docker-<id>.scope` / `cri-containerd-<id>.scope`) or where runtimes put them without a parent.
 */
export class CgroupResolver {
  readonly #paths = new Map<string, string>();
  readonly #pods = new Map<string, string>();
  #kubepods: string | undefined;
  /** `kubepods` is the configured one (cgroupRoot + driver) when given, else found at `/` or one level below. */
  constructor(private readonly fs: StatsFs, private readonly layout: CgroupLayout, private readonly kubepods?: string) {}

  #base(): string {
    return this.layout.version === 2 ? this.layout.root : `${this.layout.root}/memory`;
  }

  #exists(rel: string): boolean {
    return cgroupExists(this.fs, this.layout, rel);
  }

  /** The kubepods cgroup (`/kubepods`, `/kubepods.slice`, or one level below a cgroupRoot). */
  #findKubepods(): string | undefined {
    if (this.kubepods !== undefined) return this.fs.readDir(`${this.#base()}${this.kubepods}`) !== undefined ? this.kubepods : undefined;
    if (this.#kubepods !== undefined && this.#exists(this.#kubepods)) return this.#kubepods;
    this.#kubepods = undefined;
    const isKp = (n: string): boolean => n === 'kubepods' || n === 'kubepods.slice';
    const top = this.fs.readDir(this.#base()) ?? [];
    for (const n of top) if (isKp(n)) return (this.#kubepods = `/${n}`);
    for (const n of top) {
      if (n.includes('.') && !n.endsWith('.slice')) continue;
      for (const m of this.fs.readDir(`${this.#base()}/${n}`) ?? []) if (isKp(m)) return (this.#kubepods = `/${n}/${m}`);
    }
    return undefined;
  }

  /**
   * The pod's own cgroup, when the kubepods hierarchy has one for `uid`. A remembered path is checked to still exist
   * unless `verify` is false (the caller reads it next and asks again with `verify` when that read finds nothing).
   */
  podCgroup(uid: string, verify = true): string | undefined {
    const hit = this.#pods.get(uid);
    if (hit !== undefined && (!verify || this.#exists(hit))) return hit;
    this.#pods.delete(uid);
    const kp = this.#findKubepods();
    if (kp === undefined || uid === '') return undefined;
    const names = [`pod${uid}`, `pod${uid.replace(/-/g, '_')}.slice`];
    const match = (n: string): boolean => names.includes(n) || n.endsWith(`-${names[1]!}`);
    for (const n of this.fs.readDir(`${this.#base()}${kp}`) ?? []) {
      if (match(n)) return this.#remember(uid, `${kp}/${n}`);
      if (n.includes('.') && !n.endsWith('.slice')) continue;
      for (const m of this.fs.readDir(`${this.#base()}${kp}/${n}`) ?? []) if (match(m)) return this.#remember(uid, `${kp}/${n}/${m}`);
    }
    return undefined;
  }

  #remember(uid: string, path: string): string {
    this.#pods.set(uid, path);
    return path;
  }

  /** The cgroup of container (or sandbox) `id` of pod `uid`. */
  resolve(id: string, uid = ''): string | undefined {
    const hit = this.#paths.get(id);
    if (hit !== undefined) return hit;
    const pod = this.podCgroup(uid);
    let p: string | undefined;
    if (pod !== undefined) p = [`${pod}/${id}`, `${pod}/docker-${id}.scope`, `${pod}/cri-containerd-${id}.scope`, `${pod}/crio-${id}.scope`].find((c) => this.#exists(c));
    p ??= findContainerCgroup(this.fs, this.layout, id);
    if (p !== undefined) this.#paths.set(id, p);
    return p;
  }

  retain(live: Set<string>, liveUids: Set<string>): void {
    for (const k of [...this.#paths.keys()]) if (!live.has(k)) this.#paths.delete(k);
    for (const k of [...this.#pods.keys()]) if (!liveUids.has(k)) this.#pods.delete(k);
  }
}

/** `<root>/pods/<uid>/volumes/<plugin>/<name>` directories of a pod, listed at most once per `volumeListTtlMs`. */
function volumeDirs(d: CollectorDeps, uid: string, base: string, nowMs: number): [string, string][] {
  const hit = d.volumeDirs.get(uid);
  if (hit !== undefined && nowMs - hit.atMs < d.volumeListTtlMs && nowMs >= hit.atMs) return hit.dirs;
  const dirs: [string, string][] = [];
  for (const plugin of d.fs.readDir(base) ?? []) for (const name of d.fs.readDir(`${base}/${plugin}`) ?? []) dirs.push([plugin, name]);
  d.volumeDirs.set(uid, { atMs: nowMs, dirs });
  return dirs;
}

function volumesOf(d: CollectorDeps, uid: string, pod: V1Pod | undefined, nowMs: number): VolumeSample[] {
  const base = `${d.rootDir}/pods/${uid}/volumes`;
  const claims = new Map<string, string>();
  for (const v of pod?.spec?.volumes ?? []) if (v.persistentVolumeClaim) claims.set(v.name, v.persistentVolumeClaim.claimName);
  const out: VolumeSample[] = [];
  for (const [plugin, name] of volumeDirs(d, uid, base, nowMs)) {
    const path = `${base}/${plugin}/${name}`;
    out.push({ name, plugin: plugin.replace(/^kubernetes\.io~/, ''), pvcName: claims.get(name), fs: d.fs.statfs(path), du: d.du.get(path, nowMs) });
  }
  return out.sort((a, b) => byCodeUnit(a.name, b.name));
}

function networkOf(d: CollectorDeps, cgroups: (string | undefined)[]): InterfaceCounters[] | undefined {
  for (const cg of cgroups) {
    if (cg === undefined) continue;
    for (const pid of cgroupProcs(d.fs, d.layout, cg)) {
      const text = d.fs.readFile(`${d.procRoot}/${pid}/net/dev`);
      if (text !== undefined) return parseNetDev(text);
    }
  }
  return undefined;
}

function sumNanoCores(values: (number | undefined)[]): number | undefined {
  let total = 0;
  let any = false;
  for (const v of values) {
    if (v === undefined) continue;
    total += v;
    any = true;
  }
  return any ? total : undefined;
}

/** Collects one snapshot. Never throws: failed sources are left out and `partial` is set. */
export async function collectSnapshot(d: CollectorDeps, resolver: CgroupResolver): Promise<StatsSnapshot> {
  const atMs = d.now();
  let partial = false;
  const [sandboxes, containers, imageFs] = await Promise.all([
    d.runtime.listPodSandboxes().catch(() => {
      partial = true;
      return [] as PodSandbox[];
    }),
    d.runtime.listContainers().catch(() => {
      partial = true;
      return [] as Container[];
    }),
    d.runtime.imageFsInfo().catch(() => undefined),
  ]);
  const live = new Set<string>();
  const ready = newestReadySandboxes(sandboxes);
  const running = runningBySandbox(containers);
  const known = new Map<string, V1Pod>();
  for (const p of d.pods.pods()) if (p.metadata?.uid) known.set(p.metadata.uid, p);

  const pods: PodSample[] = [];
  for (const [uid, sb] of ready) {
    const pod = known.get(uid);
    const sandboxCgroup = resolver.resolve(sb.id, uid);
    // The remembered pod cgroup is read unverified (one read less per pod); looked up again when it is gone.
    let podCgroup = resolver.podCgroup(uid, false);
    let podStats = podCgroup === undefined ? undefined : readCgroup(d.fs, d.layout, podCgroup);
    if (podCgroup !== undefined && podStats === undefined) {
      podCgroup = resolver.podCgroup(uid);
      podStats = podCgroup === undefined ? undefined : readCgroup(d.fs, d.layout, podCgroup);
    }
    if (podCgroup !== undefined) live.add(podCgroup);
    const podCores = podStats?.cpuUsageNanos === undefined ? undefined : d.cpu.observe(podCgroup!, atMs, podStats.cpuUsageNanos);
    if (sandboxCgroup !== undefined) live.add(sandboxCgroup);
    const sandboxStats = sandboxCgroup === undefined ? undefined : readCgroup(d.fs, d.layout, sandboxCgroup);
    const sandboxCores = sandboxStats?.cpuUsageNanos === undefined ? undefined : d.cpu.observe(sandboxCgroup!, atMs, sandboxStats.cpuUsageNanos);
    const name = sb.metadata.name;
    const namespace = sb.metadata.namespace;
    const logDir = `${d.podLogsDir}/${namespace}_${name}_${uid}`;
    const ctrs: ContainerSample[] = [];
    for (const c of running.get(sb.id) ?? []) {
      const cgroup = resolver.resolve(c.id, uid);
      const stats = cgroup === undefined ? undefined : readCgroup(d.fs, d.layout, cgroup);
      if (cgroup !== undefined) live.add(cgroup);
      const nanoCores = stats?.cpuUsageNanos === undefined ? undefined : d.cpu.observe(cgroup!, atMs, stats.cpuUsageNanos);
      ctrs.push({
        id: c.id,
        name: c.metadata.name,
        attempt: c.metadata.attempt,
        image: c.image,
        imageRef: c.imageRef,
        createdAtMs: msOf(c.createdAt),
        cgroup,
        stats,
        nanoCores,
        logs: await containerLogs(d, c, `${logDir}/${c.metadata.name}`, atMs, imageFs?.mountpoint),
      });
    }
    ctrs.sort((a, b) => byCodeUnit(a.name, b.name));
    const startIso = pod?.status?.startTime;
    const startTimeMs = startIso ? new Date(startIso).getTime() : msOf(sb.createdAt);
    pods.push({
      uid,
      name,
      namespace,
      sandboxId: sb.id,
      sandboxCgroup,
      sandboxStats,
      podCgroup,
      podStats,
      startTimeMs,
      containers: ctrs,
      network: networkOf(d, [sandboxCgroup, ...ctrs.map((c) => c.cgroup)]),
      volumes: volumesOf(d, uid, pod, atMs),
      logs: d.du.get(logDir, atMs),
      cpuNanoCores: podStats !== undefined ? podCores : sumNanoCores([sandboxCores, ...ctrs.map((c) => c.nanoCores)]),
    });
  }
  pods.sort((a, b) => (a.namespace === b.namespace ? byCodeUnit(a.name, b.name) : byCodeUnit(a.namespace, b.namespace)));

  const nodeStats = readNodeCgroup(d.fs, d.layout, d.procRoot);
  const nodeCores = nodeStats.cpuUsageNanos === undefined ? undefined : d.cpu.observe('node:/', atMs, nodeStats.cpuUsageNanos);
  live.add('node:/');
  let kubelet: NodeSample['kubelet'];
  if (d.selfCgroup !== undefined) {
    const stats = readCgroup(d.fs, d.layout, d.selfCgroup);
    const key = `self:${d.selfCgroup}`;
    live.add(key);
    kubelet = { cgroup: d.selfCgroup, stats, nanoCores: stats?.cpuUsageNanos === undefined ? undefined : d.cpu.observe(key, atMs, stats.cpuUsageNanos) };
  }
  const imageStatfs = imageFs === undefined ? undefined : d.fs.statfs(imageFs.mountpoint);
  const loadavg = (d.fs.readFile(`${d.procRoot}/loadavg`) ?? '').split(' ')[3]?.split('/')[1];
  const maxPid = Number(d.fs.readFile(`${d.procRoot}/sys/kernel/pid_max`));
  const node: NodeSample = {
    stats: nodeStats,
    nanoCores: nodeCores,
    bootTimeMs: bootTime(d.fs, d.procRoot, atMs),
    network: hostInterfaces(parseNetDev(d.fs.readFile(`${d.procRoot}/net/dev`) ?? '')),
    rootFs: d.fs.statfs(d.rootDir),
    imageFs: imageStatfs === undefined || imageFs === undefined ? undefined : { ...imageStatfs, imagesBytes: imageFs.usedBytes },
    maxPid: Number.isFinite(maxPid) && maxPid > 0 ? maxPid : undefined,
    curProc: loadavg === undefined || !Number.isFinite(Number(loadavg)) ? undefined : Number(loadavg),
    memoryCapacity: nodeStats.memory?.limitBytes ?? undefined,
    numCores: numCores(d.fs, d.procRoot),
    kubelet,
  };
  if (node.memoryCapacity === undefined || d.layout.version === 1) {
    const m = /^MemTotal:\s+(\d+)/m.exec(d.fs.readFile(`${d.procRoot}/meminfo`) ?? '');
    if (m) node.memoryCapacity = Number(m[1]) * 1024;
  }
  d.cpu.retain(live);
  const ids = new Set(containers.map((c) => c.id));
  for (const k of [...d.logPaths.keys()]) if (!ids.has(k)) d.logPaths.delete(k);
  resolver.retain(new Set([...ready.values()].map((s) => s.id).concat(containers.map((c) => c.id))), new Set(ready.keys()));
  for (const uid of [...d.volumeDirs.keys()]) if (!ready.has(uid)) d.volumeDirs.delete(uid);
  d.du.prune(atMs - 10 * 60_000);
  return { atMs, nodeName: d.nodeName, node, pods, partial };
}
