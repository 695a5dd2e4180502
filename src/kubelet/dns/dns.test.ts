import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { MAX_DNS_SEARCH_LIST_CHARS, fitSearches, podDnsConfig, type DnsSettings, type DnsWarning } from './dns.js';
import { parseResolvConf } from './resolvconf.js';

const host = parseResolvConf(
  '# comment\nnameserver 192.168.1.1\nnameserver 192.168.1.2\nsearch corp.example. lab.example\noptions timeout:2 rotate\noptions timeout:3\n',
);
const settings: DnsSettings = { clusterDNS: ['10.96.0.10'], clusterDomain: 'cluster.local', host, nodeIPs: ['192.168.1.10'] };

function pod(spec: Partial<NonNullable<V1Pod['spec']>> = {}): V1Pod {
  return { metadata: { name: 'p', namespace: 'team', uid: 'u' }, spec: { containers: [], ...spec } };
}

describe('parseResolvConf', () => {
  it('accumulates nameservers, last search wins (trailing dot trimmed), options merge by name', () => {
    expect(host).toEqual({
      nameservers: ['192.168.1.1', '192.168.1.2'],
      searches: ['corp.example', 'lab.example'],
      options: ['timeout:3', 'rotate'],
    });
  });
});

describe('podDnsConfig', () => {
  it('ClusterFirst (default): cluster DNS, three cluster searches + host searches, ndots:5', () => {
    const { config, warnings } = podDnsConfig(pod(), settings);
    expect(config).toEqual({
      servers: ['10.96.0.10'],
      searches: ['team.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'corp.example', 'lab.example'],
      options: ['ndots:5'],
    });
    expect(warnings).toEqual([]);
  });

  it('ClusterFirst with hostNetwork falls back to the host config', () => {
    const { config } = podDnsConfig(pod({ hostNetwork: true }), settings);
    expect(config).toEqual({ servers: host.nameservers, searches: host.searches, options: host.options });
  });

  it('ClusterFirstWithHostNet uses the cluster DNS on the host network', () => {
    const { config } = podDnsConfig(pod({ hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet' }), settings);
    expect(config.servers).toEqual(['10.96.0.10']);
    expect(config.options).toEqual(['ndots:5']);
  });

  it('Default uses the host resolv.conf', () => {
    const { config } = podDnsConfig(pod({ dnsPolicy: 'Default' }), settings);
    expect(config).toEqual({ servers: host.nameservers, searches: host.searches, options: host.options });
  });

  it('None uses only spec.dnsConfig, options with and without values', () => {
    const { config } = podDnsConfig(
      pod({
        dnsPolicy: 'None',
        dnsConfig: { nameservers: ['1.2.3.4'], searches: ['a.example'], options: [{ name: 'ndots', value: '2' }, { name: 'edns0' }] },
      }),
      settings,
    );
    expect(config).toEqual({ servers: ['1.2.3.4'], searches: ['a.example'], options: ['ndots:2', 'edns0'] });
  });

  it('dnsConfig merges into ClusterFirst: duplicates dropped, options overridden by name', () => {
    const { config } = podDnsConfig(
      pod({ dnsConfig: { nameservers: ['10.96.0.10', '9.9.9.9'], searches: ['cluster.local', 'x.example'], options: [{ name: 'ndots', value: '1' }] } }),
      settings,
    );
    expect(config.servers).toEqual(['10.96.0.10', '9.9.9.9']);
    expect(config.searches).toEqual(['team.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'corp.example', 'lab.example', 'x.example']);
    expect(config.options).toEqual(['ndots:1']);
  });

  it('ClusterFirst without clusterDNS falls back to Default with a MissingClusterDNS event', () => {
    const { config, warnings } = podDnsConfig(pod(), { ...settings, clusterDNS: [] });
    expect(config.servers).toEqual(host.nameservers);
    expect(warnings).toEqual([
      {
        reason: 'MissingClusterDNS',
        message:
          'pod: "p_team(u)". kubelet does not have ClusterDNS IP configured and cannot create Pod using "ClusterFirst" policy. Falling back to "Default" policy.',
        nodeMessage:
          'kubelet does not have ClusterDNS IP configured and cannot create Pod using "ClusterFirst" policy. Falling back to "Default" policy.',
      },
    ]);
  });

  it('resolvConf "" makes Default pods use a localhost resolver and search "."', () => {
    const { config } = podDnsConfig(pod({ dnsPolicy: 'Default' }), { ...settings, host: undefined, nodeIPs: ['fd00::1'] });
    expect(config).toEqual({ servers: ['::1'], searches: ['.'], options: [] });
  });

  it('more than 3 nameservers are cut with a DNSConfigForming warning', () => {
    const { config, warnings } = podDnsConfig(
      pod({ dnsPolicy: 'None', dnsConfig: { nameservers: ['1.1.1.1', '2.2.2.2', '3.3.3.3', '4.4.4.4'] } }),
      settings,
    );
    expect(config.servers).toEqual(['1.1.1.1', '2.2.2.2', '3.3.3.3']);
    expect(warnings).toEqual([
      {
        reason: 'DNSConfigForming',
        message: 'Nameserver limits were exceeded, some nameservers have been omitted, the applied nameserver line is: 1.1.1.1 2.2.2.2 3.3.3.3',
      },
    ]);
  });

  it('more than 32 search domains are cut with a warning naming the applied line', () => {
    const searches = Array.from({ length: 40 }, (_, i) => `d${i}.example`);
    const { config, warnings } = podDnsConfig(pod({ dnsPolicy: 'None', dnsConfig: { searches } }), settings);
    expect(config.searches).toEqual(searches.slice(0, 32));
    expect(warnings[0]?.reason).toBe('DNSConfigForming');
    expect(warnings[0]?.message).toBe(
      `Search Line limits were exceeded, some search paths have been omitted, the applied search line is: ${searches.slice(0, 32).join(' ')}`,
    );
  });

  it('a search line over 2048 characters is cut from the end; over-long domains are dropped', () => {
    const long = Array.from({ length: 10 }, (_, i) => `${String(i).repeat(1)}${'a'.repeat(249)}.x`);
    const w: DnsWarning[] = [];
    const out = fitSearches(long, (x) => w.push(x));
    expect(out.join(' ').length).toBeLessThanOrEqual(MAX_DNS_SEARCH_LIST_CHARS);
    expect(out).toEqual(long.slice(0, 8));
    expect(w).toHaveLength(1);
    const w2: DnsWarning[] = [];
    expect(fitSearches(['ok.example', `${'b'.repeat(254)}`], (x) => w2.push(x))).toEqual(['ok.example']);
    expect(w2).toHaveLength(1);
    expect(fitSearches(['a', 'b'], () => expect.unreachable())).toEqual(['a', 'b']);
  });
});
