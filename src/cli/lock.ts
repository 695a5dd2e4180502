/**
 * One nodelet per root dir: `<rootDir>/nodelet.pid` is created with O_EXCL and holds our pid. A pid file whose
 * process is gone (or is not a nodelet) is stale and taken over; a live owner makes startup fail with a clear message.
 */
import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../util/errors.js';

/** A held lock. */
export interface RootDirLock {
  path: string;
  /** Removes the pid file if it is still ours. Idempotent. */
  release(): void;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A recycled pid that belongs to something else does not hold the lock.
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('nodelet');
  } catch {
    return true;
  }
}

/** Takes the lock (creating the root dir); throws ConfigError when another live nodelet holds it. */
export function lockRootDir(rootDir: string): RootDirLock {
  mkdirSync(rootDir, { recursive: true, mode: 0o750 });
  const path = join(rootDir, 'nodelet.pid');
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, 'wx', 0o644);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new ConfigError(`cannot create lock file ${path}: ${(err as Error).message}`, { field: '--root-dir', cause: err });
      }
      let owner = Number.NaN;
      try {
        owner = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
      } catch {
        continue;
      }
      if (Number.isInteger(owner) && owner !== process.pid && alive(owner)) {
        throw new ConfigError(
          `another nodelet (pid ${owner}) is already running with root dir ${rootDir} (lock file ${path}); stop it or use a different --root-dir`,
          { field: '--root-dir' },
        );
      }
      try {
        unlinkSync(path); // stale: its owner is gone
      } catch {
        // someone else removed it first; retry
      }
      continue;
    }
    writeSync(fd, `${process.pid}\n`);
    closeSync(fd);
    let released = false;
    return {
      path,
      release() {
        if (released) return;
        released = true;
        try {
          if (readFileSync(path, 'utf8').trim() === String(process.pid)) unlinkSync(path);
        } catch {
          // already gone
        }
      },
    };
  }
  throw new ConfigError(`cannot take lock file ${path} (it keeps changing); is another nodelet starting?`, { field: '--root-dir' });
}
