import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApiServer, type TestApiServer } from '../../test/apiserver/index.js';
import { ApiClient } from './client.js';
import { bindRestClientMetrics, createRestClientMetrics } from './client-metrics.js';
import { loadKubeConfig, type KubeConfig } from './kubeconfig.js';

let s: TestApiServer;
let kc: KubeConfig;
let registry: Registry;
let host: string;

beforeAll(async () => {
  s = await startTestApiServer();
  kc = loadKubeConfig(s.kubeconfigPath);
  registry = new Registry();
  bindRestClientMetrics(kc, createRestClientMetrics(registry));
  host = new URL(kc.getCurrentCluster()?.server ?? '').host;
});
afterAll(async () => {
  await s.stop();
});

async function value(name: string, labels: Record<string, string>): Promise<number> {
  // Histogram series (`_sum`, `_count`) are values of their histogram, told apart by metricName.
  const values = (await registry.getMetricsAsJSON()).flatMap((m) => m.values.map((v) => ({ ...v, name: (v as { metricName?: string }).metricName ?? m.name })));
  const v = values.find((x) => x.name === name && Object.entries(labels).every(([k, want]) => String(x.labels[k]) === want));
  return v?.value ?? 0;
}

const caught = async (p: Promise<unknown>): Promise<unknown> => p.then(() => undefined, (e: unknown) => e);

describe('rest_client metrics', () => {
  it('counts requests by code, host and method, with body and Content-Length sizes', async () => {
    const client = new ApiClient(kc);
    const body = { metadata: { name: 'm1' }, spec: { nodeName: 'n', containers: [{ name: 'c', image: 'x:1' }] } };
    await client.request({ method: 'POST', path: '/api/v1/namespaces/default/pods', body });
    await client.request({ path: '/api/v1/namespaces/default/pods/m1' });
    await caught(client.request({ path: '/api/v1/namespaces/default/pods/nope' }));
    client.close();
    expect(await value('rest_client_requests_total', { code: '201', host, method: 'POST' })).toBe(1);
    expect(await value('rest_client_requests_total', { code: '200', host, method: 'GET' })).toBe(1);
    expect(await value('rest_client_requests_total', { code: '404', host, method: 'GET' })).toBe(1);
    expect(await value('rest_client_request_size_bytes_sum', { verb: 'POST', host })).toBe(Buffer.byteLength(JSON.stringify(body)));
    expect(await value('rest_client_request_size_bytes_count', { verb: 'GET', host })).toBe(2);
    expect(await value('rest_client_request_size_bytes_sum', { verb: 'GET', host })).toBe(0);
    // Every answer of the test server has a Content-Length: both GETs are observed, and the bytes are received.
    expect(await value('rest_client_response_size_bytes_count', { verb: 'GET', host })).toBe(2);
    const responseBytes = (await value('rest_client_response_size_bytes_sum', { verb: 'GET', host })) + (await value('rest_client_response_size_bytes_sum', { verb: 'POST', host }));
    expect(responseBytes).toBeGreaterThan(100);
    expect(await value('nodelet_rest_client_received_bytes_total', { host })).toBe(responseBytes);
  });

  it('counts a failed connection as <error>', async () => {
    const other = loadKubeConfig(s.kubeconfigPath);
    const reg = new Registry();
    bindRestClientMetrics(other, createRestClientMetrics(reg));
    (other.getCurrentCluster() as { server: string }).server = 'https://127.0.0.1:1';
    const client = new ApiClient(other);
    expect(await caught(client.request({ path: '/api/v1/nodes' }))).toBeInstanceOf(Error);
    const m = (await reg.getMetricsAsJSON()).find((x) => x.name === 'rest_client_requests_total');
    expect(m?.values).toEqual([{ labels: { code: '<error>', host: '127.0.0.1:1', method: 'GET' }, value: 1 }]);
  });

  it('holds a watch in the gauge while it is open and counts its bytes', async () => {
    const client = new ApiClient(kc);
    const before = await value('nodelet_rest_client_received_bytes_total', { host });
    const ac = new AbortController();
    let lines = 0;
    const gotLine = new Promise<void>((resolve) => {
      void client
        .stream({ path: '/api/v1/namespaces/default/pods', query: { watch: 'true', resourceVersion: '0' }, signal: ac.signal }, () => {
          lines++;
          resolve();
        }, 60_000)
        .catch(() => undefined);
    });
    await gotLine;
    expect(await value('nodelet_rest_client_watches', { host })).toBe(1);
    expect(await value('nodelet_rest_client_received_bytes_total', { host })).toBeGreaterThan(before);
    ac.abort();
    for (let i = 0; i < 100 && (await value('nodelet_rest_client_watches', { host })) !== 0; i++) await new Promise((r) => setImmediate(r));
    expect(await value('nodelet_rest_client_watches', { host })).toBe(0);
    expect(lines).toBeGreaterThan(0);
    client.close();
  });

  it('counts nothing for clients of an unbound kubeconfig', async () => {
    const reg = new Registry();
    createRestClientMetrics(reg);
    const client = new ApiClient(loadKubeConfig(s.kubeconfigPath));
    await client.request({ path: '/api/v1/namespaces/default/pods' });
    client.close();
    const m = (await reg.getMetricsAsJSON()).find((x) => x.name === 'rest_client_requests_total');
    expect(m?.values).toEqual([]);
  });
});
