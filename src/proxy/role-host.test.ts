/**
 * The proxy role with every outside effect faked (FakeProxyHost): what it does to the host is the same as with the
 * real tools — conntrack cleanup of stale UDP entries, conntrack sysctls and route_localnet at start, removal of the
 * other mode's rules — in both modes and for both IP families.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock, silentLogger } from '../util/index.js';
import type { EndpointSliceObject, ServiceObject } from './apitypes.js';
import { defaultProxyConfig, type ProxyConfig } from './config.js';
import { ROUTE_LOCALNET_PATH } from './host.js';
import { createProxy, type ProxyRoleInternals } from './role.js';
import { HASHSIZE_PATH, netfilterSysctl } from './sysctl.js';
import { FakeInformer } from './testing/fake-informer.js';
import { FakeIptables } from './testing/fake-iptables.js';
import { FakeProxyHost } from './testing/fake-host.js';

const DNS_IP = '172.30.0.10';

function dnsService(): ServiceObject {
  return { metadata: { namespace: 'kube-system', name: 'dns' }, spec: { clusterIP: DNS_IP, ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] } };
}
function dnsSlice(ips: string[]): EndpointSliceObject {
  return {
    metadata: { namespace: 'kube-system', name: 'dns-1', labels: { 'kubernetes.io/service-name': 'dns' } },
    addressType: 'IPv4',
    ports: [{ name: 'dns', port: 5353, protocol: 'UDP' }],
    endpoints: ips.map((ip) => ({ addresses: [ip], nodeName: 'other', conditions: { ready: true } })),
  };
}

function config(mode: 'iptables' | 'nftables'): ProxyConfig {
  const cfg = defaultProxyConfig();
  cfg.mode = mode;
  cfg.clusterCIDR = '10.244.0.0/16';
  cfg.healthzBindAddress = '';
  cfg.metricsBindAddress = '';
  cfg.iptables.minSyncPeriod = '0s';
  cfg.conntrack.maxPerCore = 32768;
  cfg.conntrack.min = 131072;
  return cfg;
}

describe('createProxy with a FakeProxyHost', () => {
  let role: ProxyRoleInternals | undefined;
  afterEach(async () => {
    await role?.stop();
    role = undefined;
  });

  async function start(mode: 'iptables' | 'nftables', host: FakeProxyHost, nodeIPs = ['192.168.99.2']) {
    const clock = new FakeClock();
    const services = new FakeInformer<ServiceObject>([dnsService()]);
    const slices = new FakeInformer<EndpointSliceObject>([dnsSlice(['10.244.1.5', '10.244.2.5'])]);
    role = createProxy({ config: config(mode), informers: { services, endpointSlices: slices }, nodeName: 'n1', nodeIPs, logger: silentLogger(), host, clock });
    await role.start();
    // Fires due timers and lets the sync's promise chain settle (no real time passes).
    const settle = async (): Promise<void> => {
      clock.advance(0);
      for (let i = 0; i < 200; i++) await Promise.resolve();
    };
    await settle();
    return { slices, settle };
  }

  for (const mode of ['iptables', 'nftables'] as const) {
    it(`${mode}: deletes stale UDP conntrack entries when an endpoint goes away`, async () => {
      const host = new FakeProxyHost();
      const { slices, settle } = await start(mode, host);
      const ct = host.conntrackByFamily.get('IPv4');
      expect(ct).toBeDefined();
      // The first sync saw the service get endpoints: entries made while it rejected traffic are cleared.
      expect(ct?.filters).toContainEqual({ kind: 'origDst', ip: DNS_IP });
      const before = ct?.calls.length ?? 0;
      slices.set(dnsSlice(['10.244.1.5']));
      await settle();
      expect(ct?.calls.length).toBeGreaterThan(before);
      expect(ct?.calls.slice(before).flat()).toEqual([{ kind: 'origDst', ip: DNS_IP, dnat: '10.244.2.5' }]);
    });

    it(`${mode}: applies the conntrack sysctls at start (only raising limits)`, async () => {
      const host = new FakeProxyHost();
      await start(mode, host);
      const s = host.sysctl;
      expect(s?.values.get(netfilterSysctl('nf_conntrack_max'))).toBe(131072);
      expect(s?.values.get(HASHSIZE_PATH)).toBe(32768);
      expect(s?.values.get(netfilterSysctl('nf_conntrack_tcp_timeout_established'))).toBe(86400);
      expect(s?.values.get(netfilterSysctl('nf_conntrack_tcp_timeout_close_wait'))).toBe(3600);
      // localhost NodePorts exist only in the iptables mode (as upstream).
      expect(s?.values.get(ROUTE_LOCALNET_PATH)).toBe(mode === 'iptables' ? 1 : 0);
    });
  }

  it('a sysctl that cannot be set fails the start, as upstream', async () => {
    const host = new FakeProxyHost();
    host.sysctl?.readOnly.add(netfilterSysctl('nf_conntrack_tcp_timeout_established'));
    await expect(start('iptables', host)).rejects.toMatchObject({ code: 'SYSCTL_FAILED' });
  });

  it('leaves every kernel parameter alone only when the host has no Sysctl (a caller choice, not a fake side effect)', async () => {
    const host = new FakeProxyHost({ sysctl: null });
    const { slices, settle } = await start('iptables', host);
    expect(host.sysctl).toBeUndefined();
    // Conntrack cleanup still runs.
    slices.set(dnsSlice([]));
    await settle();
    expect(host.conntrackByFamily.get('IPv4')?.filters).toContainEqual({ kind: 'origDst', ip: DNS_IP, dnat: '10.244.2.5' });
  });

  it('iptables mode removes the nftables mode tables of both families', async () => {
    const host = new FakeProxyHost();
    await host.nft('IPv4').run(['add table ip kube-proxy']);
    await host.nft('IPv6').run(['add table ip6 kube-proxy']);
    await start('iptables', host);
    expect(host.nft('IPv4').table).toBeUndefined();
    expect(host.nft('IPv6').table).toBeUndefined();
    expect((await host.iptables('IPv4')).chains('nat')).toContain('KUBE-SERVICES');
  });

  it('nftables mode checks support first, then removes iptables-mode leftovers', async () => {
    const ipt = new FakeIptables();
    await ipt.restore('*nat\n:KUBE-SERVICES - [0:0]\n:KUBE-SVC-OLD - [0:0]\n-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES\nCOMMIT\n', { noflush: true });
    const host = new FakeProxyHost({ iptables: [ipt] });
    await start('nftables', host);
    expect(ipt.chains('nat')).not.toContain('KUBE-SERVICES');
    expect(ipt.chains('nat')).not.toContain('KUBE-SVC-OLD');
    expect(host.nft('IPv4').chain('services')).toBeDefined();

    await role?.stop();
    role = undefined;
    await expect(start('nftables', new FakeProxyHost({ nftUnsupported: 'needs the nft tool' }))).rejects.toMatchObject({ code: 'NFTABLES_UNSUPPORTED' });
  });

  it('dual-stack node: one iptables runner and one conntrack per family', async () => {
    const host = new FakeProxyHost();
    await start('iptables', host, ['192.168.99.2', 'fd00::2']);
    expect(role?.proxiers).toHaveLength(2);
    expect([...host.iptablesByFamily.keys()].sort()).toEqual(['IPv4', 'IPv6']);
    expect((await host.iptables('IPv6')).chains('nat')).toContain('KUBE-SERVICES');
    expect([...host.conntrackByFamily.keys()].sort()).toEqual(['IPv4', 'IPv6']);
  });
});
