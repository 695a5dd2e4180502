import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { lockRootDir } from './lock.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function dir(): string {
  const d = mkdtempSync(join(tmpdir(), 'nl6-lock-'));
  dirs.push(d);
  return d;
}

/** A process that takes the lock the way nodelet does, from outside this process; resolves once it holds it. */
async function otherHolder(root: string): Promise<{ pid: number; kill: () => Promise<void> }> {
  const script = `import('${join(process.cwd(), 'src/cli/lock.ts')}').then(async (m) => { await m.lockRootDir(${JSON.stringify(root)}); console.log('held'); setInterval(() => {}, 1000); })`;
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => d.toString().includes('held') && resolve());
    child.once('exit', (c) => reject(new Error(`holder exited ${c}`)));
  });
  return {
    pid: child.pid ?? 0,
    kill: () => new Promise<void>((r) => {
      child.once('exit', () => r());
      child.kill('SIGKILL');
    }),
  };
}

describe('root dir lock (flock)', () => {
  it('creates the root dir, the lock and a pid file; release() frees it for the next taker', async () => {
    const root = join(dir(), 'root');
    const lock = await lockRootDir(root);
    expect(readFileSync(join(root, 'nodelet.pid'), 'utf8')).toBe(`${process.pid}\n`);
    await expect(lockRootDir(root)).rejects.toThrow(`another nodelet (pid ${process.pid}) is already running with root dir ${root}`);
    await lock.release();
    expect(existsSync(join(root, 'nodelet.pid'))).toBe(false);
    await lock.release();
    const again = await lockRootDir(root);
    await again.release();
  });

  it('refuses while another process holds it, and takes it the moment that process is SIGKILLed', async () => {
    const root = dir();
    const holder = await otherHolder(root);
    try {
      await expect(lockRootDir(root)).rejects.toThrow(`another nodelet (pid ${holder.pid}) is already running`);
    } finally {
      await holder.kill();
    }
    // The pid file of the killed owner is still there: it does not matter, only the kernel lock does.
    expect(readFileSync(join(root, 'nodelet.pid'), 'utf8')).toBe(`${holder.pid}\n`);
    let lock;
    for (let i = 0; i < 50 && lock === undefined; i++) {
      // The holder's helper sees EOF on its pipe right after the kill; give the kernel that moment.
      lock = await lockRootDir(root).catch(() => undefined);
    }
    expect(lock).toBeDefined();
    await lock?.release();
  }, 30_000);

  it('ignores a stale pid file naming a live process that holds no lock', async () => {
    const root = dir();
    writeFileSync(join(root, 'nodelet.pid'), `${process.ppid}\n`);
    const lock = await lockRootDir(root);
    expect(readFileSync(join(root, 'nodelet.pid'), 'utf8')).toBe(`${process.pid}\n`);
    await lock.release();
  });

  it('says so when flock cannot run', async () => {
    await expect(lockRootDir(dir(), { flockBin: '/nonexistent/flock' })).rejects.toThrow(/cannot lock .*nodelet\.lock with flock \(util-linux\)/);
  });
});
