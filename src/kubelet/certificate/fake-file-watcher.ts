/**
 * In-memory {@link FileWatcher} for tests. Events are delivered synchronously from the mutating call, with inotify's
 * semantics: a watch follows the file it was put on, so after {@link FakeFileWatcher.replace} or
 * {@link FakeFileWatcher.remove} it reports `rename` and then stays silent until the path is watched again.
 */
import type { FileEvent, FileWatcher, FileWatchHandle } from './file-watcher.js';

interface FakeWatch {
  path: string;
  onEvent: (event: FileEvent) => void;
}

function enoent(syscall: string, path: string): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(`ENOENT: no such file or directory, ${syscall} '${path}'`);
  err.code = 'ENOENT';
  err.syscall = syscall;
  err.path = path;
  return err;
}

/** See module comment. */
export class FakeFileWatcher implements FileWatcher {
  readonly #files = new Map<string, Buffer>();
  readonly #watches = new Set<FakeWatch>();
  /** Number of `read` calls (tests assert that a periodic check happened). */
  reads = 0;

  read(path: string): Promise<Buffer> {
    this.reads++;
    const data = this.#files.get(path);
    return data === undefined ? Promise.reject(enoent('open', path)) : Promise.resolve(Buffer.from(data));
  }

  watch(path: string, onEvent: (event: FileEvent) => void): FileWatchHandle {
    if (!this.#files.has(path)) throw enoent('watch', path);
    const w: FakeWatch = { path, onEvent };
    this.#watches.add(w);
    return { close: () => void this.#watches.delete(w) };
  }

  /** Writes the file in place (creates it when missing); watches of the path see `change`. */
  write(path: string, data: string | Buffer): void {
    this.#files.set(path, Buffer.from(data));
    this.#emit(path, 'change', false);
  }

  /** Replaces the file by a rename over it (a new inode): watches of the path see `rename` and end. */
  replace(path: string, data: string | Buffer): void {
    this.#files.set(path, Buffer.from(data));
    this.#emit(path, 'rename', true);
  }

  /** Removes the file: watches see `rename` and end. */
  remove(path: string): void {
    this.#files.delete(path);
    this.#emit(path, 'rename', true);
  }

  /** Number of live watches on `path`. */
  watching(path: string): number {
    return [...this.#watches].filter((w) => w.path === path).length;
  }

  #emit(path: string, event: FileEvent, end: boolean): void {
    for (const w of [...this.#watches]) {
      if (w.path !== path) continue;
      if (end) this.#watches.delete(w);
      w.onEvent(event);
    }
  }
}
