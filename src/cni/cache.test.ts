import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ResultCache, cacheFile } from './cache.js';

describe('ResultCache', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('remove also deletes the temp file of a write a SIGKILL interrupted (found by the kill -9 e2e)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nl-cni-cache-'));
    dirs.push(dir);
    mkdirSync(join(dir, 'results'));
    const file = cacheFile(dir, 'net', 'c1', 'eth0');
    // The agent died between writeFile(<file>.tmp) and rename: only the temp file exists.
    writeFileSync(`${file}.tmp`, '{"half":');
    const cache = new ResultCache(dir);
    expect(await cache.list()).toEqual([]);
    await cache.remove('net', 'c1', 'eth0');
    expect(existsSync(`${file}.tmp`)).toBe(false);
    expect(readdirSync(join(dir, 'results'))).toEqual([]);
  });
});
