/**
 * The contract every {@link FileWatcher} passes (FakeFileWatcher and NodeFileWatcher on a temp dir, in
 * file-watcher.test.ts). Test-only code. The driver changes files the way rotations do: in place, and by writing a
 * temporary file and renaming it over the path.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { FileEvent, FileWatcher, FileWatchHandle } from './file-watcher.js';

/** How the suite changes files for one implementation. */
export interface FileWatcherDriver {
  files: FileWatcher;
  /** A path in the driver's scratch space. */
  path(name: string): string;
  /** Writes in place (creates). */
  write(path: string, data: string): void;
  /** Writes a sibling and renames it over `path`. */
  replace(path: string, data: string): void;
  remove(path: string): void;
  cleanup(): void;
}

/** Resolves with the first event after `start()`, for watchers whose events are asynchronous. */
function nextEvent(files: FileWatcher, path: string): { handle: FileWatchHandle; event: Promise<FileEvent> } {
  let resolve: (e: FileEvent) => void = () => undefined;
  const event = new Promise<FileEvent>((r) => (resolve = r));
  const handle = files.watch(path, (e) => resolve(e));
  return { handle, event };
}

/** Runs the contract against `make()`. */
export function runFileWatcherContract(name: string, make: () => FileWatcherDriver): void {
  describe(`FileWatcher contract: ${name}`, () => {
    let d: FileWatcherDriver | undefined;
    const get = (): FileWatcherDriver => (d ??= make());
    afterEach(() => {
      d?.cleanup();
      d = undefined;
    });

    it('reads the bytes last written, and fails with ENOENT for a missing file', async () => {
      const { files, path, write } = get();
      write(path('a'), 'one');
      expect((await files.read(path('a'))).toString()).toBe('one');
      write(path('a'), 'two');
      expect((await files.read(path('a'))).toString()).toBe('two');
      await expect(files.read(path('missing'))).rejects.toMatchObject({ code: 'ENOENT' });
    });

    it('refuses to watch a missing path with ENOENT', () => {
      const { files, path } = get();
      expect(() => files.watch(path('missing'), () => undefined)).toThrow(expect.objectContaining({ code: 'ENOENT' }) as Error);
    });

    it('reports an in-place write', async () => {
      const drv = get();
      drv.write(drv.path('a'), 'one');
      const w = nextEvent(drv.files, drv.path('a'));
      drv.write(drv.path('a'), 'two');
      expect(['change', 'rename']).toContain(await w.event);
      w.handle.close();
      w.handle.close();
    });

    it('reports a rename over the path with `rename`; watching the path again sees the new file', async () => {
      const drv = get();
      const p = drv.path('a');
      drv.write(p, 'one');
      const first = new Promise<void>((resolve) => {
        const h = drv.files.watch(p, (e) => {
          if (e !== 'rename') return;
          h.close();
          resolve();
        });
      });
      drv.replace(p, 'two');
      await first;
      expect((await drv.files.read(p)).toString()).toBe('two');
      const again = nextEvent(drv.files, p);
      drv.write(p, 'three');
      expect(['change', 'rename']).toContain(await again.event);
      again.handle.close();
    });

    it('reports a removal with `rename`', async () => {
      const drv = get();
      drv.write(drv.path('a'), 'one');
      const events: FileEvent[] = [];
      const removed = new Promise<void>((resolve) => {
        const h = drv.files.watch(drv.path('a'), (e) => {
          events.push(e);
          if (e === 'rename') {
            h.close();
            resolve();
          }
        });
      });
      drv.remove(drv.path('a'));
      await removed;
      expect(events).toContain('rename');
    });
  });
}
