import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiException, CoordinationV1Api, CoreV1Api, KubeConfig, V1MicroTime, Watch, makeInformer, type V1Pod } from '@kubernetes/client-node';
import { patchOptions } from '../../src/api/patch-options.js';
import { startTestApiServer, type TestApiServer } from './index.js';

// The server as @kubernetes/client-node 2.x (the agent's client library) sees it.
let s: TestApiServer;
let kc: KubeConfig;
let core: CoreV1Api;

const status = (e: unknown): number => (e instanceof ApiException ? e.code : -1);

beforeAll(async () => {
  s = await startTestApiServer();
  kc = new KubeConfig();
  kc.loadFromFile(s.kubeconfigPath);
  core = kc.makeApiClient(CoreV1Api);
});
afterAll(() => s.stop());

describe('@kubernetes/client-node against the test API server', () => {
  it('creates, reads and lists typed objects; a stale replace is 409; strategic status patches need the content type', async () => {
    const created = await core.createNamespacedPod({ namespace: 'default', body: { metadata: { name: 'cn' }, spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'x:1' }] } } });
    expect(created.spec?.serviceAccountName).toBe('default');
    expect(created.metadata?.creationTimestamp).toBeInstanceOf(Date);
    const list = await core.listPodForAllNamespaces({ fieldSelector: 'spec.nodeName=n1' });
    expect(list.items.map((p) => p.metadata?.name)).toEqual(['cn']);
    const fresh = await core.readNamespacedPod({ name: 'cn', namespace: 'default' });
    fresh.metadata!.labels = { a: 'b' };
    await core.replaceNamespacedPod({ name: 'cn', namespace: 'default', body: fresh });
    const stale: V1Pod = { ...created, metadata: { ...created.metadata, labels: { stale: 'yes' } } };
    const err = await core.replaceNamespacedPod({ name: 'cn', namespace: 'default', body: stale }).catch((e: unknown) => e);
    expect(status(err)).toBe(409);
    expect(JSON.parse(String((err as ApiException<string>).body)).reason).toBe('Conflict');
    // Without the content type client-node sends JSON Patch and the server rejects the object body (20-…).
    const wrong = await core.patchNamespacedPodStatus({ name: 'cn', namespace: 'default', body: { status: { phase: 'Running' } } }).catch((e: unknown) => e);
    expect(status(wrong)).toBe(400);
    const patched = await core.patchNamespacedPodStatus(
      { name: 'cn', namespace: 'default', body: { status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } } },
      patchOptions('strategic'),
    );
    expect(patched.status?.phase).toBe('Running');
    expect(patched.status?.conditions?.[0]?.lastProbeTime).toBeNull();
    const missing = await core.readNamespacedPod({ name: 'nope', namespace: 'default' }).catch((e: unknown) => e);
    expect(status(missing)).toBe(404);
  });

  it('accepts V1MicroTime lease times and Node status updates', async () => {
    const coord = kc.makeApiClient(CoordinationV1Api);
    const lease = await coord.createNamespacedLease({ namespace: 'kube-node-lease', body: { metadata: { name: 'n1' }, spec: { holderIdentity: 'n1', leaseDurationSeconds: 40, renewTime: new V1MicroTime() } } });
    expect(String(lease.spec?.renewTime)).toMatch(/\.\d{6}Z$/);
    lease.spec!.renewTime = new V1MicroTime(Date.now() + 1000);
    const renewed = await coord.replaceNamespacedLease({ name: 'n1', namespace: 'kube-node-lease', body: lease });
    expect(Number(renewed.metadata?.resourceVersion)).toBeGreaterThan(Number(lease.metadata?.resourceVersion));
    const node = await core.createNode({ body: { metadata: { name: 'cn-node' } } });
    expect(node.spec?.taints?.[0]?.key).toBe('node.kubernetes.io/not-ready');
  });

  it("client-node's Watch and makeInformer work against the server", async () => {
    const seen: string[] = [];
    const w = new Watch(kc);
    const ac = await w.watch('/api/v1/namespaces/default/configmaps', { allowWatchBookmarks: true }, (type, obj: { metadata?: { name?: string } }) => seen.push(`${type} ${obj.metadata?.name}`), () => undefined);
    const inf = makeInformer(kc, '/api/v1/namespaces/default/configmaps', () => core.listNamespacedConfigMap({ namespace: 'default' }));
    await inf.start();
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'w1' } } });
    await expect.poll(() => seen).toContain('ADDED w1');
    await expect.poll(() => inf.list().map((c) => c.metadata?.name)).toContain('w1');
    ac.abort();
    await inf.stop();
  });
});
