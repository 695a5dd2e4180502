import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApiServer, type TestApiServer } from './index.js';
import { raw, watchLines } from './testing.js';
import { filterEvent } from './handlers/watch.js';

let s: TestApiServer;
beforeAll(async () => {
  s = await startTestApiServer({ bookmarkIntervalMs: 100, historySize: 5 });
});
afterAll(() => s.stop());

describe('watch details', () => {
  it('sends BOOKMARKs with the current resourceVersion when asked, and none otherwise', async () => {
    const path = '/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=';
    const rv = s.store.currentRv();
    const [withB, withoutB] = await Promise.all([watchLines(s, `${path}${rv}&allowWatchBookmarks=true&timeoutSeconds=1`), watchLines(s, `${path}${rv}&timeoutSeconds=1`)]);
    const marks = withB.filter((l) => l.type === 'BOOKMARK');
    expect(marks.length).toBeGreaterThanOrEqual(3);
    expect(marks[0]!.object).toEqual({ kind: 'ConfigMap', apiVersion: 'v1', metadata: { resourceVersion: String(s.store.currentRv()), creationTimestamp: null } });
    expect(withoutB).toEqual([]);
  });

  it('keeps only historySize events: older resourceVersions get 410', async () => {
    const start = s.store.currentRv();
    for (let i = 0; i < 7; i++) await raw(s, 'POST', '/api/v1/namespaces/default/configmaps', { body: { metadata: { name: `h${i}` } } });
    const old = await watchLines(s, `/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${start}&timeoutSeconds=1`);
    expect(old[0]?.type).toBe('ERROR');
    expect((old[0]!.object as { code: number }).code).toBe(410);
    const recent = await watchLines(s, `/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${s.store.currentRv() - 2}&timeoutSeconds=1`);
    expect(recent.map((l) => l.type)).toEqual(['ADDED', 'ADDED']);
  });

  it('turns selector transitions into ADDED/DELETED', () => {
    const m = (o: Record<string, unknown>): boolean => (o.metadata as { labels?: { a?: string } }).labels?.a === '1';
    const o = (a: string): { metadata: { labels: { a: string } } } => ({ metadata: { labels: { a } } });
    expect(filterEvent({ type: 'MODIFIED', rv: 2, resource: 'x', object: o('1'), prev: o('2') }, m)?.type).toBe('ADDED');
    expect(filterEvent({ type: 'MODIFIED', rv: 2, resource: 'x', object: o('2'), prev: o('1') }, m)?.type).toBe('DELETED');
    expect(filterEvent({ type: 'MODIFIED', rv: 2, resource: 'x', object: o('1'), prev: o('1') }, m)?.type).toBe('MODIFIED');
    expect(filterEvent({ type: 'MODIFIED', rv: 2, resource: 'x', object: o('2'), prev: o('2') }, m)).toBeUndefined();
    expect(filterEvent({ type: 'DELETED', rv: 2, resource: 'x', object: o('1'), prev: o('1') }, m)?.type).toBe('DELETED');
  });

  it('serves Table rows on watches (kubectl get -w) and fault-injected 5xx with Retry-After', async () => {
    const got = await watchLines(s, '/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=1&fieldSelector=metadata.name%3Dh0', 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json');
    expect(got).toHaveLength(1);
    const table = got[0]!.object as { kind: string; columnDefinitions: { name: string }[]; rows: { cells: unknown[] }[] };
    expect(table.kind).toBe('Table');
    expect(table.columnDefinitions.map((c) => c.name)).toEqual(['Name', 'Data', 'Age']);
    expect(table.rows[0]!.cells.slice(0, 2)).toEqual(['h0', 0]);
    s.faults.failRequests({ status: 503, count: 1, method: 'GET' });
    const failed = await raw(s, 'GET', '/api/v1/namespaces');
    expect(failed.status).toBe(503);
    expect(failed.headers['retry-after']).toBe('1');
    expect((await raw(s, 'GET', '/api/v1/namespaces')).status).toBe(200);
    s.faults.delayRequests({ ms: 150, count: 1 });
    const t0 = Date.now();
    await raw(s, 'GET', '/api/v1/namespaces');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
  });
});
