import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApiServer, type TestApiServer } from './index.js';
import { RESOURCES } from './resources.js';
import { raw } from './testing.js';

let s: TestApiServer;
beforeAll(async () => {
  s = await startTestApiServer();
});
afterAll(() => s.stop());

const BODIES: unknown[] = [
  '',
  'null',
  '42',
  '"str"',
  '[]',
  '{"metadata":"x"}',
  '{"metadata":{"name":42}}',
  '{"metadata":{"name":"ok","labels":"x"},"spec":"x","status":7}',
  '{"metadata":{"name":"ok2"},"spec":{"containers":[1,null,{"name":5}],"volumes":"v","ports":[{}]}}',
  '{"metadata":{"name":"ok3"},"spec":{"ports":[{"port":"x"}],"selector":[1]},"endpoints":[1],"ports":"p"}',
  '{not json',
];

describe('bad input never crashes the server', () => {
  it('answers every malformed create, update and patch with a 4xx Status', async () => {
    const seen = new Set<number>();
    for (const r of RESOURCES) {
      const base = `/${r.group ? `apis/${r.group}` : 'api'}/${r.version}${r.namespaced ? '/namespaces/default' : ''}/${r.plural}`;
      for (const body of BODIES) {
        const res = await raw(s, 'POST', base, { body });
        seen.add(res.status);
        expect(res.status, `POST ${base} ${String(body)} → ${res.text}`).toBeLessThan(500);
        if (res.status >= 400) expect(res.body?.kind, res.text).toBe('Status');
        for (const ct of ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/apply-patch+yaml']) {
          const p = await raw(s, 'PATCH', `${base}/ok`, { body, contentType: ct });
          expect(p.status, `PATCH ${base}/ok ${ct} ${String(body)} → ${p.text}`).toBeLessThan(500);
        }
        const put = await raw(s, 'PUT', `${base}/ok`, { body });
        expect(put.status, `PUT ${base}/ok ${String(body)} → ${put.text}`).toBeLessThan(500);
      }
    }
    for (const path of ['/api/v1/namespaces/default/pods/%E0%A4%A', '/apis', '/apis/x', '/api/v2', '/api/v1/namespaces/default/pods/a/b/c', '/api/v1/pods?limit=abc&continue=zzz', '/api/v1/pods?labelSelector=%3D%3D', '/api/v1/pods?watch=true&resourceVersion=abc']) {
      const res = await raw(s, 'GET', path);
      expect(res.status, `${path} → ${res.text}`).toBeLessThan(500);
    }
    expect(seen.has(400)).toBe(true);
    expect((await raw(s, 'GET', '/api/v1/namespaces')).status).toBe(200);
  });
});
