import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, ApiStatusError, loadKubeConfig, serverProfile } from '../../src/api/index.js';
import { startTestApiServer, type TestApiServer } from './index.js';

// Differences a real server showed, kept from drifting: (1) a current server reports v1.33 like the real v1.33.3
// control plane; (2) an older server (v1.24) refuses a strategic-merge status patch carrying a field it does not know
// with `500 unable to find api field in struct PodStatus for the json field "hostIPs"` (what made every pod status
// write fail there), and drops such fields from other writes.
let old: TestApiServer;
let current: TestApiServer;
const POD = '/api/v1/namespaces/default/pods/v';

beforeAll(async () => {
  [old, current] = await Promise.all([startTestApiServer({ version: 'v1.24.17', scheduler: false }), startTestApiServer({ scheduler: false })]);
});
afterAll(async () => {
  await Promise.all([old.stop(), current.stop()]);
});

async function raw(s: TestApiServer, path: string, init: { method?: string; body?: unknown; contentType?: string } = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const client = new ApiClient(loadKubeConfig(s.kubeconfigPath));
  try {
    return { status: 200, body: await client.request({ method: init.method as 'PATCH' | undefined, path, body: init.body, contentType: init.contentType }) };
  } catch (err) {
    if (err instanceof ApiStatusError) return { status: err.httpStatus, body: { message: err.apiStatus?.message } };
    throw err;
  } finally {
    client.close();
  }
}

describe('server version', () => {
  it('reports v1.33 by default (as the real control plane) and the configured older version', async () => {
    expect((await raw(current, '/version')).body).toMatchObject({ major: '1', minor: '33' });
    expect((await raw(old, '/version')).body).toMatchObject({ major: '1', minor: '24', gitVersion: 'v1.24.17' });
  });

  it('an older server answers a strategic-merge patch with an unknown field with upstream 500; merge patches drop it', async () => {
    const pod = { metadata: { name: 'v' }, spec: { nodeName: 'n', containers: [{ name: 'c', image: 'x:1' }] } };
    for (const s of [old, current]) await raw(s, '/api/v1/namespaces/default/pods', { method: 'POST', body: pod });
    const status = { status: { hostIP: '10.0.0.1', hostIPs: [{ ip: '10.0.0.1' }] } };
    // Sent with a fresh ApiClient whose profile knows nothing: use fetch-like raw requests through a throwaway kubeconfig object.
    const smp = 'application/strategic-merge-patch+json';
    const bad = await rawUnfiltered(old, `${POD}/status`, status, smp);
    expect(bad.status).toBe(500);
    expect(bad.message).toBe('unable to find api field in struct PodStatus for the json field "hostIPs"');
    expect((await rawUnfiltered(current, `${POD}/status`, status, smp)).status).toBe(200);
    const merged = await rawUnfiltered(old, `${POD}/status`, status, 'application/merge-patch+json');
    expect(merged.status).toBe(200);
    expect(merged.body.status).toMatchObject({ hostIP: '10.0.0.1' });
    expect(merged.body.status).not.toHaveProperty('hostIPs');
  });

  it("nodelet's ApiClient learns the field from that error, retries without it, and never sends it again", async () => {
    const kc = loadKubeConfig(old.kubeconfigPath);
    const client = new ApiClient(kc);
    const learned: string[] = [];
    serverProfile(kc).onLearned((f) => learned.push(f));
    const before = old.requests.length;
    const out = await client.request<{ status: Record<string, unknown> }>({
      method: 'PATCH',
      path: `${POD}/status`,
      body: { status: { hostIP: '10.0.0.2', hostIPs: [{ ip: '10.0.0.2' }] } },
      contentType: 'application/strategic-merge-patch+json',
    });
    expect(out.status.hostIP).toBe('10.0.0.2');
    expect(learned).toEqual(['PodStatus.hostIPs']);
    expect(old.requests.slice(before).filter((r) => r.startsWith('PATCH'))).toHaveLength(2);
    const again = old.requests.length;
    await client.request({ method: 'PATCH', path: `${POD}/status`, body: { status: { hostIPs: [{ ip: '10.0.0.3' }] } }, contentType: 'application/strategic-merge-patch+json' });
    expect(old.requests.slice(again).filter((r) => r.startsWith('PATCH'))).toHaveLength(1);
    client.close();
  });

  it('with the version known up front (setVersion), the field is never sent at all', async () => {
    const kc = loadKubeConfig(old.kubeconfigPath);
    serverProfile(kc).setVersion({ major: 1, minor: 24, gitVersion: 'v1.24.17' });
    const client = new ApiClient(kc);
    const before = old.requests.length;
    await client.request({ method: 'PATCH', path: `${POD}/status`, body: { status: { hostIPs: [{ ip: '10.0.0.4' }] } }, contentType: 'application/strategic-merge-patch+json' });
    expect(old.requests.slice(before).filter((r) => r.startsWith('PATCH'))).toHaveLength(1);
    client.close();
  });
});

/** A request that bypasses nodelet's field stripping (plain https with the server's token). */
async function rawUnfiltered(s: TestApiServer, path: string, body: unknown, contentType: string): Promise<{ status: number; message?: string; body: Record<string, unknown> }> {
  const { request } = await import('node:https');
  return new Promise((resolve, reject) => {
    const req = request(
      `${s.url}${path}`,
      { method: 'PATCH', ca: s.caCertPem, headers: { authorization: `Bearer ${s.token}`, 'content-type': contentType, accept: 'application/json' } },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (d: string) => (text += d));
        res.on('end', () => {
          const parsed = JSON.parse(text) as Record<string, unknown>;
          resolve({ status: res.statusCode ?? 0, message: typeof parsed.message === 'string' ? parsed.message : undefined, body: parsed });
        });
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}
