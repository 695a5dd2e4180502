import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock, silentLogger } from '../util/index.js';
import type { EndpointSliceObject, ServiceObject } from './apitypes.js';
import { defaultProxyConfig } from './config.js';
import { createProxy, type ProxyRoleInternals } from './role.js';
import { FakeIptables } from './testing/fake-iptables.js';
import { FakeInformer } from './testing/fake-informer.js';
import { FakeProxyHost } from './testing/fake-host.js';
import { referenceObjects } from './testing/reference.js';

describe('createProxy', () => {
  let role: ProxyRoleInternals | undefined;
  afterEach(async () => role?.stop());

  it('syncs once both informers synced, serves /healthz, /livez and /metrics with upstream names', async () => {
    const { services, slices } = referenceObjects();
    const cfg = defaultProxyConfig();
    cfg.clusterCIDR = '10.244.0.0/16';
    cfg.healthzBindAddress = '127.0.0.1:0';
    cfg.metricsBindAddress = '127.0.0.1:0';
    cfg.iptables.minSyncPeriod = '0s';
    const ipt = new FakeIptables();
    const clock = new FakeClock();
    // Fires due timers and lets the sync's promise chain settle (no real time passes).
    const settle = async (ms: number): Promise<void> => {
      clock.advance(ms);
      for (let i = 0; i < 200; i++) await Promise.resolve();
    };
    const svcInf = new FakeInformer<ServiceObject>(services);
    const epInf = new FakeInformer<EndpointSliceObject>(slices);
    role = createProxy({ config: cfg, informers: { services: svcInf, endpointSlices: epInf }, nodeName: 'kpnode', nodeIPs: ['192.168.99.2'], logger: silentLogger(), host: new FakeProxyHost({ iptables: [ipt] }), clock });
    await role.start();
    await settle(0);
    expect(ipt.chains('nat')).toContain('KUBE-SVC-QPFXUWBW77EZGX4C');
    const hz = await fetch(`http://127.0.0.1:${role.healthzPort}/healthz`);
    expect(hz.status).toBe(200);
    const body = (await hz.json()) as Record<string, string>;
    expect(Object.keys(body)).toEqual(['lastUpdated', 'currentTime']);
    expect((await fetch(`http://127.0.0.1:${role.healthzPort}/livez`)).status).toBe(200);
    const metrics = await (await fetch(`http://127.0.0.1:${role.metricsPort}/metrics`)).text();
    for (const name of [
      'kubeproxy_sync_proxy_rules_duration_seconds',
      'kubeproxy_sync_full_proxy_rules_duration_seconds',
      'kubeproxy_sync_partial_proxy_rules_duration_seconds',
      'kubeproxy_network_programming_duration_seconds',
      'kubeproxy_sync_proxy_rules_last_timestamp_seconds',
      'kubeproxy_sync_proxy_rules_iptables_restore_failures_total',
      'kubeproxy_sync_proxy_rules_iptables_total{table="nat"}',
    ]) expect(metrics).toContain(name);
    // An endpoint change reaches the rules through the informer handlers.
    const restores = ipt.restores.length;
    epInf.remove('ref/web-1');
    await settle(0);
    expect(ipt.restores.length).toBe(restores + 1);
    expect(ipt.chains('nat')).not.toContain('KUBE-SVC-QPFXUWBW77EZGX4C');
    expect(ipt.rules('filter', 'KUBE-SERVICES').join('\n')).toContain('ref/web has no endpoints');
  });

  it('rejects an invalid configuration with the field name', async () => {
    const cfg = defaultProxyConfig();
    cfg.iptables.masqueradeBit = 40;
    role = createProxy({ config: cfg, informers: { services: new FakeInformer(), endpointSlices: new FakeInformer() }, nodeName: 'n', nodeIPs: [], logger: silentLogger(), host: new FakeProxyHost() });
    await expect(role.start()).rejects.toMatchObject({ code: 'CONFIG_INVALID', field: 'iptables.masqueradeBit' });
  });
});
