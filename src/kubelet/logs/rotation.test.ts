import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../util/clock.js';
import { silentLogger } from '../../util/logger.js';
import { ContainerLogManager, planRotatedFiles, rotationTimestamp, type LogRotationRuntime } from './rotation.js';

describe('planRotatedFiles', () => {
  it('removes temp files, uncompressed leftovers and the oldest beyond maxFiles-2, compresses the rest', () => {
    const files = ['0.log.20260101-000001.gz', '0.log.20260101-000002.gz', '0.log.20260101-000003', '0.log.20260101-000003.gz', '0.log.20260101-000004', 'x.gz.tmp'];
    expect(planRotatedFiles(files, 4)).toEqual({
      remove: ['x.gz.tmp', '0.log.20260101-000003', '0.log.20260101-000001.gz', '0.log.20260101-000002.gz'],
      compress: ['0.log.20260101-000004'],
    });
    expect(planRotatedFiles(['a.1', 'a.2'], 2)).toEqual({ remove: ['a.1', 'a.2'], compress: [] });
  });
  it('formats the rotation time as upstream', () => {
    expect(rotationTimestamp(Date.UTC(2026, 11, 2, 3, 4, 5))).toBe('20261202-030405');
  });
});

describe('ContainerLogManager', () => {
  let dir = '';
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const setup = (reopenFails = false) => {
    dir = mkdtempSync(join(tmpdir(), 'nl-logrot-'));
    const log = join(dir, '0.log');
    const reopened: string[] = [];
    const runtime = {
      listContainers: async () => [{ id: 'c1' }],
      containerStatus: async () => ({ logPath: log }),
      reopenContainerLog: async (id: string) => {
        if (reopenFails) throw new Error('boom');
        reopened.push(id);
        writeFileSync(log, '');
      },
    } as unknown as LogRotationRuntime;
    const clock = new FakeClock(Date.UTC(2026, 11, 2, 0, 0, 0));
    const m = new ContainerLogManager({ runtime, maxSizeBytes: 100, maxFiles: 3, clock, logger: silentLogger() });
    return { log, reopened, clock, m };
  };

  it('rotates a log at the size limit, compresses older rotations, keeps at most maxFiles files', async () => {
    const { log, reopened, clock, m } = setup();
    writeFileSync(log, 'small');
    await m.rotateAll();
    expect(reopened).toEqual([]);
    for (let i = 0; i < 3; i++) {
      writeFileSync(log, `${'x'.repeat(150)}${i}`);
      clock.advance(1000);
      await m.rotateAll();
    }
    expect(reopened).toEqual(['c1', 'c1', 'c1']);
    const files = readdirSync(dir).sort();
    // current + latest rotated (plain) + maxFiles-2 = 1 older compressed
    expect(files).toEqual(['0.log', '0.log.20261202-000002.gz', '0.log.20261202-000003']);
    expect(gunzipSync(readFileSync(join(dir, '0.log.20261202-000002.gz'))).toString()).toBe(`${'x'.repeat(150)}1`);
  });

  it('undoes the rename when the runtime cannot reopen the log', async () => {
    const { log, m } = setup(true);
    writeFileSync(log, 'y'.repeat(200));
    await m.rotateAll();
    expect(existsSync(log)).toBe(true);
    expect(readdirSync(dir)).toEqual(['0.log']);
  });
});
