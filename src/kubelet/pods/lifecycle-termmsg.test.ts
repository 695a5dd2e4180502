import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { V1Container } from '@kubernetes/client-node';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PAUSE_IMAGE } from '../../cri/index.js';
import type { PodEnvironment } from '../podenv/types.js';
import { minimalPodEnvironment } from './default-env.js';
import { apiPod, ctr, mkPod, world, type World } from './harness.test-util.js';

let w: World | undefined;
let dir = '';
afterEach(async () => {
  await w?.lc.stop();
  w = undefined;
  if (dir !== '') await rm(dir, { recursive: true, force: true });
  dir = '';
});

/** The minimal environment plus a termination message file per container, pre-filled with `content(c)`. */
async function withMessageFiles(content: (c: V1Container) => string): Promise<PodEnvironment> {
  dir = await mkdtemp(path.join(os.tmpdir(), 'nl6-termmsg-'));
  const base = minimalPodEnvironment(PAUSE_IMAGE);
  return {
    ...base,
    async containerConfig(pod, c, ctx) {
      const cfg = await base.containerConfig(pod, c, ctx);
      const file = path.join(dir, `${c.name}-${ctx.attempt}`);
      await writeFile(file, content(c));
      cfg.mounts.push({ hostPath: file, containerPath: c.terminationMessagePath ?? '/dev/termination-log', readonly: false });
      return cfg;
    },
  };
}

/**
 * Settles until `done()`: the termination files are real I/O on libuv's thread pool, which a settle round (fake clock,
 * setImmediate turns) does not wait for on a loaded machine.
 */
async function settleUntil(done: () => boolean): Promise<void> {
  await vi.waitFor(async () => {
    await (w as World).settle();
    if (!done()) throw new Error('not yet');
  }, { timeout: 10_000, interval: 10 });
}

const terminated = (name: string, c: string) =>
  apiPod(w as World, name)?.status?.containerStatuses?.find((s) => s.name === c)?.state?.terminated;

describe('termination messages', () => {
  it('reports the termination-log content (last 4096 bytes) as state.terminated.message', async () => {
    const long = `${'x'.repeat(5000)}END`;
    w = await world({ podEnvironment: await withMessageFiles((c) => (c.name === 'long' ? long : 'all done\n')) });
    w.api.apply(mkPod('msg', { restartPolicy: 'Never', containers: [ctr('ok', 'exit 0'), ctr('long', 'exit 0')] }));
    await settleUntil(() => apiPod(w as World, 'msg')?.status?.phase === 'Succeeded');
    expect(terminated('msg', 'ok')).toMatchObject({ exitCode: 0, reason: 'Completed', message: 'all done\n' });
    expect(terminated('msg', 'long')?.message).toBe(long.slice(-4096));
  });

  it('FallbackToLogsOnError: an empty file and a failure report the last log lines; File policy does not', async () => {
    w = await world({ podEnvironment: await withMessageFiles(() => '') });
    const script = Array.from({ length: 100 }, (_, i) => `echo line${i}`).join('; ');
    w.api.apply(mkPod('fb', {
      restartPolicy: 'Never',
      containers: [
        ctr('fails', `${script}; exit 3`, { terminationMessagePolicy: 'FallbackToLogsOnError' }),
        ctr('succeeds', 'echo fine; exit 0', { terminationMessagePolicy: 'FallbackToLogsOnError' }),
        ctr('file', 'echo nope; exit 1', { terminationMessagePolicy: 'File' }),
      ],
    }));
    await settleUntil(() => apiPod(w as World, 'fb')?.status?.phase === 'Failed');
    const expected = Array.from({ length: 80 }, (_, i) => `line${i + 20}\n`).join('');
    expect(terminated('fb', 'fails')?.message).toBe(expected.slice(0, 2048));
    expect(terminated('fb', 'succeeds')?.message).toBeUndefined();
    expect(terminated('fb', 'file')?.message).toBeUndefined();
  });
});
