import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startDaemon } from '../../src/cli/daemon.js';
import { createProxyRole } from '../../src/cli/proxy-role.js';
import { resolveConfig } from '../../src/config/index.js';
import { FakeRuntime } from '../../src/cri/fake/fake-runtime.js';
import type { ProxyRoleInternals } from '../../src/proxy/index.js';
import { FakeInformer } from '../../src/proxy/testing/fake-informer.js';
import { FakeProxyHost } from '../../src/proxy/testing/fake-host.js';
import { silentLogger } from '../../src/util/logger.js';

const dir = mkdtempSync(join(tmpdir(), 'px-process-metrics-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
// The proxy role needs a kubeconfig; nothing listens there (the informers are fakes, the rest only retries).
const kubeconfig = join(dir, 'proxy.kubeconfig');
writeFileSync(kubeconfig, `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:21339", insecure-skip-tls-verify: true}}]
users: [{name: p, user: {token: px-token}}]
contexts: [{name: c, context: {cluster: c, user: p}}]
current-context: c
`);

/** How often each metric family is declared (`# TYPE name …`) in a scrape. */
function typeCounts(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const name = /^# TYPE (\S+) /.exec(line)?.[1];
    if (name !== undefined) out.set(name, (out.get(name) ?? 0) + 1);
  }
  return out;
}

const PROCESS = ['process_cpu_user_seconds_total', 'process_resident_memory_bytes', 'process_start_time_seconds', 'nodejs_heap_size_used_bytes', 'nodejs_eventloop_lag_seconds'];

describe('process metrics (nodejs_* / process_*) through the daemon wiring', () => {
  for (const roles of ['proxy', 'kubelet,proxy'] as const) {
    it(`roles=${roles}: the proxy's /metrics serves them once with kubeproxy_*${roles === 'proxy' ? '' : "; the kubelet's /metrics too, once"}`, async () => {
      const resolved = resolveConfig({
        flags: {
          roles,
          kubeconfig,
          'proxy-kubeconfig': kubeconfig,
          'root-dir': join(dir, roles),
          'hostname-override': 'px-node',
          'node-ip': '192.168.99.2',
          'healthz-port': roles === 'proxy' ? '0' : '21331',
          'healthz-bind-address': '127.0.0.1',
          'metrics-bind-address': '127.0.0.1:0',
          'proxy-healthz-bind-address': '',
          'fail-swap-on': 'false',
        },
        hostname: 'x',
        readConfig: () => [] as never,
      });
      // The kubelet runs standalone (no --kubeconfig: no node registration against the absent API server); the proxy
      // keeps its own identity.
      const config = { ...resolved, kubeconfig: undefined };
      let proxy: ProxyRoleInternals | undefined;
      const daemon = await startDaemon(
        config,
        {
          createRuntime: () => new FakeRuntime(),
          proxy: (ctx) => (proxy = createProxyRole(ctx, { host: new FakeProxyHost(), informers: { services: new FakeInformer(), endpointSlices: new FakeInformer() } })),
        },
        silentLogger(),
        0,
      );
      try {
        expect(proxy?.metricsPort).toBeGreaterThan(0);
        const proxyText = await (await fetch(`http://127.0.0.1:${proxy?.metricsPort}/metrics`)).text();
        const counts = typeCounts(proxyText);
        for (const name of [...PROCESS, 'kubeproxy_sync_proxy_rules_duration_seconds']) expect(counts.get(name), name).toBe(1);
        expect([...counts.values()].every((n) => n === 1)).toBe(true);
        expect(counts.has('kubelet_node_name')).toBe(false);
        if (roles === 'proxy') {
          expect(daemon.healthPort).toBeUndefined();
          return;
        }
        const kubeletText = await (await fetch(`http://127.0.0.1:${daemon.healthPort}/metrics`)).text();
        const kcounts = typeCounts(kubeletText);
        for (const name of [...PROCESS, 'kubelet_node_name', 'kubeproxy_sync_proxy_rules_duration_seconds']) expect(kcounts.get(name), name).toBe(1);
        expect([...kcounts.values()].every((n) => n === 1)).toBe(true);
      } finally {
        await daemon.shutdown('test');
      }
    });
  }
});
