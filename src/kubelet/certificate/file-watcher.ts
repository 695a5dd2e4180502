/**
 * The file seam of certificate reloading (upstream's fsnotify + `os.ReadFile` in apiserver's dynamiccertificates):
 * read a file, and be told when it may have changed. {@link NodeFileWatcher} is the real one over `node:fs`
 * (inotify on Linux); `FakeFileWatcher` (fake-file-watcher.ts) the in-memory one. Both pass
 * file-watcher.contract.ts.
 */
import { watch as fsWatch } from 'node:fs';
import { readFile } from 'node:fs/promises';

/**
 * What happened to a watched path: `change` (content or metadata written in place) or `rename` (the file was
 * renamed, replaced by a rename over it, or removed). After `rename` the watch may be attached to a file that is no
 * longer at the path: the owner closes it and watches the path again.
 */
export type FileEvent = 'change' | 'rename';

/** A running watch. */
export interface FileWatchHandle {
  /** Stops delivering events. Idempotent. */
  close(): void;
}

/** Reads and watches files. */
export interface FileWatcher {
  /** The file's bytes. Rejects with the system error (`code` `ENOENT`, `EACCES`, …) when it cannot be read. */
  read(path: string): Promise<Buffer>;
  /**
   * Calls `onEvent` (asynchronously, possibly several times per write) after the file at `path` changed. Throws the
   * system error (`code` `ENOENT`) when the path does not exist. A watch that breaks reports `rename` once.
   */
  watch(path: string, onEvent: (event: FileEvent) => void): FileWatchHandle;
}

/** The real {@link FileWatcher}: `fs.promises.readFile` and `fs.watch` (not holding the process open). */
export class NodeFileWatcher implements FileWatcher {
  read(path: string): Promise<Buffer> {
    return readFile(path);
  }

  watch(path: string, onEvent: (event: FileEvent) => void): FileWatchHandle {
    let closed = false;
    const w = fsWatch(path, { persistent: false }, (event) => {
      if (!closed) onEvent(event === 'rename' ? 'rename' : 'change');
    });
    w.on('error', () => {
      if (closed) return;
      closed = true;
      w.close();
      onEvent('rename');
    });
    return {
      close() {
        closed = true;
        w.close();
      },
    };
  }
}
