import { describe, expect, it } from 'vitest';
import { toProxyConfig } from '../../src/cli/proxy-role.js';
import { FLAGS, kubeletConfigurationSchema, kubeProxyConfigurationSchema, parseConfigText, resolveConfig } from '../../src/config/index.js';
import { resolveProxyConfig } from '../../src/proxy/index.js';
import { z } from 'zod';

function fieldExists(schema: z.ZodType, path: readonly string[]): boolean {
  let cur: z.ZodType = schema;
  for (const key of path) {
    while (cur instanceof z.ZodOptional) cur = cur.unwrap() as z.ZodType;
    if (!(cur instanceof z.ZodObject)) return false;
    const next = (cur.shape as Record<string, z.ZodType | undefined>)[key];
    if (next === undefined) return false;
    cur = next;
  }
  return true;
}

describe('flag table', () => {
  it('every flag that sets a config field names a field of its document', () => {
    for (const f of FLAGS) {
      if (f.target === undefined) continue;
      const schema = f.target.doc === 'kubelet' ? kubeletConfigurationSchema : kubeProxyConfigurationSchema;
      expect(fieldExists(schema, f.target.path), `--${f.name} → ${f.target.path.join('.')}`).toBe(true);
    }
    expect(new Set(FLAGS.map((f) => f.name)).size).toBe(FLAGS.length);
  });
});

describe('proxy config mapping', () => {
  it('maps defaults into a ProxyConfig the proxy accepts', () => {
    const pc = toProxyConfig(resolveConfig({ flags: { kubeconfig: '/k' }, hostname: 'Worker-1' }));
    expect(pc).toMatchObject({ hostnameOverride: 'worker-1', healthzBindAddress: '0.0.0.0:10256', metricsBindAddress: '127.0.0.1:10249', mode: 'iptables' });
    const r = resolveProxyConfig(pc);
    expect(r).toMatchObject({ syncPeriodMs: 30_000, minSyncPeriodMs: 1000, masqueradeMark: '0x4000', masqueradeAll: false });
  });

  it('maps file values overridden by flags', () => {
    const config = resolveConfig({
      flags: { kubeconfig: '/k', config: 'c.yaml', 'iptables-sync-period': '20s', 'proxy-healthz-bind-address': '127.0.0.1:0', 'nodeport-addresses': '127.0.0.0/8' },
      hostname: 'h',
      readConfig: (p) => parseConfigText('apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nclusterCIDR: 10.244.0.0/16\niptables:\n  masqueradeAll: true\n  masqueradeBit: 15\n  syncPeriod: 45s\n', p),
    });
    const pc = toProxyConfig(config);
    expect(pc.iptables).toMatchObject({ masqueradeAll: true, masqueradeBit: 15, syncPeriod: '20s', minSyncPeriod: '1s' });
    expect(pc.clusterCIDR).toBe('10.244.0.0/16');
    expect(pc.nodePortAddresses).toEqual(['127.0.0.0/8']);
    const r = resolveProxyConfig(pc);
    expect(r).toMatchObject({ syncPeriodMs: 20_000, masqueradeMark: '0x8000', masqueradeAll: true, clusterCIDRs: ['10.244.0.0/16'], healthz: { host: '127.0.0.1', port: 0 } });
  });
});

describe('shared /metrics', () => {
  it('the kubelet, prober and proxy metrics merge into one registry without name clashes', async () => {
    const { createKubeletMetrics } = await import('../../src/kubelet/server/index.js');
    const { createProxyMetrics } = await import('../../src/proxy/metrics.js');
    const { Registry } = await import('prom-client');
    const kubelet = createKubeletMetrics('worker-1');
    const proxy = createProxyMetrics();
    const text = await Registry.merge([kubelet.registry, proxy.registry]).metrics();
    expect(text).toContain('kubelet_node_name{node="worker-1"} 1');
    expect(text).toContain('# TYPE kubeproxy_sync_proxy_rules_duration_seconds histogram');
    expect(text).toContain('process_cpu_user_seconds_total');
  });
});
