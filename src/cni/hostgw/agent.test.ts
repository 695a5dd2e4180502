import type { V1Node } from '@kubernetes/client-node';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeInformer } from '../../proxy/testing/fake-informer.js';
import { HostGwNetwork } from './agent.js';
import { FakePodNetworkHost } from './host.js';
import { HOST_GW_CONF_FILE } from './render.js';

function node(name: string, ip: string, podCIDR?: string): V1Node {
  return { metadata: { name }, spec: podCIDR === undefined ? {} : { podCIDR, podCIDRs: [podCIDR] }, status: { addresses: [{ type: 'InternalIP', address: ip }] } };
}

describe('HostGwNetwork', () => {
  let dir: string;
  let nodes: FakeInformer<V1Node>;
  let host: FakePodNetworkHost;
  let net: HostGwNetwork;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'nl8-hostgw-'));
    nodes = new FakeInformer<V1Node>();
    host = new FakePodNetworkHost();
    host.foreign.push({ dst: '10.214.8.0/24', via: '0.0.0.0' });
    net = new HostGwNetwork({ nodeName: 'n1', nodes, host, confDir: join(dir, 'net.d'), clusterCIDRs: ['10.244.0.0/16'] });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('waits for the podCIDR, then writes the conflist once, masquerades and routes to the other nodes', async () => {
    nodes.set(node('n1', '10.214.8.2'));
    nodes.set(node('n2', '10.214.8.3', '10.244.2.0/24'));
    expect((await net.syncOnce()).state).toBe('waiting-for-pod-cidr');
    expect(host.routes.size).toBe(0);
    nodes.set(node('n1', '10.214.8.2', '10.244.1.0/24'));
    const r = await net.syncOnce();
    expect(r).toEqual({ state: 'synced', wroteConfig: true, added: 1, removed: 0, failed: 0 });
    const conf = JSON.parse(readFileSync(join(dir, 'net.d', HOST_GW_CONF_FILE), 'utf8')) as { plugins: { ipam?: { ranges: unknown } }[] };
    expect(conf.plugins[0]?.ipam?.ranges).toEqual([[{ subnet: '10.244.1.0/24' }]]);
    expect(host.masquerade).toEqual(['10.244.0.0/16']);
    expect([...host.routes.values()]).toEqual([{ dst: '10.244.2.0/24', via: '10.214.8.3' }]);
    expect(await net.syncOnce()).toEqual({ state: 'synced', wroteConfig: false, added: 0, removed: 0, failed: 0 });
  });

  it('follows node IP changes and removes the routes of deleted nodes, never touching foreign routes', async () => {
    nodes.set(node('n1', '10.214.8.2', '10.244.1.0/24'));
    nodes.set(node('n2', '10.214.8.3', '10.244.2.0/24'));
    nodes.set(node('n3', '10.214.8.4', '10.244.3.0/24'));
    await net.syncOnce();
    expect(host.routes.size).toBe(2);
    nodes.set(node('n2', '10.214.8.9', '10.244.2.0/24'));
    nodes.remove('n3');
    const r = await net.syncOnce();
    expect(r.added).toBe(1);
    expect(r.removed).toBe(1);
    expect([...host.routes.values()]).toEqual([{ dst: '10.244.2.0/24', via: '10.214.8.9' }]);
    expect(host.foreign).toEqual([{ dst: '10.214.8.0/24', via: '0.0.0.0' }]);
  });

  it('keeps routing to reachable nodes when one node\'s InternalIP is off every local link', async () => {
    nodes.set(node('n1', '10.214.8.2', '10.244.1.0/24'));
    nodes.set(node('far', '192.0.2.2', '10.244.5.0/24'));
    nodes.set(node('n2', '10.214.8.3', '10.244.2.0/24'));
    host.unreachable.add('192.0.2.2');
    expect(await net.syncOnce()).toMatchObject({ added: 1, failed: 1 });
    expect([...host.routes.keys()]).toEqual(['10.244.2.0/24']);
  });

  it('dual-stack: both ranges in the conflist, IPv6 routes via the IPv6 InternalIP, IPv6 masquerade from the pod CIDR', async () => {
    const dual = (name: string, v4: string, v6: string, i: number): V1Node => ({
      metadata: { name },
      spec: { podCIDR: `10.244.${i}.0/24`, podCIDRs: [`10.244.${i}.0/24`, `fd15:0:0:${i}::/64`] },
      status: { addresses: [{ type: 'InternalIP', address: v4 }, { type: 'InternalIP', address: v6 }] },
    });
    nodes.set(dual('n1', '10.214.8.2', 'fd15:0:0:ff::2', 1));
    nodes.set(dual('n2', '10.214.8.3', 'fd15:0:0:ff::3', 2));
    expect(await net.syncOnce()).toMatchObject({ state: 'synced', added: 2, failed: 0 });
    const conf = JSON.parse(readFileSync(join(dir, 'net.d', HOST_GW_CONF_FILE), 'utf8')) as { plugins: { ipam?: { ranges: unknown } }[] };
    expect(conf.plugins[0]?.ipam?.ranges).toEqual([[{ subnet: '10.244.1.0/24' }], [{ subnet: 'fd15:0:0:1::/64' }]]);
    expect([...host.routes.values()]).toEqual([
      { dst: '10.244.2.0/24', via: '10.214.8.3' },
      { dst: 'fd15:0:0:2::/64', via: 'fd15:0:0:ff::3' },
    ]);
    // --cluster-cidr is IPv4 only here: the IPv6 family is bounded by this node's IPv6 pod CIDR.
    expect(host.masquerade).toEqual(['10.244.0.0/16', 'fd15:0:0:1::/64']);
  });

  it('does nothing when the operator has their own CNI config', async () => {
    const confDir = join(dir, 'net.d');
    net = new HostGwNetwork({ nodeName: 'n1', nodes, host, confDir, clusterCIDRs: [] });
    nodes.set(node('n1', '10.214.8.2', '10.244.1.0/24'));
    nodes.set(node('n2', '10.214.8.3', '10.244.2.0/24'));
    const { mkdirSync } = await import('node:fs');
    mkdirSync(confDir);
    writeFileSync(join(confDir, '05-calico.conflist'), '{}');
    expect((await net.syncOnce()).state).toBe('foreign-config');
    expect(readdirSync(confDir)).toEqual(['05-calico.conflist']);
    expect(host.routes.size).toBe(0);
    expect(host.calls).toBe(0);
  });

  it('rewrites the conflist when the podCIDR changes', async () => {
    nodes.set(node('n1', '10.214.8.2', '10.244.1.0/24'));
    await net.syncOnce();
    nodes.set(node('n1', '10.214.8.2', '10.244.7.0/24'));
    expect((await net.syncOnce()).wroteConfig).toBe(true);
    expect(readFileSync(join(dir, 'net.d', HOST_GW_CONF_FILE), 'utf8')).toContain('10.244.7.0/24');
  });
});
