/**
 * The real {@link EvictionObserver} (constructed only in src/cli): node signals from the memory cgroup (working set =
 * usage − inactive file, as cAdvisor), the kubepods cgroup (allocatable), statfs of the root dir (nodefs) and of the
 * runtime's image filesystem (imagefs), and /proc (pids); per-pod usage from each pod's cgroup, its containers' log
 * files and writable layers (the latter only under disk pressure: Docker walks the layer) and its emptyDir volumes. Readings that fail are left out (a signal without an observation never triggers eviction).
 */
import type { V1Pod } from '@kubernetes/client-node';
import { readdir, readFile, statfs, lstat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ContainerRuntime } from '../../cri/types.js';
import { LABELS } from '../../cri/types.js';
import type { HostReader } from '../node/host.js';
import type { EvictionObserver } from './manager.js';
import { containerLogBytes } from './log-usage.js';
import type { EvictionResource, PodUsage } from './rank.js';
import type { Observations } from './thresholds.js';

/** Options of {@link HostEvictionObserver}. */
export interface HostEvictionObserverOptions {
  host: HostReader;
  runtime: Pick<ContainerRuntime, 'imageFsInfo' | 'listContainers' | 'containerStatus' | 'containerWritableLayerBytes'>;
  rootDir: string;
  /** The memory hierarchy's mount point (v1 `/sys/fs/cgroup/memory`, v2 `/sys/fs/cgroup`). */
  memoryCgroupMount: string;
  /** Path of `kubepods` (e.g. `/kubepods`) and node allocatable memory, when pods are under it. */
  kubepods?: { path: string; allocatableBytes: number };
  /** The cgroup path of a pod (PodCgroupManager.podCgroupPath). */
  podCgroupPath?: (pod: V1Pod) => string;
}

/** Working set of a memory cgroup directory: usage minus inactive file pages (v1 and v2 files). */
export async function memoryWorkingSet(dir: string): Promise<number | undefined> {
  const num = async (f: string): Promise<number | undefined> => {
    try {
      return Number((await readFile(join(dir, f), 'utf8')).trim());
    } catch {
      return undefined;
    }
  };
  const usage = (await num('memory.usage_in_bytes')) ?? (await num('memory.current'));
  if (usage === undefined || !Number.isFinite(usage)) return undefined;
  let inactive = 0;
  try {
    const stat = await readFile(join(dir, 'memory.stat'), 'utf8');
    const m = /^(?:total_inactive_file|inactive_file) (\d+)$/m.exec(stat);
    if (m !== null) inactive = Number(m[1]);
  } catch {
    // no stat file: usage as is
  }
  return Math.max(0, usage - inactive);
}

/** Bytes used under `dir` (files and directories, symlinks not followed), bounded to `limit` entries. */
async function diskUsage(dir: string, limit = 100_000): Promise<number> {
  let total = 0;
  let seen = 0;
  const walk = async (d: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (++seen > limit) return;
      const p = join(d, e.name);
      const st = await lstat(p).catch(() => undefined);
      if (st === undefined) continue;
      total += st.blocks * 512;
      if (e.isDirectory()) await walk(p);
    }
  };
  await walk(dir);
  return total;
}

/** See module comment. */
export class HostEvictionObserver implements EvictionObserver {
  readonly #o: HostEvictionObserverOptions;

  constructor(options: HostEvictionObserverOptions) {
    this.#o = options;
  }

  async observe(): Promise<Observations> {
    const { host, rootDir } = this.#o;
    const out: Observations = {};
    const r = host.readings(rootDir);
    const capacity = r.memory.totalBytes;
    const rootWs = await memoryWorkingSet(this.#o.memoryCgroupMount);
    out['memory.available'] = { capacity, available: rootWs === undefined ? r.memory.availableBytes : Math.max(0, capacity - rootWs) };
    if (this.#o.kubepods !== undefined) {
      const ws = await memoryWorkingSet(join(this.#o.memoryCgroupMount, this.#o.kubepods.path));
      if (ws !== undefined) out['allocatableMemory.available'] = { capacity: this.#o.kubepods.allocatableBytes, available: Math.max(0, this.#o.kubepods.allocatableBytes - ws) };
    }
    const fs = async (path: string) => {
      const s = await statfs(path);
      return { bytes: { capacity: s.blocks * s.bsize, available: s.bavail * s.bsize }, inodes: { capacity: s.files, available: s.ffree } };
    };
    // nodefs: the host reading already statfs'd the root dir (0 capacity when unreadable: no signal).
    out['nodefs.available'] = { capacity: r.fs.capacityBytes, available: r.fs.availableBytes };
    out['nodefs.inodesFree'] = { capacity: r.fs.inodes, available: r.fs.inodesFree };
    try {
      const i = await fs((await this.#o.runtime.imageFsInfo()).mountpoint);
      out['imagefs.available'] = i.bytes;
      out['imagefs.inodesFree'] = i.inodes;
    } catch {
      // runtime down: no imagefs signals
    }
    out['pid.available'] = { capacity: r.pids.max, available: Math.max(0, r.pids.max - r.pids.running) };
    return out;
  }

  async podUsage(pods: readonly V1Pod[], resource: EvictionResource): Promise<Map<string, PodUsage>> {
    const out = new Map<string, PodUsage>();
    const containers = await this.#o.runtime.listContainers().catch(() => []);
    for (const pod of pods) {
      const uid = pod.metadata?.uid ?? '';
      const cgroup = this.#o.podCgroupPath?.(pod);
      const dir = cgroup === undefined ? undefined : join(this.#o.memoryCgroupMount, cgroup);
      const usage: PodUsage = { uid, memoryWorkingSet: 0, ephemeralBytes: 0, processes: 0, containers: [] };
      // Running containers, as upstream's pod stats: memory working set from the container cgroup, ephemeral storage
      // = the writable layer (rootfs) + the log files; the layer is asked for only under disk pressure.
      for (const c of containers.filter((x) => x.labels[LABELS.podUID] === uid && x.state === 'running')) {
        const ws = dir === undefined ? 0 : ((await memoryWorkingSet(join(dir, c.id))) ?? 0);
        const logPath = await this.#o.runtime.containerStatus(c.id).then((s) => s.logPath, () => '');
        const rootfs = resource === 'ephemeral-storage' ? await this.#o.runtime.containerWritableLayerBytes(c.id).catch(() => 0) : 0;
        usage.containers.push({ name: c.metadata.name, memoryWorkingSet: ws, ephemeralBytes: rootfs + (await containerLogBytes(logPath)) });
      }
      if (dir !== undefined) {
        usage.memoryWorkingSet = (await memoryWorkingSet(dir)) ?? 0;
        try {
          usage.processes = (await readFile(join(dir, 'cgroup.procs'), 'utf8')).split('\n').filter((l) => l !== '').length;
        } catch {
          // no procs file
        }
      }
      const emptyDirs = join(this.#o.rootDir, 'pods', uid, 'volumes', 'kubernetes.io~empty-dir');
      let ephemeral = 0;
      for (const v of await readdir(emptyDirs).catch(() => [])) ephemeral += await diskUsage(join(emptyDirs, v));
      // Pod usage for ranking = its containers' writable layers and logs + its local volumes (upstream podDiskUsage for
      // nodefs without a separate imagefs); each container's line in the message counts rootfs + logs, as upstream.
      usage.ephemeralBytes = ephemeral + usage.containers.reduce((n, c) => n + c.ephemeralBytes, 0);
      out.set(uid, usage);
    }
    return out;
  }
}
