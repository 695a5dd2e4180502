import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FakeClock } from '../../util/clock.js';
import { NodeletError } from '../../util/errors.js';
import { FakePodApi } from '../pods/testing.js';
import { ApiSource } from './api.js';
import { FileSource } from './file.js';
import { HttpSource } from './http.js';
import type { PodSetListener, SourceName } from './types.js';

const MANIFEST = 'apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: default}\nspec: {containers: [{name: c, image: x}]}\n';

/** A logger whose JSON lines land in `lines`. */
function memoryLogger(): { logger: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
  return { logger, lines };
}

/** A handler that throws on its first `failures` calls, then records the sets it got. */
function flakyHandler(failures: number): { onPods: PodSetListener; calls: () => number; delivered: V1Pod[][] } {
  let calls = 0;
  const delivered: V1Pod[][] = [];
  return {
    calls: () => calls,
    delivered,
    onPods: (_source, pods) => {
      calls++;
      if (calls <= failures) {
        throw new NodeletError('INTERNAL', 'handler broke', { field: 'spec.containers[0]', cause: new Error('root cause') });
      }
      delivered.push(pods);
    },
  };
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

/** Runs microtasks and I/O callbacks until `done()`. */
async function until(done: () => boolean): Promise<void> {
  await vi.waitFor(() => {
    if (!done()) throw new Error('not yet');
  }, { timeout: 10_000, interval: 5 });
}

function expectHandled(lines: Record<string, unknown>[], errors: SourceName[], source: SourceName): void {
  const failed = lines.filter((l) => l.msg === 'pod source handler failed; retrying with the latest set');
  expect(failed[0]).toMatchObject({ source, code: 'INTERNAL', err: 'handler broke', field: 'spec.containers[0]', cause: 'root cause', retryInMs: 1000 });
  expect(errors).toEqual([source]);
  expect(lines.some((l) => String(l.msg).includes('invalid'))).toBe(false);
}

describe('a throwing pod set handler is logged with its code, counted and retried, for every source', () => {
  it('api source: no crash (the handler ran in a microtask), the set is delivered again after 1 s', async () => {
    const clock = new FakeClock();
    const { logger, lines } = memoryLogger();
    const errors: SourceName[] = [];
    const h = flakyHandler(1);
    const informer = new FakePodApi();
    informer.apply({ metadata: { name: 'a', namespace: 'default' }, spec: { containers: [] } });
    const src = new ApiSource(informer, h.onPods, { logger, clock, onHandlerError: (s) => errors.push(s) });
    cleanups.push(() => src.stop());
    src.start();
    await until(() => h.calls() === 1);
    expectHandled(lines, errors, 'api');
    clock.advance(999);
    expect(h.calls()).toBe(1);
    clock.advance(1);
    expect(h.delivered.map((s) => s.map((p) => p.metadata?.name))).toEqual([['a']]);
  });

  it('file source: the failure does not stop the periodic rescan; retried, then rescans go on', async () => {
    const clock = new FakeClock();
    const { logger, lines } = memoryLogger();
    const errors: SourceName[] = [];
    const h = flakyHandler(1);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'nl6-src-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    await writeFile(path.join(dir, 'web.yaml'), MANIFEST);
    const src = new FileSource({ path: dir, nodeName: 'n1', periodMs: 20_000, clock, logger, onPods: h.onPods, onHandlerError: (s) => errors.push(s) });
    cleanups.push(() => src.stop());
    src.start();
    await until(() => h.calls() === 1);
    expectHandled(lines, errors, 'file');
    clock.advance(1000);
    expect(h.delivered).toHaveLength(1);
    clock.advance(19_000);
    await until(() => h.delivered.length === 2);
    expect(h.delivered[1]?.map((p) => p.metadata?.name)).toEqual(['web-n1']);
  });

  it('URL source: a throwing handler is not reported as an invalid manifest; retried', async () => {
    const clock = new FakeClock();
    const { logger, lines } = memoryLogger();
    const errors: SourceName[] = [];
    const h = flakyHandler(1);
    const server = http.createServer((_req, res) => res.end(MANIFEST));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/pods`;
    const src = new HttpSource({ url, nodeName: 'n1', periodMs: 20_000, clock, logger, onPods: h.onPods, onHandlerError: (s) => errors.push(s) });
    cleanups.push(() => src.stop());
    src.start();
    await until(() => h.calls() === 1);
    expectHandled(lines, errors, 'http');
    clock.advance(1000);
    expect(h.delivered.map((s) => s.map((p) => p.metadata?.name))).toEqual([['web-n1']]);
  });
});
