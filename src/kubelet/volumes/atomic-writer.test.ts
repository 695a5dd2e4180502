import { lstat, mkdtemp, readFile, readdir, readlink, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { currentPayloadDir, payloadDigest, validatePayloadPath, writeAtomic, WrittenPayloads, type Payload } from './atomic-writer.js';

const p = (entries: Record<string, [string, number?]>): Payload =>
  new Map(Object.entries(entries).map(([k, [data, mode]]) => [k, { data: Buffer.from(data), mode: mode ?? 0o644 }]));

describe('writeAtomic', () => {
  let dir: string;
  beforeEach(async () => {
    dir = path.join(await mkdtemp(path.join(os.tmpdir(), 'nlpe-aw-')), 'vol');
  });
  afterEach(async () => {
    await rm(path.dirname(dir), { recursive: true, force: true });
  });

  it('lays out ..data -> ..<timestamp> and user-visible symlinks with modes', async () => {
    expect(await writeAtomic(dir, p({ a: ['1', 0o400], 'sub/b': ['2'] }), new Date(Date.UTC(2026, 0, 2, 3, 4, 5)))).toBe(true);
    const ts = await readlink(path.join(dir, '..data'));
    expect(ts).toMatch(/^\.\.2026_01_02_03_04_05\.\d+$/);
    expect(await readlink(path.join(dir, 'a'))).toBe('..data/a');
    expect(await readlink(path.join(dir, 'sub'))).toBe('..data/sub');
    expect(await readFile(path.join(dir, 'sub/b'), 'utf8')).toBe('2');
    expect((await stat(path.join(dir, 'a'))).mode & 0o777).toBe(0o400);
    expect((await readdir(dir)).sort()).toEqual(['..data', ts, 'a', 'sub'].sort());
  });

  it('is a no-op for an unchanged payload and swaps ..data on change, removing old keys and the old dir', async () => {
    await writeAtomic(dir, p({ a: ['1'], b: ['2'] }));
    const ts1 = await readlink(path.join(dir, '..data'));
    expect(await writeAtomic(dir, p({ a: ['1'], b: ['2'] }))).toBe(false);
    expect(await readlink(path.join(dir, '..data'))).toBe(ts1);
    expect(await writeAtomic(dir, p({ a: ['changed'], c: ['3'] }))).toBe(true);
    const ts2 = await readlink(path.join(dir, '..data'));
    expect(ts2).not.toBe(ts1);
    expect(await readFile(path.join(dir, 'a'), 'utf8')).toBe('changed');
    expect(await readFile(path.join(dir, 'c'), 'utf8')).toBe('3');
    await expect(lstat(path.join(dir, 'b'))).rejects.toThrow();
    await expect(lstat(path.join(dir, ts1))).rejects.toThrow();
    expect(await currentPayloadDir(dir)).toBe(path.join(dir, ts2));
  });

  it('a mode change alone rewrites', async () => {
    await writeAtomic(dir, p({ a: ['1', 0o644] }));
    expect(await writeAtomic(dir, p({ a: ['1', 0o600] }))).toBe(true);
    expect((await stat(path.join(dir, 'a'))).mode & 0o777).toBe(0o600);
  });

  it('an empty payload leaves an empty volume', async () => {
    await writeAtomic(dir, p({ a: ['1'] }));
    await writeAtomic(dir, new Map());
    expect((await readdir(dir)).filter((e) => !e.startsWith('..'))).toEqual([]);
  });

  it.each(['/abs', '../up', 'a/../../b', '..hidden', ''])('rejects the payload path %j', (bad) => {
    expect(() => validatePayloadPath(bad)).toThrow(/invalid path/);
  });
});

describe('WrittenPayloads', () => {
  let dir: string;
  beforeEach(async () => {
    dir = path.join(await mkdtemp(path.join(os.tmpdir(), 'nlpe-wp-')), 'pod', 'vol');
  });
  afterEach(async () => {
    await rm(path.dirname(path.dirname(dir)), { recursive: true, force: true });
  });

  it('knows a directory is current only while ..data points at what it remembered and the payload is the same', async () => {
    const w = new WrittenPayloads();
    const one = p({ a: ['1'] });
    expect(await w.isCurrent(dir, one)).toBe(false);
    await writeAtomic(dir, one);
    await w.remember(dir, one);
    expect(await w.isCurrent(dir, p({ a: ['1'] }))).toBe(true);
    expect(await w.isCurrent(dir, p({ a: ['2'] }))).toBe(false);
    expect(await w.isCurrent(dir, p({ a: ['1', 0o600] }))).toBe(false);
    // Someone else rewrote the volume: the link moved, so the full comparison runs again.
    await writeAtomic(dir, p({ a: ['other'] }));
    expect(await w.isCurrent(dir, one)).toBe(false);
    await w.remember(dir, one);
    await rm(dir, { recursive: true });
    expect(await w.isCurrent(dir, one)).toBe(false);
  });

  it('forgets the directories of a removed pod', async () => {
    const w = new WrittenPayloads();
    const one = p({ a: ['1'] });
    await writeAtomic(dir, one);
    await w.remember(dir, one);
    w.forgetUnder(path.dirname(dir));
    expect(await w.isCurrent(dir, one)).toBe(false);
  });

  it('digests paths, modes and contents', () => {
    expect(payloadDigest(p({ a: ['1'], b: ['2'] }))).toBe(payloadDigest(p({ b: ['2'], a: ['1'] })));
    expect(payloadDigest(p({ a: ['12'] }))).not.toBe(payloadDigest(p({ a: ['1'], '2': [''] })));
  });
});
