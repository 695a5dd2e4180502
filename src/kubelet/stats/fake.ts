/**
 * An in-memory {@link StatsFs} for tests: files by absolute path (directories are implied by them), statfs answers by
 * path prefix and directory usage by path. Helpers build cgroup v1/v2 trees for containers.
 */
import type { DirUsage, FsUsage, StatsFs } from './fs.js';

/** Usage of one fake cgroup. */
export interface FakeCgroup {
  cpuNanos: number;
  memoryUsage: number;
  inactiveFile?: number;
  rss?: number;
  pgfault?: number;
  pgmajfault?: number;
  limit?: number;
  pids?: number[];
}

/** In-memory host view. */
export class FakeStatsFs implements StatsFs {
  readonly files = new Map<string, string>();
  readonly #statfs = new Map<string, FsUsage>();
  readonly #du = new Map<string, DirUsage>();
  /** Calls to diskUsage, by path (cache tests). */
  readonly duCalls: string[] = [];

  readFile(path: string): string | undefined {
    return this.files.get(path);
  }

  readDir(path: string): string[] | undefined {
    const prefix = path.endsWith('/') ? path : `${path}/`;
    const names = new Set<string>();
    for (const k of this.files.keys()) {
      if (!k.startsWith(prefix)) continue;
      names.add(k.slice(prefix.length).split('/')[0]!);
    }
    for (const k of this.#du.keys()) if (k.startsWith(prefix)) names.add(k.slice(prefix.length).split('/')[0]!);
    return names.size === 0 ? undefined : [...names].sort();
  }

  statfs(path: string): FsUsage | undefined {
    let best: { len: number; v: FsUsage } | undefined;
    for (const [p, v] of this.#statfs) {
      if ((path === p || path.startsWith(p.endsWith('/') ? p : `${p}/`)) && (best === undefined || p.length > best.len)) best = { len: p.length, v };
    }
    return best?.v;
  }

  diskUsage(path: string): DirUsage | undefined {
    this.duCalls.push(path);
    return this.#du.get(path);
  }

  /** Writes a file. */
  set(path: string, text: string): this {
    this.files.set(path, text);
    return this;
  }

  /** Removes every file under `prefix`. */
  removeTree(prefix: string): void {
    for (const k of [...this.files.keys()]) if (k === prefix || k.startsWith(`${prefix}/`)) this.files.delete(k);
  }

  /** statfs answer for paths under `mount`. */
  setStatfs(mount: string, v: FsUsage): this {
    this.#statfs.set(mount, v);
    return this;
  }

  /** Forgets the du answers under `prefix`. */
  removeDiskUsage(prefix: string): void {
    for (const k of [...this.#du.keys()]) if (k === prefix || k.startsWith(`${prefix}/`)) this.#du.delete(k);
  }

  /** du answer for `path`. */
  setDiskUsage(path: string, v: DirUsage): this {
    this.#du.set(path, v);
    return this;
  }

  /** Writes a cgroup v1 tree for `rel` (e.g. `/docker/<id>`) under `root`. */
  setCgroupV1(root: string, rel: string, c: FakeCgroup): this {
    const procs = (c.pids ?? []).join('\n');
    this.set(`${root}/cpuacct${rel}/cpuacct.usage`, `${c.cpuNanos}\n`);
    this.set(`${root}/cpuacct${rel}/cgroup.procs`, procs);
    this.set(`${root}/memory${rel}/memory.usage_in_bytes`, `${c.memoryUsage}\n`);
    this.set(`${root}/memory${rel}/memory.limit_in_bytes`, `${c.limit ?? 9223372036854771712}\n`);
    this.set(
      `${root}/memory${rel}/memory.stat`,
      `cache 0\nrss 0\ntotal_cache ${c.inactiveFile ?? 0}\ntotal_rss ${c.rss ?? 0}\ntotal_pgfault ${c.pgfault ?? 0}\ntotal_pgmajfault ${c.pgmajfault ?? 0}\ntotal_inactive_file ${c.inactiveFile ?? 0}\n`,
    );
    this.set(`${root}/memory${rel}/cgroup.procs`, procs);
    this.set(`${root}/pids${rel}/pids.current`, `${(c.pids ?? []).length}\n`);
    return this;
  }

  /** Writes a cgroup v2 directory for `rel` under `root`. */
  setCgroupV2(root: string, rel: string, c: FakeCgroup): this {
    const dir = rel === '/' ? root : `${root}${rel}`;
    this.set(`${dir}/cgroup.procs`, (c.pids ?? []).join('\n'));
    this.set(`${dir}/cpu.stat`, `usage_usec ${Math.floor(c.cpuNanos / 1000)}\nuser_usec 0\nsystem_usec 0\n`);
    if (rel !== '/') {
      this.set(`${dir}/memory.current`, `${c.memoryUsage}\n`);
      this.set(`${dir}/memory.max`, c.limit === undefined ? 'max\n' : `${c.limit}\n`);
      this.set(`${dir}/pids.current`, `${(c.pids ?? []).length}\n`);
    }
    this.set(`${dir}/memory.stat`, `anon ${c.rss ?? 0}\nfile ${c.inactiveFile ?? 0}\ninactive_file ${c.inactiveFile ?? 0}\npgfault ${c.pgfault ?? 0}\npgmajfault ${c.pgmajfault ?? 0}\n`);
    return this;
  }
}
