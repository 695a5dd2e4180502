import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SocketPairs } from './socket-pair.js';

describe('SocketPairs', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('connects the local end (reading through onread) to a remote end that is never read here; no socket file stays', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'socket-pair-test-'));
    dirs.push(dir);
    const pairs = new SocketPairs(dir);
    const pool = Buffer.alloc(16);
    const got: string[] = [];
    const { local, remote } = await pairs.open({ buffer: pool, callback: (n: number, buf: Buffer) => (got.push(buf.toString('utf8', 0, n)), true) });
    expect(readdirSync(dir)).toEqual([]);
    expect(remote.isPaused()).toBe(true);
    remote.write('to the local end');
    await new Promise((r) => setTimeout(r, 50));
    expect(got.join('')).toBe('to the local end');
    local.write('unread');
    await new Promise((r) => setTimeout(r, 50));
    expect(remote.readableLength).toBe(0); // paused from the start: the bytes stay in the kernel for a child to read
    local.destroy();
    remote.destroy();
  });

  it('concurrent pairs are each connected to their own partner', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'socket-pair-test-'));
    dirs.push(dir);
    const pairs = new SocketPairs(dir);
    const texts: string[][] = [[], [], [], []];
    const opened = await Promise.all(texts.map((t) => pairs.open({ buffer: Buffer.alloc(64), callback: (n: number, buf: Buffer) => (t.push(buf.toString('utf8', 0, n)), true) })));
    opened.forEach((p, i) => p.remote.write(`pair ${i}`));
    await new Promise((r) => setTimeout(r, 50));
    expect(texts.map((t) => t.join(''))).toEqual(['pair 0', 'pair 1', 'pair 2', 'pair 3']);
    for (const p of opened) {
      p.local.destroy();
      p.remote.destroy();
    }
    expect(readdirSync(dir)).toEqual([]);
  });
});
