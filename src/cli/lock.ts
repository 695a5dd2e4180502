/**
 * One nodelet per root dir, with a kernel lock: `flock(2)` on `<rootDir>/nodelet.lock`, held by a small helper
 * process (`flock` from util-linux; Node has no flock) that lives exactly as long as this process: it waits on a pipe
 * from us and exits when the pipe closes — on release, on exit, and on SIGKILL alike — and the kernel drops the lock
 * with it. Nothing reads a pid to decide staleness, so there is no window between "the owner is gone" and taking
 * over. `<rootDir>/nodelet.pid` is written for people and for the error message only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, errorMessage } from '../util/errors.js';

/** A held lock. */
export interface RootDirLock {
  path: string;
  /**
   * Removes the pid file if it is still ours and ends the lock holder; resolves when the holder is gone (the kernel
   * has dropped the lock). Idempotent.
   */
  release(): Promise<void>;
}

/** flock's exit code when the lock is held by someone else (`--conflict-exit-code`). */
const CONFLICT = 75;

function owner(pidFile: string): string {
  try {
    const pid = readFileSync(pidFile, 'utf8').trim();
    return pid === '' ? '' : ` (pid ${pid})`;
  } catch {
    return '';
  }
}

/** Starts the holder; resolves once it holds the lock, or with the exit code when it could not take it. */
function hold(lockFile: string, flockBin: string): Promise<{ child: ChildProcess } | { code: number | null; error?: string }> {
  return new Promise((resolve) => {
    // `read` returns at EOF, i.e. when our end of stdin closes (release, exit, crash).
    const child = spawn(flockBin, ['--nonblock', '--conflict-exit-code', String(CONFLICT), lockFile, 'sh', '-c', 'echo locked; read _ignored'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('locked\n')) resolve({ child });
    });
    child.once('error', (e) => resolve({ code: null, error: errorMessage(e) }));
    child.once('exit', (code) => resolve({ code, error: err.trim() || undefined }));
  });
}

/**
 * Takes the lock (creating the root dir); throws ConfigError when another nodelet holds it or flock cannot run.
 * The holder does not keep the event loop alive.
 */
export async function lockRootDir(rootDir: string, options: { flockBin?: string } = {}): Promise<RootDirLock> {
  mkdirSync(rootDir, { recursive: true, mode: 0o750 });
  const path = join(rootDir, 'nodelet.lock');
  const pidFile = join(rootDir, 'nodelet.pid');
  const r = await hold(path, options.flockBin ?? 'flock');
  if (!('child' in r)) {
    if (r.code === CONFLICT) {
      throw new ConfigError(
        `another nodelet${owner(pidFile)} is already running with root dir ${rootDir} (lock file ${path}); stop it or use a different --root-dir`,
        { field: '--root-dir' },
      );
    }
    throw new ConfigError(`cannot lock ${path} with flock (util-linux): ${r.error ?? `exit code ${String(r.code)}`}`, { field: '--root-dir' });
  }
  const { child } = r;
  child.unref();
  for (const s of [child.stdin, child.stdout, child.stderr]) (s as unknown as { unref?: () => void } | null)?.unref?.();
  writeFileSync(pidFile, `${process.pid}\n`, { mode: 0o644 });
  const gone = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  let released: Promise<void> | undefined;
  return {
    path,
    release() {
      released ??= (async () => {
        try {
          if (readFileSync(pidFile, 'utf8').trim() === String(process.pid)) unlinkSync(pidFile);
        } catch {
          // already gone
        }
        child.stdin?.end(); // the holder's `read` sees EOF and exits; flock exits with it
        await gone;
      })();
      return released;
    },
  };
}
