import { describe, expect, it } from 'vitest';
import { parseConfList } from '../conf.js';
import { cidrWithin, desiredRoutes, hostGwConflist, masqueradeRestore, routeChanges } from './render.js';

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
