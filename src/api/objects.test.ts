import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApiServer, type TestApiServer } from '../../test/apiserver/index.js';
import { FakeClock } from '../util/clock.js';
import { hasCode } from '../util/errors.js';
import { ApiObjectSource } from './objects.js';

function claims(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
}

describe('ApiObjectSource against the test API server', () => {
  let server: TestApiServer;
  let kc: KubeConfig;
  let api: CoreV1Api;
  const ns = 'pe-objects';

  beforeAll(async () => {
    server = await startTestApiServer();
    kc = new KubeConfig();
    kc.loadFromFile(server.kubeconfigPath);
    api = kc.makeApiClient(CoreV1Api);
    await api.createNamespace({ body: { metadata: { name: ns } } });
    await api.createNamespacedServiceAccount({ namespace: ns, body: { metadata: { name: 'builder' } } });
    await api.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'cfg' }, data: { k: 'v1' } } });
    await api.createNamespacedSecret({ namespace: ns, body: { metadata: { name: 'sec' }, data: { p: Buffer.from('pw').toString('base64') } } });
    await api.createNamespacedService({ namespace: ns, body: { metadata: { name: 'web' }, spec: { ports: [{ port: 80 }] } } });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('gets objects, returns undefined for missing ones, and caches for the TTL', async () => {
    const clock = new FakeClock();
    const src = new ApiObjectSource({ kubeConfig: kc, ttlMs: 5000, clock });
    expect((await src.getConfigMap(ns, 'cfg'))?.data).toEqual({ k: 'v1' });
    expect(Buffer.from((await src.getSecret(ns, 'sec'))?.data?.p ?? '', 'base64').toString()).toBe('pw');
    expect(await src.getConfigMap(ns, 'nope')).toBeUndefined();
    expect(await src.getSecret(ns, 'nope')).toBeUndefined();
    await api.replaceNamespacedConfigMap({ name: 'cfg', namespace: ns, body: { metadata: { name: 'cfg' }, data: { k: 'v2' } } });
    expect((await src.getConfigMap(ns, 'cfg'))?.data).toEqual({ k: 'v1' });
    clock.advance(5001);
    expect((await src.getConfigMap(ns, 'cfg'))?.data).toEqual({ k: 'v2' });
  });

  it('lists services of a namespace', async () => {
    const src = new ApiObjectSource({ kubeConfig: kc });
    const svcs = await src.listServices(ns);
    expect(svcs.map((s) => s.metadata?.name)).toEqual(['web']);
    expect(svcs[0]?.spec?.clusterIP).toMatch(/\d+\.\d+\.\d+\.\d+/);
  });

  it('requests a bound token with the audience and expiration', async () => {
    const src = new ApiObjectSource({ kubeConfig: kc });
    const t = await src.requestToken(ns, 'builder', {
      audiences: ['vault'],
      expirationSeconds: 3600,
      boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'web', uid: 'uid-1' },
    });
    const c = claims(t.token);
    expect(c.aud).toEqual(['vault']);
    expect(JSON.stringify(c)).toContain('uid-1');
    expect(t.expiresAt).toBeGreaterThan(Date.now() + 3500_000);
    const err = await src
      .requestToken(ns, 'ghost', { audiences: [], expirationSeconds: 3600, boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'x', uid: 'y' } })
      .catch((e: unknown) => e);
    expect(hasCode(err, 'API_ERROR')).toBe(true);
    expect((err as Error).message).toContain('serviceaccounts "ghost" not found');
  });

  it('reports API failures with the Status message', async () => {
    const src = new ApiObjectSource({ kubeConfig: kc });
    server.faults.failRequests({ status: 500, count: 1, path: `/api/v1/namespaces/${ns}/secrets/sec` });
    const err = await src.getSecret(ns, 'sec').catch((e: unknown) => e);
    expect(hasCode(err, 'API_ERROR')).toBe(true);
    expect((err as Error).message).toMatch(new RegExp(`^failed to get secret ${ns}/sec: .+`));
    expect((err as Error).message).not.toMatch(/Headers/);
    server.faults.clear();
  });
});
