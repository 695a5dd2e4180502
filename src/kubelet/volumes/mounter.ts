/**
 * The mount(8) seam: tmpfs for memory-backed volumes and bind mounts for pinned subPaths. {@link HostMounter} runs
 * mount/umount and reads /proc/self/mountinfo; {@link FakeMounter} records calls for unit tests.
 */
import { execFile } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { NodeletError } from '../../util/errors.js';

const run = promisify(execFile);

/** Mount operations the volume code needs. All paths are absolute host paths. */
export interface Mounter {
  /** Mounts a tmpfs at `target` (`mount -t tmpfs -o size=<bytes>`, no size = kernel default). */
  mountTmpfs(target: string, sizeBytes?: number): Promise<void>;
  /** Bind-mounts `source` (may be a /proc/<pid>/fd/<n> link) onto the existing `target`. */
  bind(source: string, target: string): Promise<void>;
  /** Unmounts `target` (no-op when it is not a mount point). */
  unmount(target: string): Promise<void>;
  /** Mount points at or below `dir`, deepest first. */
  mountsUnder(dir: string): Promise<string[]>;
  /**
   * True when the existing `dir` is the root of another filesystem than its parent's — exact for the tmpfs mounts of
   * memory-backed volumes, and two stat calls instead of reading the whole mount table on every pod sync. A bind
   * mount from the same filesystem is not seen (use {@link Mounter.mountsUnder} for those).
   */
  hasOwnFilesystem(dir: string): Promise<boolean>;
}

/** Decodes the octal escapes (\040 for space, …) mountinfo uses. */
function unescapeMountPath(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** Mount points listed in mountinfo text (field 5). */
export function parseMountInfo(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    if (f.length > 4 && f[4] !== undefined) out.push(unescapeMountPath(f[4]));
  }
  return out;
}

function under(dir: string, p: string): boolean {
  const d = dir.endsWith('/') ? dir : `${dir}/`;
  return p === dir || p.startsWith(d);
}

/** The real mounter (needs root / CAP_SYS_ADMIN in the host mount namespace). */
export class HostMounter implements Mounter {
  async mountTmpfs(target: string, sizeBytes?: number): Promise<void> {
    const opts = sizeBytes !== undefined && sizeBytes > 0 ? ['-o', `size=${sizeBytes}`] : [];
    await this.#exec('mount', ['-t', 'tmpfs', ...opts, 'tmpfs', target]);
  }

  async bind(source: string, target: string): Promise<void> {
    await this.#exec('mount', ['--bind', source, target]);
  }

  async unmount(target: string): Promise<void> {
    const mounts = await this.mountsUnder(target);
    if (!mounts.includes(target)) return;
    await this.#exec('umount', [target]);
  }

  async mountsUnder(dir: string): Promise<string[]> {
    const text = await readFile('/proc/self/mountinfo', 'utf8');
    return [...new Set(parseMountInfo(text).filter((p) => under(dir, p)))].sort((a, b) => b.length - a.length);
  }

  async hasOwnFilesystem(dir: string): Promise<boolean> {
    const [self, parent] = await Promise.all([stat(dir), stat(path.dirname(dir))]);
    return self.dev !== parent.dev;
  }

  async #exec(cmd: string, args: string[]): Promise<void> {
    try {
      await run(cmd, args, { timeout: 30_000 });
    } catch (err) {
      const stderr = (err as { stderr?: string }).stderr?.trim() ?? '';
      throw new NodeletError('MOUNT_FAILED', `${cmd} ${args.join(' ')} failed: ${stderr || String(err)}`, { cause: err });
    }
  }
}

/** In-memory mounter for unit tests: records mounts, never touches the host. */
export class FakeMounter implements Mounter {
  readonly mounts = new Map<string, { type: 'tmpfs' | 'bind'; source: string; sizeBytes?: number }>();
  readonly calls: string[] = [];

  async mountTmpfs(target: string, sizeBytes?: number): Promise<void> {
    this.calls.push(`tmpfs ${target}${sizeBytes !== undefined ? ` size=${sizeBytes}` : ''}`);
    this.mounts.set(target, { type: 'tmpfs', source: 'tmpfs', sizeBytes });
  }

  async bind(source: string, target: string): Promise<void> {
    this.calls.push(`bind ${source} ${target}`);
    this.mounts.set(target, { type: 'bind', source });
  }

  async unmount(target: string): Promise<void> {
    if (this.mounts.delete(target)) this.calls.push(`umount ${target}`);
  }

  async mountsUnder(dir: string): Promise<string[]> {
    return [...this.mounts.keys()].filter((p) => under(dir, p)).sort((a, b) => b.length - a.length);
  }

  async hasOwnFilesystem(dir: string): Promise<boolean> {
    return this.mounts.get(dir)?.type === 'tmpfs';
  }
}
