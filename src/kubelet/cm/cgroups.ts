/**
 * The cgroup filesystem seam: create a cgroup with settings, remove it, list children. {@link HostCgroups} writes
 * the kernel's files under /sys/fs/cgroup (v1: one directory per hierarchy; v2: the unified tree) and is built only
 * in src/cli; {@link FakeCgroups} keeps a tree in memory. Both pass src/kubelet/cm/cgroups-contract.ts.
 */
import { access, lstat, mkdir, readdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { NodeletError } from '../../util/errors.js';
import { sharesToWeight, type CgroupResources } from './resources.js';

/** See module comment. `path` is absolute within each hierarchy (`/kubepods/burstable/pod<uid>`). */
export interface Cgroups {
  /** 1 or 2. */
  readonly version: 1 | 2;
  /** Creates the cgroup and missing parents, then applies `res` (only the fields given). Idempotent. */
  ensure(path: string, res: CgroupResources): Promise<void>;
  /** Removes the cgroup; false when it still has processes or children (kept for a later try). Missing = true. */
  remove(path: string): Promise<boolean>;
  /** Child cgroup names of `path` ([] when it does not exist). */
  children(path: string): Promise<string[]>;
  /** The settings as last applied (tests; undefined when the cgroup does not exist). */
  read(path: string): Promise<CgroupResources | undefined>;
  /** Bytes of memory the cgroup uses now (v1 memory.usage_in_bytes, v2 memory.current); undefined when missing. */
  memoryUsage(path: string): Promise<number | undefined>;
}

/** A failed cgroup write; the pod's sync fails with it (never runs unconstrained). */
export class CgroupError extends NodeletError {
  constructor(message: string, options?: { cause?: unknown; object?: string }) {
    super('CGROUP_FAILED', message, options);
  }
}

const V1_SKIP = new Set(['unified']);

/** The host's cgroups under `mountPoint` (default /sys/fs/cgroup), v1 or v2 as detected. */
export class HostCgroups implements Cgroups {
  readonly version: 1 | 2;
  readonly #mount: string;
  readonly #hierarchies: string[];

  private constructor(mount: string, version: 1 | 2, hierarchies: string[]) {
    this.#mount = mount;
    this.version = version;
    this.#hierarchies = hierarchies;
  }

  /** Detects the version (cgroup.controllers at the mount point = v2) and the v1 hierarchies. */
  static async open(mountPoint = '/sys/fs/cgroup'): Promise<HostCgroups> {
    if (await exists(join(mountPoint, 'cgroup.controllers'))) return new HostCgroups(mountPoint, 2, ['']);
    const dirs: string[] = [];
    for (const name of await readdir(mountPoint)) {
      if (V1_SKIP.has(name)) continue;
      const st = await lstat(join(mountPoint, name)).catch(() => undefined);
      if (st?.isDirectory() === true) dirs.push(name);
    }
    if (dirs.length === 0) throw new CgroupError(`no cgroup hierarchies under ${mountPoint}`);
    return new HostCgroups(mountPoint, 1, dirs);
  }

  async ensure(path: string, res: CgroupResources): Promise<void> {
    try {
      if (this.version === 2) await this.#ensureV2(path, res);
      else await this.#ensureV1(path, res);
    } catch (err) {
      if (err instanceof CgroupError) throw err;
      throw new CgroupError(`failed to set up cgroup ${path}: ${(err as Error).message}`, { cause: err, object: `cgroup ${path}` });
    }
  }

  async #ensureV1(path: string, res: CgroupResources): Promise<void> {
    for (const h of this.#hierarchies) {
      const dir = join(this.#mount, h, path);
      await mkdir(dir, { recursive: true });
      if (h === 'cpuset' || h.split(',').includes('cpuset')) await this.#fillCpuset(join(this.#mount, h), path);
    }
    const w = (h: string, file: string, v: string): Promise<void> => writeIfChanged(join(this.#mount, h, path, file), v);
    if (this.#has('cpu')) {
      const cpu = this.#name('cpu');
      if (res.cpuShares !== undefined) await w(cpu, 'cpu.shares', String(res.cpuShares));
      if (res.cpuPeriod !== undefined) await w(cpu, 'cpu.cfs_period_us', String(res.cpuPeriod));
      if (res.cpuQuota !== undefined) await w(cpu, 'cpu.cfs_quota_us', String(res.cpuQuota));
    }
    if (this.#has('memory') && res.memoryLimit !== undefined) await w(this.#name('memory'), 'memory.limit_in_bytes', String(res.memoryLimit));
    if (this.#has('pids') && res.pidsLimit !== undefined) await w(this.#name('pids'), 'pids.max', res.pidsLimit < 0 ? 'max' : String(res.pidsLimit));
  }

  /** A new v1 cpuset cgroup has no CPUs or memory nodes: copy them down from the first parent that has them. */
  async #fillCpuset(root: string, path: string): Promise<void> {
    const parts = path.split('/').filter((p) => p !== '');
    for (let i = 1; i <= parts.length; i++) {
      const dir = join(root, ...parts.slice(0, i));
      const parent = join(root, ...parts.slice(0, i - 1));
      for (const f of ['cpuset.cpus', 'cpuset.mems']) {
        const cur = (await readFile(join(dir, f), 'utf8')).trim();
        if (cur === '') await writeFile(join(dir, f), (await readFile(join(parent, f), 'utf8')).trim());
      }
    }
  }

  async #ensureV2(path: string, res: CgroupResources): Promise<void> {
    const parts = path.split('/').filter((p) => p !== '');
    // Enable the controllers from the root down to the parent of the new cgroup.
    for (let i = 0; i < parts.length; i++) {
      const dir = join(this.#mount, ...parts.slice(0, i));
      if (i > 0) await mkdir(dir, { recursive: true });
      const available = (await readFile(join(dir, 'cgroup.controllers'), 'utf8')).trim().split(/\s+/);
      const wanted = ['cpu', 'cpuset', 'memory', 'pids', 'io'].filter((c) => available.includes(c));
      const enabled = (await readFile(join(dir, 'cgroup.subtree_control'), 'utf8')).trim().split(/\s+/);
      const missing = wanted.filter((c) => !enabled.includes(c));
      if (missing.length > 0) await writeFile(join(dir, 'cgroup.subtree_control'), missing.map((c) => `+${c}`).join(' '));
    }
    const dir = join(this.#mount, path);
    await mkdir(dir, { recursive: true });
    if (res.cpuShares !== undefined) await writeIfChanged(join(dir, 'cpu.weight'), String(sharesToWeight(res.cpuShares)));
    if (res.cpuQuota !== undefined) {
      const period = res.cpuPeriod ?? 100000;
      await writeIfChanged(join(dir, 'cpu.max'), `${res.cpuQuota < 0 ? 'max' : res.cpuQuota} ${period}`);
    }
    if (res.memoryLimit !== undefined) await writeIfChanged(join(dir, 'memory.max'), res.memoryLimit < 0 ? 'max' : String(res.memoryLimit));
    if (res.pidsLimit !== undefined) await writeIfChanged(join(dir, 'pids.max'), res.pidsLimit < 0 ? 'max' : String(res.pidsLimit));
  }

  async remove(path: string): Promise<boolean> {
    let ok = true;
    for (const h of this.#hierarchies) {
      try {
        await rmdir(join(this.#mount, h, path));
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT') ok = false;
      }
    }
    return ok;
  }

  async children(path: string): Promise<string[]> {
    const base = join(this.#mount, this.version === 2 ? '' : this.#name('cpu'), path);
    try {
      const out: string[] = [];
      for (const e of await readdir(base, { withFileTypes: true })) if (e.isDirectory()) out.push(e.name);
      return out;
    } catch {
      return [];
    }
  }

  async read(path: string): Promise<CgroupResources | undefined> {
    const num = async (file: string): Promise<number | undefined> => {
      try {
        const t = (await readFile(file, 'utf8')).trim();
        return t === 'max' ? -1 : Number(t.split(/\s+/)[0]);
      } catch {
        return undefined;
      }
    };
    if (this.version === 2) {
      const dir = join(this.#mount, path);
      if (!(await exists(dir))) return undefined;
      const cpuMax = await readFile(join(dir, 'cpu.max'), 'utf8').catch(() => 'max 100000');
      const [q, p] = cpuMax.trim().split(/\s+/);
      return { cpuQuota: q === 'max' ? -1 : Number(q), cpuPeriod: Number(p), memoryLimit: await num(join(dir, 'memory.max')), pidsLimit: await num(join(dir, 'pids.max')) };
    }
    const cpu = join(this.#mount, this.#name('cpu'), path);
    if (!(await exists(cpu))) return undefined;
    const mem = await num(join(this.#mount, this.#name('memory'), path, 'memory.limit_in_bytes'));
    return {
      cpuShares: await num(join(cpu, 'cpu.shares')),
      cpuQuota: await num(join(cpu, 'cpu.cfs_quota_us')),
      cpuPeriod: await num(join(cpu, 'cpu.cfs_period_us')),
      // v1 reports "unlimited" as a huge page-aligned number.
      memoryLimit: mem !== undefined && mem >= 2 ** 62 ? -1 : mem,
      pidsLimit: await num(join(this.#mount, this.#name('pids'), path, 'pids.max')),
    };
  }

  async memoryUsage(path: string): Promise<number | undefined> {
    const file = this.version === 2 ? join(this.#mount, path, 'memory.current') : join(this.#mount, this.#name('memory'), path, 'memory.usage_in_bytes');
    try {
      const v = Number((await readFile(file, 'utf8')).trim());
      return Number.isFinite(v) ? v : undefined;
    } catch {
      return undefined;
    }
  }

  #has(controller: string): boolean {
    return this.#hierarchies.some((h) => h.split(',').includes(controller));
  }

  #name(controller: string): string {
    return this.#hierarchies.find((h) => h.split(',').includes(controller)) ?? controller;
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await access(p);
    return true;
  } catch {
    return false;
  }
}

async function writeIfChanged(file: string, value: string): Promise<void> {
  const cur = await readFile(file, 'utf8').catch(() => undefined);
  if (cur !== undefined && cur.trim() === value) return;
  await writeFile(file, value);
}

/** In-memory cgroups for unit tests: a map of path → settings; `failWrites` makes `ensure` fail. */
export class FakeCgroups implements Cgroups {
  readonly version: 1 | 2;
  readonly #groups = new Map<string, CgroupResources>();
  /** Paths that hold processes: remove() refuses them. */
  readonly busy = new Set<string>();
  /** Memory usage per path (bytes); an existing cgroup not listed uses 0. */
  readonly usage = new Map<string, number>();
  failWrites = false;

  constructor(version: 1 | 2 = 1) {
    this.version = version;
  }

  async ensure(path: string, res: CgroupResources): Promise<void> {
    if (this.failWrites) throw new CgroupError(`failed to set up cgroup ${path}: injected failure`, { object: `cgroup ${path}` });
    const parts = path.split('/').filter((p) => p !== '');
    for (let i = 1; i < parts.length; i++) {
      const p = `/${parts.slice(0, i).join('/')}`;
      if (!this.#groups.has(p)) this.#groups.set(p, {});
    }
    this.#groups.set(path, { ...(this.#groups.get(path) ?? {}), ...res });
  }

  async remove(path: string): Promise<boolean> {
    if (!this.#groups.has(path)) return true;
    if (this.busy.has(path) || (await this.children(path)).length > 0) return false;
    this.#groups.delete(path);
    return true;
  }

  async children(path: string): Promise<string[]> {
    const prefix = path === '/' ? '/' : `${path}/`;
    return [...this.#groups.keys()].filter((p) => p.startsWith(prefix) && !p.slice(prefix.length).includes('/')).map((p) => p.slice(prefix.length));
  }

  async read(path: string): Promise<CgroupResources | undefined> {
    const g = this.#groups.get(path);
    return g === undefined ? undefined : { ...g };
  }

  async memoryUsage(path: string): Promise<number | undefined> {
    if (!this.#groups.has(path)) return undefined;
    return this.usage.get(path) ?? 0;
  }

  /** Every path (tests). */
  paths(): string[] {
    return [...this.#groups.keys()].sort();
  }
}
