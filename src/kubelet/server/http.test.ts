import { afterEach, describe, expect, it } from 'vitest';
import { FakeRuntime } from '../../cri/index.js';
import { silentLogger } from '../../util/logger.js';
import { freshnessCheck, HealthChecks } from './health.js';
import { startHealthServer, type HealthServer } from './http.js';
import { instrumentRuntime, refreshRunningCounts } from './instrument.js';
import { createKubeletMetrics } from './metrics.js';

let server: HealthServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function get(path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${server?.port ?? 0}${path}`);
  return { status: res.status, body: await res.text() };
}

describe('health and metrics server', () => {
  it('answers /healthz ok, lists checks with ?verbose, and fails with the reason', async () => {
    const checks = new HealthChecks();
    let runtimeDown = false;
    checks.add('runtime', () => (runtimeDown ? 'container runtime is down' : undefined));
    const metrics = createKubeletMetrics('worker-1');
    server = await startHealthServer({ host: '127.0.0.1', port: 0, checks, registry: metrics.registry, logger: silentLogger() });
    expect(await get('/healthz')).toEqual({ status: 200, body: 'ok' });
    expect((await get('/healthz?verbose')).body).toBe('[+]ping ok\n[+]runtime ok\nhealthz check passed\n');
    runtimeDown = true;
    expect(await get('/healthz')).toEqual({ status: 500, body: '[+]ping ok\n[-]runtime failed: container runtime is down\nhealthz check failed\n' });
    expect((await get('/healthz/ping')).status).toBe(200);
    expect((await get('/healthz/nope')).status).toBe(404);
    expect((await get('/other')).status).toBe(404);
  });

  it('serves upstream-named metrics, counting runtime operations and running pods', async () => {
    const metrics = createKubeletMetrics('worker-1');
    const runtime = instrumentRuntime(new FakeRuntime(), metrics);
    await runtime.version();
    await runtime.status();
    await runtime.containerStatus('missing').catch(() => undefined);
    server = await startHealthServer({
      host: '127.0.0.1', port: 0, checks: new HealthChecks(), registry: metrics.registry, logger: silentLogger(),
      beforeScrape: () => refreshRunningCounts(runtime, metrics),
    });
    const { status, body } = await get('/metrics');
    expect(status).toBe(200);
    expect(body).toContain('kubelet_node_name{node="worker-1"} 1');
    expect(body).toContain('kubelet_runtime_operations_total{operation_type="version"} 1');
    expect(body).toContain('kubelet_runtime_operations_errors_total{operation_type="container_status"} 1');
    expect(body).toContain('kubelet_runtime_operations_duration_seconds_count{operation_type="status"} 1');
    expect(body).toContain('kubelet_running_pods 0');
    expect(body).toContain('kubelet_pleg_relist_duration_seconds_bucket');
    expect(body).toContain('process_resident_memory_bytes');
  });

  it('freshness checks fail with the age and threshold', () => {
    let now = 100_000;
    const check = freshnessCheck('pleg relist', () => 10_000, 60_000, () => now, 0);
    expect(check()).toBe('pleg relist was last seen 90s ago; threshold is 60s');
    now = 20_000;
    expect(check()).toBeUndefined();
  });
});
