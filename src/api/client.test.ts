import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApiServer, type TestApiServer } from '../../test/apiserver/index.js';
import { hasCode, isAlreadyExists, isConflict, isNotFound } from '../util/index.js';
import { ApiClient, ApiStatusError, isGone, isRetryable } from './client.js';
import { loadKubeConfig } from './kubeconfig.js';
import { patchObject, patchStatus } from './patch.js';

interface Pod {
  metadata: { name: string; resourceVersion: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  status?: { phase?: string; conditions?: { type: string; status: string }[] };
}

let s: TestApiServer;
let client: ApiClient;
const POD = '/api/v1/namespaces/default/pods/cl';

beforeAll(async () => {
  s = await startTestApiServer();
  client = new ApiClient(loadKubeConfig(s.kubeconfigPath));
  await client.request({ method: 'POST', path: '/api/v1/namespaces/default/pods', body: { metadata: { name: 'cl' }, spec: { nodeName: 'n', containers: [{ name: 'c', image: 'x:1' }] } } });
});
afterAll(async () => {
  client.close();
  await s.stop();
});

const caught = async (p: Promise<unknown>): Promise<unknown> => p.then(() => undefined, (e: unknown) => e);

describe('ApiClient', () => {
  it('sends an idempotent request once more when its kept-alive connection turns out closed (never a POST)', async () => {
    await client.request({ path: POD }); // a connection to reuse
    s.faults.resetReusedConnections(1);
    const pod = await client.request<Pod>({ path: POD });
    expect(pod.metadata.name).toBe('cl');
    await client.request({ path: POD });
    s.faults.resetReusedConnections(1);
    const post = await caught(client.request({ method: 'POST', path: '/api/v1/namespaces/default/configmaps', body: { metadata: { name: 'reset' } } }));
    expect(post).toBeInstanceOf(Error);
    s.faults.clear();
  });

  it('maps Status answers to nodelet error codes and predicates', async () => {
    const nf = await caught(client.request({ path: '/api/v1/namespaces/default/pods/nope' }));
    expect(isNotFound(nf)).toBe(true);
    expect(nf).toBeInstanceOf(ApiStatusError);
    expect((nf as ApiStatusError).httpStatus).toBe(404);
    expect((nf as Error).message).toContain('pods "nope" not found');
    const dup = await caught(client.request({ method: 'POST', path: '/api/v1/namespaces/default/pods', body: { metadata: { name: 'cl' }, spec: { containers: [{ name: 'c', image: 'x' }] } } }));
    expect(isAlreadyExists(dup)).toBe(true);
    const cur = await client.request<Pod>({ path: POD });
    await client.request({ method: 'PUT', path: POD, body: { ...cur, metadata: { ...cur.metadata, labels: { a: '1' } } } });
    const stale = await caught(client.request({ method: 'PUT', path: POD, body: { ...cur, metadata: { ...cur.metadata, labels: { a: '2' } } } }));
    expect(isConflict(stale)).toBe(true);
    const invalid = await caught(client.request({ method: 'POST', path: '/api/v1/namespaces/default/configmaps', body: { metadata: { name: 'Bad' } } }));
    expect(hasCode(invalid, 'INVALID')).toBe(true);
    expect((invalid as ApiStatusError).apiStatus?.details?.causes?.[0]?.field).toBe('metadata.name');
    s.faults.failRequests({ status: 503, count: 1 });
    const unavailable = await caught(client.request({ path: POD }));
    expect(isRetryable(unavailable)).toBe(true);
    expect(isRetryable(nf)).toBe(false);
    expect(isGone(new ApiStatusError(410, { reason: 'Expired' }, 'watch'))).toBe(true);
  });
});

describe('patch helpers', () => {
  it('send the right Content-Type for each patch flavour', async () => {
    const a = await patchObject<Pod>(client, POD, 'strategic', { metadata: { labels: { s: '1' } } });
    expect(a.metadata.labels).toEqual({ a: '1', s: '1' });
    const b = await patchObject<Pod>(client, POD, 'merge', { metadata: { annotations: { m: '1' } } });
    expect(b.metadata.annotations).toEqual({ m: '1' });
    const c = await patchObject<Pod>(client, POD, 'json', [{ op: 'remove', path: '/metadata/labels/a' }]);
    expect(c.metadata.labels).toEqual({ s: '1' });
    const d = await patchObject<Pod>(client, POD, 'apply', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'cl', labels: { ap: '1' } } }, { fieldManager: 'test' });
    expect(d.metadata.labels).toEqual({ s: '1', ap: '1' });
    const e = await patchStatus<Pod>(client, POD, { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] });
    expect(e.status?.phase).toBe('Running');
    const f = await patchStatus<Pod>(client, POD, { conditions: [{ type: 'PodScheduled', status: 'True' }] });
    expect(f.status?.conditions?.map((x) => x.type)).toEqual(['Ready', 'PodScheduled']);
    await expect(patchObject(client, POD, 'json', { op: 'add' })).rejects.toThrow(TypeError);
    await expect(patchObject(client, POD, 'merge', [])).rejects.toThrow(TypeError);
  });
});

describe('loadKubeConfig', () => {
  it('reads the given file or $KUBECONFIG and names the file in errors', () => {
    const saved = process.env.KUBECONFIG;
    try {
      process.env.KUBECONFIG = s.kubeconfigPath;
      expect(loadKubeConfig().getCurrentCluster()?.server).toBe(s.url);
      const missing = join(tmpdir(), 'nodelet-no-such-kubeconfig');
      expect(() => loadKubeConfig(missing)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', object: `file ${missing}` }));
      const empty = join(tmpdir(), `nodelet-empty-kubeconfig-${process.pid}`);
      writeFileSync(empty, 'apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n');
      try {
        expect(() => loadKubeConfig(empty)).toThrow(/no current cluster/);
      } finally {
        rmSync(empty, { force: true });
      }
    } finally {
      if (saved === undefined) delete process.env.KUBECONFIG;
      else process.env.KUBECONFIG = saved;
    }
  });
});
