import type { V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApiServer, type TestApiServer } from '../../test/apiserver/index.js';
import { isAlreadyExists, isConflict, isNotFound } from '../util/index.js';
import { ApiClient, type ApiRequest } from './client.js';
import { loadKubeConfig } from './kubeconfig.js';
import { createPodApi, type PodApi } from './pods.js';

let s: TestApiServer;
let client: ApiClient;
let api: PodApi;
const seen: ApiRequest[] = [];

beforeAll(async () => {
  s = await startTestApiServer();
  client = new ApiClient(loadKubeConfig(s.kubeconfigPath));
  // Record what PodApi sends, then let the real client send it.
  api = createPodApi({
    request: <T>(req: ApiRequest): Promise<T> => {
      seen.push(req);
      return client.request<T>(req);
    },
  });
});
afterAll(async () => {
  client.close();
  await s.stop();
});

const caught = async (p: Promise<unknown>): Promise<unknown> => p.then(() => undefined, (e: unknown) => e);
const pod = (name: string): V1Pod => ({ metadata: { name, namespace: 'default' }, spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'x:1' }] } });

describe('PodApi over ApiClient', () => {
  it('creates, reads and strategic-merge-patches the status (conditions merge by type)', async () => {
    const created = await api.createPod(pod('pa'));
    expect(created.metadata?.uid).toBeTruthy();
    expect(isAlreadyExists(await caught(api.createPod(pod('pa'))))).toBe(true);
    const uid = created.metadata?.uid;
    await api.patchPodStatus('default', 'pa', { metadata: { uid }, status: { phase: 'Pending', conditions: [{ type: 'Ready', status: 'False' }, { type: 'PodScheduled', status: 'True' }] } });
    const p = await api.patchPodStatus('default', 'pa', { metadata: { uid }, status: { conditions: [{ type: 'Ready', status: 'True' }] } });
    expect(p.status?.phase).toBe('Pending');
    expect(p.status?.conditions?.map((c) => `${c.type}=${c.status}`).sort()).toEqual(['PodScheduled=True', 'Ready=True']);
    expect(seen.find((r) => r.method === 'PATCH')?.contentType).toBe('application/strategic-merge-patch+json');
    expect((await api.getPod('default', 'pa')).status?.conditions?.length).toBe(2);
    expect(isNotFound(await caught(api.getPod('default', 'nope')))).toBe(true);
  });

  it('deletes with grace 0 and a uid precondition; a missing pod is success', async () => {
    const created = await api.createPod(pod('pd'));
    expect(isConflict(await caught(api.deletePod('default', 'pd', 'other-uid')))).toBe(true);
    await api.deletePod('default', 'pd', created.metadata?.uid ?? '');
    expect(isNotFound(await caught(api.getPod('default', 'pd')))).toBe(true);
    await api.deletePod('default', 'pd', created.metadata?.uid ?? '');
    const del = seen.filter((r) => r.method === 'DELETE');
    expect(del[0]?.body).toEqual({ kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 0, preconditions: { uid: 'other-uid' } });
  });

  it('reads secrets', async () => {
    await client.request({ method: 'POST', path: '/api/v1/namespaces/default/secrets', body: { metadata: { name: 'pull' }, data: { k: 'dg==' } } });
    expect((await api.getSecret('default', 'pull')).data).toEqual({ k: 'dg==' });
    expect(isNotFound(await caught(api.getSecret('default', 'missing')))).toBe(true);
  });
});
