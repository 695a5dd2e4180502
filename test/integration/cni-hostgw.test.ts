/**
 * The host-gw pod network's real effects, all inside network namespaces of this suite (nl8h-*): the rendered conflist
 * run by the real plugins (pod IP from the node's pod CIDR; loopback in the chain keeps eth0's result), routes with
 * the keeper's own proto (foreign routes untouched), and the masquerade chain. Nothing is sent anywhere.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import type { V1Node } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CniPodNetwork, ExecCniPlugin } from '../../src/cni/index.js';
import { HostGwNetwork, hostGwConflist, HOST_GW_CONF_FILE, LinuxPodNetworkHost, ROUTE_PROTO } from '../../src/cni/hostgw/index.js';
import { FakeInformer } from '../../src/proxy/testing/fake-informer.js';

const ROOT = '/tmp/h8/cni-hostgw';
const NODE_NS = 'nl8h-node';
const POD_NS = 'nl8h-pod';

function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8' });
}
function inNode(...args: string[]): string {
  return execFileSync('ip', ['netns', 'exec', NODE_NS, ...args], { encoding: 'utf8' });
}

function node(name: string, addr: string, podCIDR?: string): V1Node {
  return { metadata: { name }, spec: podCIDR === undefined ? {} : { podCIDR, podCIDRs: [podCIDR] }, status: { addresses: [{ type: 'InternalIP', address: addr }] } };
}

describe.skipIf(process.getuid?.() !== 0)('host-gw pod network (network namespaces)', () => {
  beforeAll(() => {
    for (const ns of [NODE_NS, POD_NS]) {
      try {
        execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
      } catch {
        // not there
      }
    }
  }, 10_000);

  afterAll(() => {
    for (const ns of [NODE_NS, POD_NS]) {
      try {
        ip('netns', 'del', ns);
      } catch {
        // gone
      }
    }
    rmSync(ROOT, { recursive: true, force: true });
  });

  it('keeps routes with its own proto, follows node changes, leaves foreign routes alone, and masquerades', async () => {
    ip('netns', 'add', NODE_NS);
    // The node's own network: a link with an address on 10.214.8.0/28 (no peer, nothing is sent).
    inNode('ip', 'link', 'add', 'nl8h0', 'type', 'veth', 'peer', 'name', 'nl8h1');
    inNode('ip', 'addr', 'add', '10.214.8.2/28', 'dev', 'nl8h0');
    inNode('ip', 'link', 'set', 'nl8h0', 'up');
    inNode('ip', 'link', 'set', 'nl8h1', 'up');
    inNode('ip', 'route', 'add', '10.244.99.0/24', 'via', '10.214.8.9'); // someone else's route (proto boot)
    const nodes = new FakeInformer<V1Node>([node('me', '10.214.8.2', '10.244.1.0/24'), node('n2', '10.214.8.3', '10.244.2.0/24'), node('n3', '10.214.8.4', '10.244.3.0/24')]);
    const confDir = `${ROOT}/net.d`;
    const net = new HostGwNetwork({ nodeName: 'me', nodes, host: new LinuxPodNetworkHost({ netns: NODE_NS }), confDir, clusterCIDRs: ['10.244.0.0/16'], bridge: 'nl8cni0' });
    expect(await net.syncOnce()).toEqual({ state: 'synced', wroteConfig: true, added: 2, removed: 0, failed: 0 });
    const routes = () => inNode('ip', 'route', 'show', 'proto', String(ROUTE_PROTO)).trim().split('\n').map((l) => l.trim()).filter((l) => l !== '');
    expect(routes()).toEqual(['10.244.2.0/24 via 10.214.8.3 dev nl8h0', '10.244.3.0/24 via 10.214.8.4 dev nl8h0']);
    nodes.remove('n3');
    nodes.set(node('n2', '10.214.8.5', '10.244.2.0/24'));
    expect(await net.syncOnce()).toMatchObject({ added: 1, removed: 1 });
    expect(routes()).toEqual(['10.244.2.0/24 via 10.214.8.5 dev nl8h0']);
    expect(inNode('ip', 'route', 'show', '10.244.99.0/24')).toContain('via 10.214.8.9');
    const nat = inNode('iptables', '-t', 'nat', '-S');
    expect(nat).toContain('-A POSTROUTING -m comment --comment "nodelet pod network masquerade" -j NODELET-POD-MASQ');
    expect(nat).toContain('-A NODELET-POD-MASQ -s 10.244.0.0/16 ! -d 224.0.0.0/4 -m comment --comment "nodelet pod network: leaving the cluster CIDR" -j MASQUERADE --random-fully');
    // A second host object (agent restart) hooks POSTROUTING only once.
    await new LinuxPodNetworkHost({ netns: NODE_NS }).ensureMasquerade(['10.244.0.0/16']);
    expect(inNode('iptables', '-t', 'nat', '-S', 'POSTROUTING').match(/NODELET-POD-MASQ/g)).toHaveLength(1);
    expect(readdirSync(confDir)).toEqual([HOST_GW_CONF_FILE]);
  });

  it('the rendered conflist works with the real plugins: IP from the pod CIDR, lo up, released on DEL', async () => {
    ip('netns', 'add', POD_NS);
    const confDir = `${ROOT}/pod-net.d`;
    mkdirSync(confDir, { recursive: true });
    writeFileSync(`${confDir}/${HOST_GW_CONF_FILE}`, hostGwConflist({ podCIDRs: ['10.214.8.192/27'], bridge: 'nl8cni1', dataDir: `${ROOT}/ipam` }));
    // The bridge nl8cni1 and its 10.214.8.192/27 are on this host (this helper's subnet); the pod is in its netns.
    const plugin = new ExecCniPlugin({ binDirs: ['/opt/cni/bin', '/usr/lib/cni'], cacheDir: `${ROOT}/cache` });
    const net = new CniPodNetwork({ plugin, confDir });
    const sb = { id: 'nl8hpod', netns: `/run/netns/${POD_NS}`, namespace: 'ns', name: 'p', uid: 'u' };
    try {
      const ips = await net.setUp({ ...sb, portMappings: [], annotations: {} });
      expect(ips).toEqual(['10.214.8.194']);
      const inPod = execFileSync('ip', ['netns', 'exec', POD_NS, 'ip', '-o', 'addr'], { encoding: 'utf8' });
      expect(inPod).toMatch(/lo\s+inet 127\.0\.0\.1\/8/);
      expect(inPod).toMatch(/eth0\s+inet 10\.214\.8\.194\/27/);
      await net.check(sb);
    } finally {
      await net.tearDown(sb);
      try {
        ip('link', 'del', 'nl8cni1');
      } catch {
        // gone
      }
    }
    expect(readdirSync(`${ROOT}/ipam/nodelet-host-gw`).filter((f) => /^\d/.test(f))).toEqual([]);
  });
});
