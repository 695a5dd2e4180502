/**
 * Where allocated pod resources are kept (upstream pkg/kubelet/allocation/state): per pod UID, the resources
 * (requests/limits as given in the spec) of each resizable container the kubelet admitted or accepted a resize for.
 * {@link FileAllocationState} checkpoints them to `<rootDir>/allocated_pods_state` (JSON with a checksum, written to
 * a temporary file and renamed: a crash never leaves half a file), so a restarted agent keeps running pods with what
 * it allocated, not with a resize it never accepted. {@link MemoryAllocationState} is the in-memory fake; both pass
 * the same tests (state.test.ts).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { NodeletError } from '../../util/errors.js';

/** Requests and limits of one container as quantities (the spec's `resources`, cpu/memory and the rest). */
export interface ContainerAllocation {
  requests?: Record<string, string>;
  limits?: Record<string, string>;
}

/** Allocation of one pod: container name → its allocated resources. */
export type PodAllocation = Record<string, ContainerAllocation>;

/** See module comment. Synchronous: a checkpoint write is one small file. */
export interface AllocationState {
  get(uid: string): PodAllocation | undefined;
  /** Stores the pod's allocation; throws NodeletError `CHECKPOINT_FAILED` when it cannot be persisted. */
  set(uid: string, alloc: PodAllocation): void;
  remove(uid: string): void;
  uids(): string[];
}

/** Keeps allocations in memory (tests, and runs without a root dir). */
export class MemoryAllocationState implements AllocationState {
  protected readonly pods = new Map<string, PodAllocation>();

  get(uid: string): PodAllocation | undefined {
    const a = this.pods.get(uid);
    return a === undefined ? undefined : structuredClone(a);
  }

  set(uid: string, alloc: PodAllocation): void {
    this.pods.set(uid, structuredClone(alloc));
  }

  remove(uid: string): void {
    this.pods.delete(uid);
  }

  uids(): string[] {
    return [...this.pods.keys()];
  }
}

/** The checkpoint file's name, as upstream's. */
export const ALLOCATION_CHECKPOINT = 'allocated_pods_state';

interface CheckpointFile {
  data: Record<string, PodAllocation>;
  checksum: string;
}

const checksum = (data: Record<string, PodAllocation>): string => createHash('sha256').update(JSON.stringify(data)).digest('hex');

/**
 * Allocations checkpointed to `path` (see module comment). A missing file is an empty state; a corrupt one (bad JSON
 * or checksum) is reported once through `onCorrupt` and treated as empty, as upstream starts over then.
 */
export class FileAllocationState extends MemoryAllocationState {
  readonly #path: string;

  constructor(path: string, onCorrupt?: (err: Error) => void) {
    super();
    this.#path = path;
    let text: string | undefined;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      text = undefined;
    }
    if (text === undefined) return;
    try {
      const file = JSON.parse(text) as Partial<CheckpointFile>;
      if (file.data === undefined || file.checksum !== checksum(file.data)) throw new Error('checksum mismatch');
      for (const [uid, alloc] of Object.entries(file.data)) this.pods.set(uid, alloc);
    } catch (err) {
      onCorrupt?.(new NodeletError('CHECKPOINT_FAILED', `allocation checkpoint ${path} is corrupt, starting empty: ${(err as Error).message}`));
    }
  }

  /** `<rootDir>/allocated_pods_state`. */
  static inRootDir(rootDir: string, onCorrupt?: (err: Error) => void): FileAllocationState {
    return new FileAllocationState(join(rootDir, ALLOCATION_CHECKPOINT), onCorrupt);
  }

  override set(uid: string, alloc: PodAllocation): void {
    const before = this.pods.get(uid);
    super.set(uid, alloc);
    if (before !== undefined && JSON.stringify(before) === JSON.stringify(alloc)) return;
    this.#write();
  }

  override remove(uid: string): void {
    if (!this.pods.has(uid)) return;
    super.remove(uid);
    this.#write();
  }

  #write(): void {
    // Code-unit order (the same as localeCompare's for UIDs) without loading ICU's collation data (~3 MB RSS).
    const data = Object.fromEntries([...this.pods].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    const body: CheckpointFile = { data, checksum: checksum(data) };
    const tmp = `${this.#path}.tmp`;
    try {
      mkdirSync(dirname(this.#path), { recursive: true });
      writeFileSync(tmp, JSON.stringify(body), { mode: 0o600 });
      renameSync(tmp, this.#path);
    } catch (err) {
      throw new NodeletError('CHECKPOINT_FAILED', `failed to write allocation checkpoint ${this.#path}: ${(err as Error).message}`, { cause: err });
    }
  }
}
