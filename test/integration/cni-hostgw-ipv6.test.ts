/**
 * The host-gw pod network's IPv6 side with the real tools, all inside this suite's network namespaces (ip6-gw-*):
 * routes to other nodes' IPv6 pod CIDRs via their IPv6 InternalIP (proto 158), the ip6tables masquerade chain, and
 * removal of only what the agent owns. A "pod" namespace reaches an "outside" namespace through the "node" namespace;
 * the outside has no route back to the pod CIDR, so an answer arrives only when the node masquerades. Nothing leaves.
 */
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import type { V1Node } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostGwNetwork, LinuxPodNetworkHost, ROUTE_PROTO } from '../../src/cni/hostgw/index.js';
import { FakeInformer } from '../../src/proxy/testing/fake-informer.js';
import { startInNs, type NsProcess } from '../support/netns.js';

const ROOT = '/tmp/ip6-hostgw-v6';
const NODE = 'ip6-gw-node';
const POD = 'ip6-gw-pod';
const OUT = 'ip6-gw-out';
const CLUSTER = ['10.215.0.0/16', 'fd15:0:0:100::/56'];

function sh(...args: string[]): string {
  return execFileSync(args[0] ?? '', args.slice(1), { encoding: 'utf8' });
}
function inNs(ns: string, ...args: string[]): string {
  return sh('ip', 'netns', 'exec', ns, ...args);
}
function delNs(ns: string): void {
  try {
    execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  } catch {
    // not there
  }
}

function node(name: string, v4: string, v6: string, podCIDRs: string[]): V1Node {
  return { metadata: { name }, spec: { podCIDR: podCIDRs[0], podCIDRs }, status: { addresses: [{ type: 'InternalIP', address: v4 }, { type: 'InternalIP', address: v6 }] } };
}

/** One TCP exchange from the pod to the outside server: what it answered (the source address it saw) or the error. */
function fromPod(): string {
  const script = `const s=require('net').connect({host:'fd15:0:0:ee::2',port:18099,timeout:2000});let b='';s.on('data',d=>b+=d);s.on('end',()=>console.log(b));s.on('timeout',()=>{console.log('TIMEOUT');s.destroy()});s.on('error',e=>console.log(e.code))`;
  return inNs(POD, process.execPath, '-e', script).trim();
}

describe.skipIf(process.getuid?.() !== 0)('host-gw IPv6: routes and ip6tables masquerade (network namespaces)', () => {
  let server: NsProcess | undefined;

  beforeAll(async () => {
    for (const ns of [POD, OUT, NODE]) delNs(ns);
    for (const ns of [NODE, POD, OUT]) {
      sh('ip', 'netns', 'add', ns);
      inNs(ns, 'ip', 'link', 'set', 'lo', 'up');
    }
    inNs(NODE, 'sysctl', '-qw', 'net.ipv6.conf.all.forwarding=1');
    // The node's link to the other nodes (peer end inside the node namespace too: nothing answers there).
    inNs(NODE, 'ip', 'link', 'add', 'ip6gw0', 'type', 'veth', 'peer', 'name', 'ip6gw1');
    inNs(NODE, 'ip', 'addr', 'add', '10.215.8.2/28', 'dev', 'ip6gw0');
    inNs(NODE, 'ip', '-6', 'addr', 'add', 'fd15:0:0:ff::2/64', 'dev', 'ip6gw0', 'nodad');
    for (const l of ['ip6gw0', 'ip6gw1']) inNs(NODE, 'ip', 'link', 'set', l, 'up');
    // pod <-> node and node <-> outside.
    sh('ip', 'link', 'add', 'ip6gwp', 'netns', POD, 'type', 'veth', 'peer', 'name', 'ip6gwh', 'netns', NODE);
    sh('ip', 'link', 'add', 'ip6gwo', 'netns', OUT, 'type', 'veth', 'peer', 'name', 'ip6gwx', 'netns', NODE);
    inNs(POD, 'ip', '-6', 'addr', 'add', 'fd15:0:0:101::5/64', 'dev', 'ip6gwp', 'nodad');
    inNs(NODE, 'ip', '-6', 'addr', 'add', 'fd15:0:0:101::1/64', 'dev', 'ip6gwh', 'nodad');
    inNs(OUT, 'ip', '-6', 'addr', 'add', 'fd15:0:0:ee::2/64', 'dev', 'ip6gwo', 'nodad');
    inNs(NODE, 'ip', '-6', 'addr', 'add', 'fd15:0:0:ee::1/64', 'dev', 'ip6gwx', 'nodad');
    for (const [ns, l] of [[POD, 'ip6gwp'], [NODE, 'ip6gwh'], [OUT, 'ip6gwo'], [NODE, 'ip6gwx']] as const) inNs(ns, 'ip', 'link', 'set', l, 'up');
    inNs(POD, 'ip', '-6', 'route', 'add', 'default', 'via', 'fd15:0:0:101::1');
    // Someone else's rules and routes in the node: never touched.
    inNs(NODE, 'ip6tables', '-t', 'nat', '-A', 'POSTROUTING', '-o', 'ip6gw1', '-m', 'comment', '--comment', 'ip6 foreign', '-j', 'RETURN');
    inNs(NODE, 'ip', '-6', 'route', 'add', 'fd15:0:0:199::/64', 'via', 'fd15:0:0:ff::9');
    server = await startInNs(OUT, [process.execPath, '-e', `require('net').createServer(s=>s.end(s.remoteAddress)).listen(18099,'::',()=>console.log('ready'))`], 'ready');
  }, 60_000);

  afterAll(() => {
    server?.stop();
    for (const ns of [POD, OUT, NODE]) delNs(ns);
    rmSync(ROOT, { recursive: true, force: true });
  });

  it('routes IPv6 pod CIDRs via IPv6 InternalIPs, masquerades IPv6 pod traffic leaving the cluster, removes only its own', async () => {
    const host = new LinuxPodNetworkHost({ netns: NODE });
    const nodes = new FakeInformer<V1Node>([
      node('me', '10.215.8.2', 'fd15:0:0:ff::2', ['10.215.1.0/24', 'fd15:0:0:101::/64']),
      node('n2', '10.215.8.3', 'fd15:0:0:ff::3', ['10.215.2.0/24', 'fd15:0:0:102::/64']),
      node('n3', '10.215.8.4', 'fd15:0:0:ff::4', ['10.215.3.0/24', 'fd15:0:0:103::/64']),
    ]);
    // Without the masquerade the outside cannot answer (no route back to the pod CIDR).
    expect(fromPod()).toBe('TIMEOUT');

    const net = new HostGwNetwork({ nodeName: 'me', nodes, host, confDir: `${ROOT}/net.d`, clusterCIDRs: CLUSTER });
    expect(await net.syncOnce()).toEqual({ state: 'synced', wroteConfig: true, added: 4, removed: 0, failed: 0 });
    const routes6 = (): string[] => inNs(NODE, 'ip', '-6', 'route', 'show', 'proto', String(ROUTE_PROTO)).trim().split('\n').map((l) => l.trim().replace(/\s+metric \d+.*$/, '')).filter((l) => l !== '');
    expect(routes6()).toEqual(['fd15:0:0:102::/64 via fd15:0:0:ff::3 dev ip6gw0', 'fd15:0:0:103::/64 via fd15:0:0:ff::4 dev ip6gw0']);
    const nat6 = inNs(NODE, 'ip6tables', '-t', 'nat', '-S');
    expect(nat6).toContain('-A POSTROUTING -m comment --comment "nodelet pod network masquerade" -j NODELET-POD-MASQ');
    expect(nat6).toContain('-A NODELET-POD-MASQ -s fd15:0:0:100::/56 -d fd15:0:0:100::/56 -m comment --comment "nodelet pod network: pod to pod" -j RETURN');
    expect(nat6).toContain('-A NODELET-POD-MASQ -s fd15:0:0:100::/56 ! -d ff00::/8 -m comment --comment "nodelet pod network: leaving the cluster CIDR" -j MASQUERADE --random-fully');
    expect(nat6).not.toContain('10.215.');
    expect(inNs(NODE, 'iptables', '-t', 'nat', '-S', 'NODELET-POD-MASQ')).toContain('-s 10.215.0.0/16 ! -d 224.0.0.0/4');
    // The outside sees the node's address, not the pod's.
    expect(fromPod()).toBe('fd15:0:0:ee::1');

    // Node n3 goes away and n2 moves: the IPv6 routes follow; someone else's route stays.
    nodes.remove('n3');
    nodes.set(node('n2', '10.215.8.3', 'fd15:0:0:ff::7', ['10.215.2.0/24', 'fd15:0:0:102::/64']));
    expect(await net.syncOnce()).toMatchObject({ added: 1, removed: 2 });
    expect(routes6()).toEqual(['fd15:0:0:102::/64 via fd15:0:0:ff::7 dev ip6gw0']);
    expect(inNs(NODE, 'ip', '-6', 'route', 'show', 'fd15:0:0:199::/64')).toContain('via fd15:0:0:ff::9');

    // A restarted agent hooks POSTROUTING only once.
    await new LinuxPodNetworkHost({ netns: NODE }).ensureMasquerade(CLUSTER);
    expect(inNs(NODE, 'ip6tables', '-t', 'nat', '-S', 'POSTROUTING').match(/NODELET-POD-MASQ/g)).toHaveLength(1);

    // The cluster becomes IPv4-only: the IPv6 chain and hook go, the IPv4 ones stay.
    await host.ensureMasquerade(['10.215.0.0/16']);
    expect(inNs(NODE, 'ip6tables', '-t', 'nat', '-S')).not.toContain('NODELET-POD-MASQ');
    expect(inNs(NODE, 'iptables', '-t', 'nat', '-S')).toContain('NODELET-POD-MASQ');
    expect(fromPod()).toBe('TIMEOUT');

    // Cleanup removes both families' chains and hooks, and nothing else.
    await host.ensureMasquerade(CLUSTER);
    await host.removeMasquerade();
    await host.removeMasquerade();
    const after6 = inNs(NODE, 'ip6tables', '-t', 'nat', '-S');
    expect(after6).not.toContain('NODELET-POD-MASQ');
    expect(after6).toContain('--comment "ip6 foreign" -j RETURN');
    expect(inNs(NODE, 'iptables', '-t', 'nat', '-S')).not.toContain('NODELET-POD-MASQ');
  });
});
