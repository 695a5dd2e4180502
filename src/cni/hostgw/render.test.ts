import { describe, expect, it } from 'vitest';
import { parseConfList } from '../conf.js';
import { cidrWithin, desiredRoutes, effectiveClusterCIDRs, hostGwConflist, masqueradeHookArgs, masqueradeRestore, routeChanges } from './render.js';

describe('host-gw rendering', () => {
  it('renders a dual-stack bridge + host-local + portmap + loopback conflist that parses', () => {
    const list = parseConfList(hostGwConflist({ podCIDRs: ['10.244.1.0/24', 'fd00:10:244:1::/64'], bridge: 'nl8x' }));
    expect(list.cniVersion).toBe('1.0.0');
    expect(list.plugins.map((p) => p.type)).toEqual(['bridge', 'portmap', 'loopback']);
    expect(list.plugins[0]).toMatchObject({
      bridge: 'nl8x',
      isGateway: true,
      ipMasq: false,
      ipam: { type: 'host-local', ranges: [[{ subnet: '10.244.1.0/24' }], [{ subnet: 'fd00:10:244:1::/64' }]], routes: [{ dst: '0.0.0.0/0' }, { dst: '::/0' }] },
    });
    expect(list.plugins[1]?.capabilities).toEqual({ portMappings: true });
  });

  it('routes every other node\'s pod CIDR via its InternalIP of the same family, only inside the cluster CIDR', () => {
    const nodes = [
      { name: 'a', podCIDRs: ['10.244.0.0/24'], internalIPs: ['10.214.8.2'] },
      { name: 'b', podCIDRs: ['10.244.1.0/24', 'fd00::/64'], internalIPs: ['10.214.8.3'] },
      { name: 'c', podCIDRs: [], internalIPs: ['10.214.8.4'] },
      { name: 'd', podCIDRs: ['192.168.0.0/24'], internalIPs: ['10.214.8.5'] },
      { name: 'e', podCIDRs: ['10.244.4.0/24'], internalIPs: [] },
    ];
    expect(desiredRoutes(nodes, 'a', ['10.244.0.0/16'])).toEqual([{ dst: '10.244.1.0/24', via: '10.214.8.3' }]);
    expect(desiredRoutes(nodes, 'a', [])).toEqual([
      { dst: '10.244.1.0/24', via: '10.214.8.3' },
      { dst: '192.168.0.0/24', via: '10.214.8.5' },
    ]);
  });

  it('computes changes: new, moved (replace) and gone routes', () => {
    const c = routeChanges(
      [{ dst: '10.244.1.0/24', via: '10.0.0.3' }, { dst: '10.244.2.0/24', via: '10.0.0.9' }],
      [{ dst: '10.244.2.0/24', via: '10.0.0.4' }, { dst: '10.244.3.0/24', via: '10.0.0.5' }],
    );
    expect(c.add).toEqual([{ dst: '10.244.1.0/24', via: '10.0.0.3' }, { dst: '10.244.2.0/24', via: '10.0.0.9' }]);
    expect(c.remove).toEqual([{ dst: '10.244.3.0/24', via: '10.0.0.5' }]);
  });

  it('knows CIDR containment', () => {
    expect(cidrWithin('10.244.3.0/24', '10.244.0.0/16')).toBe(true);
    expect(cidrWithin('10.245.3.0/24', '10.244.0.0/16')).toBe(false);
    expect(cidrWithin('10.0.0.0/8', '10.244.0.0/16')).toBe(false);
    expect(cidrWithin('fd00::/64', '10.0.0.0/8')).toBe(false);
    expect(cidrWithin('fd15:0:0:2::/64', 'fd15::/48')).toBe(true);
    expect(cidrWithin('fd15::/64', 'fd00::/8')).toBe(true);
    expect(cidrWithin('fd15:1::/64', 'fd15::/48')).toBe(false);
    expect(cidrWithin('fd15::/40', 'fd15::/48')).toBe(false);
    expect(cidrWithin('10.0.0.0/8', 'fd00::/8')).toBe(false);
    expect(cidrWithin('nonsense', '10.0.0.0/8')).toBe(false);
  });

  it('routes IPv6 pod CIDRs via the IPv6 InternalIP, bounded per family by the cluster CIDRs of that family', () => {
    const nodes = [
      { name: 'a', podCIDRs: ['10.215.0.0/24', 'fd15:0:0:0::/64'], internalIPs: ['10.215.100.2', 'fd15:0:0:ff::2'] },
      { name: 'b', podCIDRs: ['10.215.1.0/24', 'fd15:0:0:1::/64'], internalIPs: ['10.215.100.3', 'fd15:0:0:ff::3'] },
      { name: 'c', podCIDRs: ['fd15:0:0:2::/64'], internalIPs: ['fd15:0:0:ff::4'] },
      { name: 'd', podCIDRs: ['fd99::/64'], internalIPs: ['fd15:0:0:ff::5'] },
      { name: 'e', podCIDRs: ['fd15:0:0:4::/64'], internalIPs: ['10.215.100.6'] },
    ];
    expect(desiredRoutes(nodes, 'a', ['10.215.0.0/16', 'fd15::/48'])).toEqual([
      { dst: '10.215.1.0/24', via: '10.215.100.3' },
      { dst: 'fd15:0:0:1::/64', via: 'fd15:0:0:ff::3' },
      { dst: 'fd15:0:0:2::/64', via: 'fd15:0:0:ff::4' },
    ]);
    // A single-stack IPv4 --cluster-cidr does not drop the IPv6 routes (no IPv6 bound given).
    expect(desiredRoutes(nodes, 'a', ['10.215.0.0/16']).map((r) => r.dst)).toEqual(['10.215.1.0/24', 'fd15:0:0:1::/64', 'fd15:0:0:2::/64', 'fd99::/64']);
  });

  it('bounds each family by its cluster CIDRs, else by this node\'s pod CIDR of that family', () => {
    expect(effectiveClusterCIDRs(['10.215.0.0/16', 'fd15::/48'], ['10.215.1.0/24', 'fd15:0:0:1::/64'])).toEqual(['10.215.0.0/16', 'fd15::/48']);
    expect(effectiveClusterCIDRs(['10.215.0.0/16'], ['10.215.1.0/24', 'fd15:0:0:1::/64'])).toEqual(['10.215.0.0/16', 'fd15:0:0:1::/64']);
    expect(effectiveClusterCIDRs([], ['fd15:0:0:1::/64'])).toEqual(['fd15:0:0:1::/64']);
    expect(effectiveClusterCIDRs(['fd15::/48'], ['10.215.1.0/24'])).toEqual(['10.215.1.0/24', 'fd15::/48']);
  });

  it('renders the IPv6 masquerade for ip6tables-restore from the IPv6 CIDRs only (multicast ff00::/8 excluded)', () => {
    expect(masqueradeRestore(['10.215.0.0/16', 'fd15::/48'], 6)).toBe(
      [
        '*nat',
        ':NODELET-POD-MASQ - [0:0]',
        '-F NODELET-POD-MASQ',
        '-A NODELET-POD-MASQ -s fd15::/48 -d fd15::/48 -m comment --comment "nodelet pod network: pod to pod" -j RETURN',
        '-A NODELET-POD-MASQ -s fd15::/48 ! -d ff00::/8 -m comment --comment "nodelet pod network: leaving the cluster CIDR" -j MASQUERADE --random-fully',
        'COMMIT',
        '',
      ].join('\n'),
    );
    expect(masqueradeRestore(['10.215.0.0/16', 'fd15::/48'], 4)).not.toContain('fd15');
    expect(masqueradeHookArgs('-D')).toEqual(['-t', 'nat', '-D', 'POSTROUTING', '-m', 'comment', '--comment', 'nodelet pod network masquerade', '-j', 'NODELET-POD-MASQ']);
  });

  it('masquerades pod traffic leaving the cluster CIDR only', () => {
    expect(masqueradeRestore(['10.244.0.0/16'])).toBe(
      [
        '*nat',
        ':NODELET-POD-MASQ - [0:0]',
        '-F NODELET-POD-MASQ',
        '-A NODELET-POD-MASQ -s 10.244.0.0/16 -d 10.244.0.0/16 -m comment --comment "nodelet pod network: pod to pod" -j RETURN',
        '-A NODELET-POD-MASQ -s 10.244.0.0/16 ! -d 224.0.0.0/4 -m comment --comment "nodelet pod network: leaving the cluster CIDR" -j MASQUERADE --random-fully',
        'COMMIT',
        '',
      ].join('\n'),
    );
  });
});
