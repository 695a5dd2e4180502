import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { KubeConfig } from './kubeconfig.js';
import { startTestApiServer, type TestApiServer } from '../../test/apiserver/index.js';
import { raw } from '../../test/apiserver/testing.js';
import { silentLogger } from '../util/index.js';
import { createInformer } from './informer.js';
import { loadKubeConfig } from './kubeconfig.js';
import type { Informer, KubeObject } from './types.js';

let s: TestApiServer;
let kc: KubeConfig;
const deps = { backoff: { initialMs: 20, maxMs: 200 } };

const pod = (name: string, node: string, labels: Record<string, string> = {}): object => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, labels },
  spec: { nodeName: node, containers: [{ name: 'c', image: 'x:1' }] },
});

/** Records every delivered event and checks it against the cache as it goes. */
function recorder(inf: Informer<KubeObject>): { log: string[]; rvs: Map<string, Set<string>> } {
  const log: string[] = [];
  const rvs = new Map<string, Set<string>>();
  const note = (type: string, o: KubeObject): void => {
    const name = o.metadata?.name ?? '';
    const rv = o.metadata?.resourceVersion ?? '';
    log.push(`${type} ${name}`);
    const seen = rvs.get(name) ?? new Set<string>();
    // The same object version must never be delivered twice.
    if (type !== 'delete' && seen.has(rv)) throw new Error(`duplicate delivery of ${name}@${rv}`);
    seen.add(rv);
    rvs.set(name, seen);
  };
  inf.addHandlers({ onAdd: (o) => note('add', o), onUpdate: (_a, b) => note('update', b), onDelete: (o) => note('delete', o) });
  return { log, rvs };
}

async function names(path: string): Promise<string[]> {
  const r = await raw(s, 'GET', path);
  return (r.body.items as KubeObject[]).map((p) => p.metadata?.name ?? '').sort();
}

const cacheNames = (inf: Informer<KubeObject>): string[] => inf.list().map((p) => p.metadata?.name ?? '').sort();

beforeAll(async () => {
  s = await startTestApiServer({ bookmarkIntervalMs: 100 });
  kc = loadKubeConfig(s.kubeconfigPath);
});
afterAll(() => s.stop());

describe('createInformer against the test API server', () => {
  it('lists, watches over a field selector, and survives dropped watches and a 410 without losing or duplicating events', async () => {
    const base = '/api/v1/namespaces/default/pods';
    await raw(s, 'POST', base, { body: pod('a', 'n1') });
    await raw(s, 'POST', base, { body: pod('other', 'n2') });
    const inf = createInformer<KubeObject>(kc, { path: '/api/v1/pods', fieldSelector: 'spec.nodeName=n1' }, silentLogger(), deps);
    const rec = recorder(inf);
    let synced = 0;
    inf.addHandlers({ onSynced: () => synced++ });
    inf.start();
    await inf.waitForSync();
    expect(inf.hasSynced()).toBe(true);
    expect(cacheNames(inf)).toEqual(['a']);
    expect(inf.get('default/a')?.kind).toBe('Pod');

    await raw(s, 'POST', base, { body: pod('b', 'n1') });
    await vi.waitFor(() => expect(cacheNames(inf)).toEqual(['a', 'b']));

    // 1. dropped watch: changes made while the watch is down arrive after the resume, exactly once.
    expect(s.faults.dropWatches()).toBeGreaterThanOrEqual(1);
    await raw(s, 'POST', base, { body: pod('c', 'n1') });
    await raw(s, 'PATCH', `${base}/a`, { contentType: 'application/merge-patch+json', body: { metadata: { labels: { v: '2' } } } });
    await raw(s, 'DELETE', `${base}/b?gracePeriodSeconds=0`);
    await vi.waitFor(() => expect(cacheNames(inf)).toEqual(['a', 'c']));
    expect(inf.get('default/a')?.metadata?.labels).toEqual({ v: '2' });

    // 2. 410: history compacted while the watch is down; the informer relists and delivers the difference.
    s.faults.failRequests({ status: 500, watch: true });
    s.faults.dropWatches();
    await raw(s, 'POST', base, { body: pod('d', 'n1') });
    await raw(s, 'DELETE', `${base}/c?gracePeriodSeconds=0`);
    await raw(s, 'PATCH', `${base}/a`, { contentType: 'application/merge-patch+json', body: { metadata: { labels: { v: '3' } } } });
    s.faults.expireHistory();
    s.faults.clear();
    await vi.waitFor(() => expect(cacheNames(inf)).toEqual(['a', 'd']));
    await vi.waitFor(() => expect(inf.get('default/a')?.metadata?.labels).toEqual({ v: '3' }));
    await vi.waitFor(() => expect(synced).toBeGreaterThanOrEqual(2));

    // 3. a forced ERROR 410 on the next watch also relists.
    s.faults.goneOnNextWatches(1);
    s.faults.dropWatches();
    await raw(s, 'POST', base, { body: pod('e', 'n1') });
    await vi.waitFor(() => expect(cacheNames(inf)).toEqual(['a', 'd', 'e']));

    expect(cacheNames(inf)).toEqual(await names('/api/v1/pods?fieldSelector=spec.nodeName%3Dn1'));
    expect(rec.log.filter((l) => l.endsWith(' other'))).toEqual([]);
    expect(rec.log.filter((l) => l.startsWith('add')).sort()).toEqual(['add a', 'add b', 'add c', 'add d', 'add e']);
    expect(rec.log.filter((l) => l.startsWith('delete')).sort()).toEqual(['delete b', 'delete c']);
    expect(rec.log.filter((l) => l === 'update a')).toHaveLength(2);
    inf.stop();
    for (const n of ['a', 'd', 'e', 'other']) await raw(s, 'DELETE', `${base}/${n}?gracePeriodSeconds=0`);
  });

  it('delivers a delete when an object leaves the label selector, and recovers from 5xx and a server restart', async () => {
    const base = '/api/v1/namespaces/default/configmaps';
    await raw(s, 'POST', base, { body: { metadata: { name: 'x', labels: { sel: 'yes' } } } });
    const inf = createInformer<KubeObject>(kc, { path: base, labelSelector: 'sel=yes' }, silentLogger(), deps);
    const rec = recorder(inf);
    inf.start();
    await inf.waitForSync();
    await raw(s, 'PATCH', `${base}/x`, { contentType: 'application/merge-patch+json', body: { metadata: { labels: { sel: 'no' } } } });
    await vi.waitFor(() => expect(rec.log).toEqual(['add x', 'delete x']));

    s.faults.failRequests({ status: 503, count: 3, path: base, watch: true });
    s.faults.dropWatches();
    await raw(s, 'POST', base, { body: { metadata: { name: 'y', labels: { sel: 'yes' } } } });
    await vi.waitFor(() => expect(cacheNames(inf)).toEqual(['y']));

    await s.restart(100);
    await raw(s, 'POST', base, { body: { metadata: { name: 'z', labels: { sel: 'yes' } } } });
    await vi.waitFor(() => expect(cacheNames(inf)).toEqual(['y', 'z']), { timeout: 5000 });
    expect(rec.log).toEqual(['add x', 'delete x', 'add y', 'add z']);

    inf.stop();
    await raw(s, 'POST', base, { body: { metadata: { name: 'after-stop', labels: { sel: 'yes' } } } });
    // Event-driven barrier instead of a sleep: once a live informer has seen the object, the server has sent it to
    // every watch of this path, so the stopped informer would have it by now if it were still watching.
    const probe = createInformer<KubeObject>(kc, { path: base, labelSelector: 'sel=yes' }, silentLogger(), deps);
    probe.start();
    await vi.waitFor(() => expect(cacheNames(probe)).toContain('after-stop'));
    await raw(s, 'POST', base, { body: { metadata: { name: 'after-stop-2', labels: { sel: 'yes' } } } });
    await vi.waitFor(() => expect(cacheNames(probe)).toContain('after-stop-2'));
    probe.stop();
    expect(cacheNames(inf)).toEqual(['y', 'z']);
  });

  it('waitForSync rejects when its signal aborts before the first list', async () => {
    s.faults.failRequests({ status: 500, path: '/api/v1/secrets' });
    const inf = createInformer<KubeObject>(kc, { path: '/api/v1/secrets' }, silentLogger(), deps);
    inf.start();
    const ac = new AbortController();
    const p = inf.waitForSync(ac.signal);
    ac.abort(new Error('gave up'));
    await expect(p).rejects.toThrow('gave up');
    expect(inf.hasSynced()).toBe(false);
    s.faults.clear();
    await inf.waitForSync();
    inf.stop();
  });
});
