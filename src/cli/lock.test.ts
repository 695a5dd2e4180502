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
  const d = mkdtempSync(join(tmpdir(), 'nl3-lock-'));
  dirs.push(d);
  return d;
}

describe('root dir lock', () => {
  it('creates the root dir and a pid file, released on release()', () => {
    const root = join(dir(), 'root');
    const lock = lockRootDir(root);
    expect(readFileSync(join(root, 'nodelet.pid'), 'utf8')).toBe(`${process.pid}\n`);
    lock.release();
    expect(existsSync(join(root, 'nodelet.pid'))).toBe(false);
    lock.release();
  });

  it('refuses when a live nodelet holds it, and ignores a live process that is not a nodelet', async () => {
    const root = dir();
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 20000)', 'nodelet-lock-test'], { stdio: 'ignore' });
    try {
      await new Promise((r) => child.once('spawn', r));
      writeFileSync(join(root, 'nodelet.pid'), `${child.pid}\n`);
      expect(() => lockRootDir(root)).toThrow(`another nodelet (pid ${child.pid}) is already running with root dir ${root}`);
    } finally {
      child.kill('SIGKILL');
    }
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 20000)'], { stdio: 'ignore' });
    try {
      await new Promise((r) => other.once('spawn', r));
      writeFileSync(join(root, 'nodelet.pid'), `${other.pid}\n`);
      lockRootDir(root).release(); // a recycled pid: the lock is stale
    } finally {
      other.kill('SIGKILL');
    }
  });

  it('takes over a stale pid file whose process is gone', () => {
    const root = dir();
    writeFileSync(join(root, 'nodelet.pid'), '999999999\n');
    const lock = lockRootDir(root);
    expect(readFileSync(join(root, 'nodelet.pid'), 'utf8')).toBe(`${process.pid}\n`);
    lock.release();
  });
});
