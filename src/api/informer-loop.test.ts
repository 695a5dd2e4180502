import { describe, expect, it } from 'vitest';
import { FakeClock, silentLogger } from '../util/index.js';
import { ApiStatusError, type ApiRequest, type ApiTransport } from './client.js';
import { createInformer } from './informer.js';
import type { KubeObject } from './types.js';

/** A scripted transport: each list/watch call takes the next step; watches end when their step says so. */
class ScriptedTransport implements ApiTransport {
  readonly calls: string[] = [];
  lists: (() => unknown)[] = [];
  watches: ((emit: (line: unknown) => void) => Promise<void>)[] = [];

  async request<T>(req: ApiRequest): Promise<T> {
    this.calls.push(`list rv=${String(req.query?.resourceVersion ?? '')}${req.query?.continue ? ` continue=${String(req.query.continue)}` : ''}`);
    const step = this.lists.shift();
    if (step === undefined) throw new Error('unexpected list');
    return step() as T;
  }

  async stream(req: ApiRequest, onLine: (v: unknown) => void): Promise<void> {
    this.calls.push(`watch rv=${String(req.query?.resourceVersion)} bookmarks=${String(req.query?.allowWatchBookmarks)}`);
    const step = this.watches.shift();
    if (step === undefined) return new Promise((resolve) => req.signal?.addEventListener('abort', () => resolve()));
    return step(onLine);
  }
}

const pod = (name: string, rv: string): KubeObject => ({ metadata: { name, namespace: 'ns', resourceVersion: rv } });
const list = (rv: string, ...items: KubeObject[]) => () => ({ kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: rv }, items });
const flush = async (): Promise<void> => {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
};

describe('informer loop (scripted transport, fake clock)', () => {
  it('backs off on list errors (800 ms doubling), then lists, watches from the list RV and resumes from bookmarks', async () => {
    const t = new ScriptedTransport();
    const clock = new FakeClock();
    t.lists.push(
      () => {
        throw new ApiStatusError(500, { reason: 'InternalError' }, 'list');
      },
      () => {
        throw new ApiStatusError(503, { reason: 'ServiceUnavailable' }, 'list');
      },
      list('10', pod('a', '9')),
    );
    t.watches.push(async (emit) => {
      emit({ type: 'ADDED', object: pod('b', '11') });
      emit({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '15' } } });
    });
    const inf = createInformer<KubeObject>({} as never, { path: '/api/v1/pods' }, silentLogger(), { client: t, clock });
    inf.start();
    await flush();
    expect(t.calls).toEqual(['list rv=']);
    clock.advance(799);
    await flush();
    expect(t.calls).toHaveLength(1);
    clock.advance(1);
    await flush();
    expect(t.calls).toHaveLength(2);
    clock.advance(1599);
    await flush();
    expect(t.calls).toHaveLength(2);
    clock.advance(1);
    await flush();
    expect(inf.hasSynced()).toBe(true);
    expect(inf.list().map((o) => o.metadata?.name).sort()).toEqual(['a', 'b']);
    expect(t.calls).toEqual(['list rv=', 'list rv=', 'list rv=', 'watch rv=10 bookmarks=true', 'watch rv=15 bookmarks=true']);
    inf.stop();
  });

  it('relists on an ERROR 410 event and delivers only the difference', async () => {
    const t = new ScriptedTransport();
    const clock = new FakeClock();
    t.lists.push(list('10', pod('a', '5'), pod('b', '6')), list('30', pod('a', '5'), pod('c', '25')));
    t.watches.push(async (emit) => {
      emit({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version: 10 (20)' } });
      emit({ type: 'ADDED', object: pod('never', '99') });
    });
    const log: string[] = [];
    const inf = createInformer<KubeObject>({} as never, { path: '/api/v1/pods', fieldSelector: 'spec.nodeName=n' }, silentLogger(), { client: t, clock });
    inf.addHandlers({ onAdd: (o) => log.push(`add ${o.metadata?.name}`), onUpdate: (_a, b) => log.push(`update ${b.metadata?.name}`), onDelete: (o) => log.push(`delete ${o.metadata?.name}`) });
    inf.start();
    await flush();
    expect(log).toEqual(['add a', 'add b', 'delete b', 'add c']);
    expect(t.calls).toEqual(['list rv=', 'watch rv=10 bookmarks=true', 'list rv=', 'watch rv=30 bookmarks=true']);
    expect(clock.pending()).toBe(0); // a 410 relists at once, without backoff
    inf.stop();
  });

  it('a watch that ends at once without events backs off instead of spinning', async () => {
    const t = new ScriptedTransport();
    const clock = new FakeClock();
    t.lists.push(list('10'));
    t.watches.push(async () => undefined, async () => undefined);
    const inf = createInformer<KubeObject>({} as never, { path: '/api/v1/pods' }, silentLogger(), { client: t, clock });
    inf.start();
    await flush();
    expect(t.calls).toEqual(['list rv=', 'watch rv=10 bookmarks=true']);
    clock.advance(800);
    await flush();
    expect(t.calls).toHaveLength(3);
    clock.advance(1599);
    await flush();
    expect(t.calls).toHaveLength(3);
    clock.advance(1);
    await flush();
    expect(t.calls).toHaveLength(4);
    inf.stop();
  });
});

describe('informer paging', () => {
  it('follows continue tokens and restarts the list when a token expires', async () => {
    const t = new ScriptedTransport();
    const clock = new FakeClock();
    const page = (rv: string, cont: string | undefined, ...items: KubeObject[]) => () => ({ kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: rv, continue: cont }, items });
    t.lists.push(
      page('10', 'c1', pod('a', '1')),
      () => {
        throw new ApiStatusError(410, { reason: 'Expired' }, 'list');
      },
      page('12', 'c2', pod('a', '1')),
      page('12', undefined, pod('b', '11')),
    );
    const inf = createInformer<KubeObject>({} as never, { path: '/api/v1/pods' }, silentLogger(), { client: t, clock, pageSize: 1 });
    inf.start();
    await flush();
    expect(inf.hasSynced()).toBe(true);
    expect(inf.list().map((o) => `${o.metadata?.name}:${o.kind}`).sort()).toEqual(['a:Pod', 'b:Pod']);
    expect(t.calls.at(-1)).toBe('watch rv=12 bookmarks=true');
    inf.stop();
  });
});
