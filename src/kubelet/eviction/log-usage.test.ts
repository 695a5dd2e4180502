import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { V1Pod } from '@kubernetes/client-node';
import { containerLogBytes } from './log-usage.js';
import { evictionMessage, rankForEviction, type PodUsage } from './rank.js';

const dir = mkdtempSync(join(tmpdir(), 'h7-logusage-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('container log usage (eviction, nodefs)', () => {
  it('counts the log file and its rotated siblings, follows a symlinked log path, ignores other files', async () => {
    const c = join(dir, 'c');
    mkdirSync(c);
    writeFileSync(join(c, '0.log'), Buffer.alloc(64 * 1024, 1));
    writeFileSync(join(c, '0.log.20261202-043405.gz'), Buffer.alloc(32 * 1024, 1));
    writeFileSync(join(c, '1.log'), Buffer.alloc(128 * 1024, 1));
    const direct = await containerLogBytes(join(c, '0.log'));
    expect(direct).toBeGreaterThanOrEqual(96 * 1024);
    expect(direct).toBeLessThan(128 * 1024);
    symlinkSync(join(c, '0.log'), join(dir, 'link.log'));
    expect(await containerLogBytes(join(dir, 'link.log'))).toBe(direct);
    expect(await containerLogBytes(join(dir, 'missing.log'))).toBe(0);
    expect(await containerLogBytes('')).toBe(0);
  });

  it('log bytes rank a pod and name its container in the message (usage above request first)', () => {
    const pod = (name: string, req?: string): V1Pod => ({
      metadata: { name, uid: name },
      spec: { containers: [{ name: 'c', image: 'i', resources: req === undefined ? {} : { requests: { 'ephemeral-storage': req } } }] },
    });
    const u = (uid: string, logs: number, emptyDir = 0): PodUsage => ({
      uid,
      memoryWorkingSet: 0,
      processes: 0,
      ephemeralBytes: logs + emptyDir,
      containers: [{ name: 'c', memoryWorkingSet: 0, ephemeralBytes: logs }],
    });
    const pods = [pod('quiet', '1Mi'), pod('chatty', '1Mi'), pod('volume')];
    const usages = new Map([['quiet', u('quiet', 512 * 1024)], ['chatty', u('chatty', 8 * 1024 * 1024)], ['volume', u('volume', 0, 4 * 1024 * 1024)]]);
    expect(rankForEviction(pods, usages, 'ephemeral-storage').map((p) => p.metadata?.name)).toEqual(['chatty', 'volume', 'quiet']);
    const msg = evictionMessage({ pod: pods[1] as V1Pod, usage: usages.get('chatty'), resource: 'ephemeral-storage', thresholdQuantity: 24 * 1024 * 1024, observation: { available: 10 * 1024 * 1024, capacity: 64 * 1024 * 1024 } });
    expect(msg).toBe('The node was low on resource: ephemeral-storage. Threshold quantity: 24Mi, available: 10Mi. Container c was using 8Mi, request is 1Mi, has larger consumption of ephemeral-storage. ');
  });
});
