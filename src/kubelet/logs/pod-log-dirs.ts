/**
 * Removal of the log directories of pods that are gone (upstream containerGC.evictPodLogsDirectories, run with the
 * container garbage collection): `<podLogsDir>/<namespace>_<name>_<uid>` goes once every pod source is ready, the
 * agent does not know the pod (no desired pod, no live worker), the pod workers say its content may be removed, and
 * the runtime lists no container and no sandbox of that UID (any owner: agents sharing an engine keep each other's
 * directories while their containers exist). Anything else in the directory — files, symlinks, names that are not
 * `<ns>_<name>_<uid>` — is never touched. {@link selectOrphanedPodLogDirs} is the pure decision,
 * {@link PodLogDirCleaner} the effectful shell.
 */
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ContainerRuntime } from '../../cri/types.js';
import { LABELS } from '../../cri/types.js';
import { errorFields, errorMessage, NodeletError } from '../../util/errors.js';
import type { Logger } from '../../util/logger.js';

/** The parts of a pod log directory name `<namespace>_<name>_<uid>`. */
export interface PodLogDirName {
  namespace: string;
  name: string;
  uid: string;
}

/**
 * Splits a pod log directory name; undefined unless it is exactly three non-empty `_`-separated parts (namespaces and
 * pod names are DNS names, which cannot hold `_`) with no path characters. Pure.
 */
export function parsePodLogDirName(entry: string): PodLogDirName | undefined {
  const parts = entry.split('_');
  if (parts.length !== 3 || parts.some((p) => p === '' || p === '.' || p === '..' || p.includes('/'))) return undefined;
  const [namespace = '', name = '', uid = ''] = parts;
  return { namespace, name, uid };
}

/** One entry of the pod logs directory (as `readdir` with file types reports it: a symlink is not a directory). */
export interface PodLogDirEntry {
  name: string;
  isDirectory: boolean;
}

/** What the pod workers know, asked at decision time (after the directory was read). */
export interface PodLogDirPodState {
  /** Every pod source delivered its complete set (upstream: nothing is removed before). */
  allSourcesReady(): boolean;
  /** The agent has the pod: a desired pod, or a worker that is not terminated. */
  knows(uid: string): boolean;
  /** Upstream ShouldPodContentBeRemoved (evicted, deleted and terminated, or unknown once sources are ready). */
  contentRemovable(uid: string): boolean;
}

/** Inputs of {@link selectOrphanedPodLogDirs}. */
export interface OrphanedPodLogDirInput {
  entries: readonly PodLogDirEntry[];
  pods: PodLogDirPodState;
  /** Pod UIDs the runtime still has containers or sandboxes of. */
  runtimeUIDs: ReadonlySet<string>;
}

/** Entry names to remove, in input order (see module comment). Pure apart from the predicates it calls. */
export function selectOrphanedPodLogDirs(input: OrphanedPodLogDirInput): string[] {
  const { pods, runtimeUIDs } = input;
  if (!pods.allSourcesReady()) return [];
  const out: string[] = [];
  for (const e of input.entries) {
    if (!e.isDirectory) continue;
    const parsed = parsePodLogDirName(e.name);
    if (parsed === undefined || runtimeUIDs.has(parsed.uid)) continue;
    if (pods.knows(parsed.uid) || !pods.contentRemovable(parsed.uid)) continue;
    out.push(e.name);
  }
  return out;
}

/** The runtime calls the cleaner makes (unfiltered listings: every owner's objects count). */
export type PodLogDirRuntime = Pick<ContainerRuntime, 'listContainers' | 'listPodSandboxes'>;

/** File system calls of the cleaner (injectable for tests). */
export interface PodLogDirFs {
  /** Entries of `dir`; rejects with code ENOENT when it does not exist. */
  list(dir: string): Promise<PodLogDirEntry[]>;
  /** Removes `path` and everything under it (never follows a symlink out of it). */
  removeAll(path: string): Promise<void>;
}

/** The real file system. */
export const hostPodLogDirFs: PodLogDirFs = {
  list: async (dir) => (await readdir(dir, { withFileTypes: true })).map((d) => ({ name: d.name, isDirectory: d.isDirectory() })),
  removeAll: (path) => rm(path, { recursive: true, force: true }),
};

/** Options of {@link PodLogDirCleaner}. */
export interface PodLogDirCleanerOptions {
  /** podLogsDir (absolute, normalized: validated with the config). */
  dir: string;
  runtime: PodLogDirRuntime;
  pods: PodLogDirPodState;
  fs?: PodLogDirFs;
  logger: Logger;
}

/** See module comment. `cleanup()` is one step; callers serialize it (it runs inside the container GC loop). */
export class PodLogDirCleaner {
  readonly #o: PodLogDirCleanerOptions;
  readonly #fs: PodLogDirFs;

  constructor(options: PodLogDirCleanerOptions) {
    this.#o = options;
    this.#fs = options.fs ?? hostPodLogDirFs;
  }

  /**
   * Removes the orphaned pod log directories; returns their names. A missing podLogsDir is no error. Throws
   * NodeletError CONTAINER_GC_FAILED when the directory or the runtime cannot be listed (then nothing is removed);
   * a failed removal is only logged, as upstream.
   */
  async cleanup(): Promise<string[]> {
    const { dir, runtime, pods, logger } = this.#o;
    if (!pods.allSourcesReady()) return [];
    let entries: PodLogDirEntry[];
    try {
      entries = await this.#fs.list(dir);
    } catch (err) {
      if ((err as { code?: unknown }).code === 'ENOENT') return [];
      throw new NodeletError('CONTAINER_GC_FAILED', `failed to read podLogsDir "${dir}": ${errorMessage(err)}`, { cause: err });
    }
    if (!entries.some((e) => e.isDirectory && parsePodLogDirName(e.name) !== undefined)) return [];
    // Listed after the directory was read: a pod whose directory was seen is known or has objects by now.
    let runtimeUIDs: Set<string>;
    try {
      const [containers, sandboxes] = await Promise.all([runtime.listContainers(), runtime.listPodSandboxes()]);
      runtimeUIDs = new Set([...containers.map((c) => c.labels[LABELS.podUID] ?? ''), ...sandboxes.map((s) => s.labels[LABELS.podUID] ?? s.metadata.uid)]);
    } catch (err) {
      throw new NodeletError('CONTAINER_GC_FAILED', `failed to list the runtime's containers for pod log cleanup: ${errorMessage(err)}`, { cause: err });
    }
    const removed: string[] = [];
    for (const name of selectOrphanedPodLogDirs({ entries, pods, runtimeUIDs })) {
      try {
        await this.#fs.removeAll(join(dir, name));
        removed.push(name);
        logger.info({ path: join(dir, name), podUID: parsePodLogDirName(name)?.uid }, 'removed log directory of a pod that is gone');
      } catch (err) {
        logger.warn({ path: join(dir, name), ...errorFields(err) }, 'failed to remove pod log directory');
      }
    }
    return removed;
  }
}
