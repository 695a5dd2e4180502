import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock, silentLogger } from '../../util/index.js';
import type { KubeObject } from '../../api/types.js';
import type { EndpointSliceObject, ServiceObject } from '../apitypes.js';
import { defaultProxyConfig, resolveProxyConfig } from '../config.js';
import { createProxy, type ProxyRoleInternals } from '../role.js';
import { FakeIptables } from '../testing/fake-iptables.js';
import { FakeInformer } from '../testing/fake-informer.js';
import { FakeProxyHost } from '../testing/fake-host.js';
import { referenceObjects } from '../testing/reference.js';
import { FakeNft } from './fake.js';
import { NftProxier } from './proxier.js';
import { checkNftSupport } from './exec.js';

describe('createProxy with mode nftables', () => {
  let role: ProxyRoleInternals | undefined;
  afterEach(async () => role?.stop());

  it('refuses to start without the nft tool, saying what is missing', async () => {
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent-nl7';
    try {
      await expect(checkNftSupport()).rejects.toMatchObject({ code: 'NFTABLES_UNSUPPORTED', message: expect.stringMatching(/needs the nft tool \(package "nftables"\)/) });
    } finally {
      process.env.PATH = path;
    }
  });

  it('accepts mode nftables and rejects unknown modes', () => {
    const cfg = defaultProxyConfig();
    cfg.mode = 'nftables';
    expect(resolveProxyConfig(cfg).mode).toBe('nftables');
    cfg.mode = 'ipvs' as never;
    expect(() => resolveProxyConfig(cfg)).toThrow(/only "iptables" or "nftables"/);
  });

  it('builds NftProxiers, programs the table once both informers synced, follows endpoint changes partially', async () => {
    const { services, slices } = referenceObjects();
    const cfg = defaultProxyConfig();
    cfg.mode = 'nftables';
    cfg.clusterCIDR = '10.244.0.0/16';
    cfg.healthzBindAddress = '127.0.0.1:0';
    cfg.metricsBindAddress = '127.0.0.1:0';
    cfg.iptables.minSyncPeriod = '0s';
    const nft = new FakeNft();
    const ipt = new FakeIptables();
    const clock = new FakeClock();
    const settle = async (ms: number): Promise<void> => {
      clock.advance(ms);
      for (let i = 0; i < 200; i++) await Promise.resolve();
    };
    const svcInf = new FakeInformer<ServiceObject>(services);
    const epInf = new FakeInformer<EndpointSliceObject>(slices);
    role = createProxy({ config: cfg, informers: { services: svcInf, endpointSlices: epInf }, nodeName: 'kpnode', nodeIPs: ['192.168.99.2'], logger: silentLogger(), host: new FakeProxyHost({ iptables: [ipt], nft: [nft] }), clock });
    await role.start();
    await settle(0);
    expect(role.proxier).toBeInstanceOf(NftProxier);
    expect(nft.chain('services')).toBeDefined();
    // The iptables mode wrote nothing.
    expect(ipt.restores).toHaveLength(0);
    const n = nft.transactions.length;
    epInf.remove('ref/web-1');
    await settle(0);
    expect(nft.transactions.length).toBe(n + 1);
    expect(nft.transactions.at(-1)?.some((c) => c.startsWith('delete table'))).toBe(false);
    expect(nft.elements('no-endpoint-services')?.some((e) => e.includes('goto reject-chain'))).toBe(true);
    const metrics = await (await fetch(`http://127.0.0.1:${role.metricsPort}/metrics`)).text();
    expect(metrics).toMatch(/kubeproxy_sync_partial_proxy_rules_duration_seconds_count 1/);
  });
  it('drops traffic to unallocated ClusterIPs of the ServiceCIDRs (their own family), following ServiceCIDR changes', async () => {
    const { services, slices } = referenceObjects();
    const cfg = defaultProxyConfig();
    cfg.mode = 'nftables';
    cfg.clusterCIDR = '10.244.0.0/16';
    cfg.healthzBindAddress = '';
    cfg.metricsBindAddress = '';
    cfg.iptables.minSyncPeriod = '0s';
    const nft = new FakeNft();
    const clock = new FakeClock();
    const settle = async (ms: number): Promise<void> => {
      clock.advance(ms);
      for (let i = 0; i < 200; i++) await Promise.resolve();
    };
    const cidrInf = new FakeInformer<KubeObject>([{ metadata: { name: 'kubernetes' }, spec: { cidrs: ['10.96.0.0/16', 'fd00:96::/108'] } } as KubeObject]);
    role = createProxy({
      config: cfg,
      informers: { services: new FakeInformer<ServiceObject>(services), endpointSlices: new FakeInformer<EndpointSliceObject>(slices), serviceCIDRs: cidrInf },
      ...{ nodeName: 'kpnode', nodeIPs: ['192.168.99.2'], logger: silentLogger(), host: new FakeProxyHost({ iptables: [new FakeIptables()], nft: [nft] }), clock },
    });
    await role.start();
    await settle(0);
    expect(nft.chain('cluster-ips-check')).toEqual([
      'ip daddr @cluster-ips reject comment "Reject traffic to invalid ports of ClusterIPs"',
      'ip daddr { 10.96.0.0/16 } drop comment "Drop traffic to unallocated ClusterIPs"',
    ]);
    cidrInf.set({ metadata: { name: 'extra' }, spec: { cidrs: ['10.97.0.0/24'] } } as KubeObject);
    await settle(0);
    expect(nft.chain('cluster-ips-check')?.[1]).toBe('ip daddr { 10.96.0.0/16, 10.97.0.0/24 } drop comment "Drop traffic to unallocated ClusterIPs"');
    cidrInf.remove('extra');
    cidrInf.remove('kubernetes');
    await settle(0);
    expect(nft.chain('cluster-ips-check')).toHaveLength(1);
  });
});
