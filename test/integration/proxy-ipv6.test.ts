/**
 * Dual-stack proxy against real ip6tables/iptables and REAL IPv6 TRAFFIC in throwaway network namespaces (ULA
 * addresses only, fd00::/8). The role runs an IPv4 and an IPv6 proxier; a client namespace reaches an IPv6 ClusterIP
 * that the node routes into a sink (a veth whose far end has no address) first, so a missing rule never leaks.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../../src/util/index.js';
import type { EndpointSliceObject, ServiceObject } from '../../src/proxy/apitypes.js';
import { defaultProxyConfig } from '../../src/proxy/config.js';
import { createProxy, type ProxyRoleInternals } from '../../src/proxy/role.js';
import { createExecProxyHost } from '../../src/cli/proxy-host.js';
import { FakeInformer } from '../../src/proxy/testing/fake-informer.js';
import { CLIENT_SCRIPT, createNamespace, deleteNamespaces, inNs, sh, startInNs, type NsProcess } from '../support/netns.js';

const P = 'nlpx-v6-';
const NODE = `${P}node`;
const CLI = `${P}cli`;
const SINK = `${P}sink`;
const NODE_IP6 = 'fd00:77:1::1';
const CLIENT_IP6 = 'fd00:77:1::2';
const SVC_CIDR6 = 'fd00:96::/112';
const backends = [1, 2].map((i) => ({ ns: `${P}b${i}`, name: `b${i}`, ip: `fd00:244:${i}::2`, gw: `fd00:244:${i}::1` }));

/** HTTP on [::]:port answering `<name> <client address>`. */
const BACKEND6 = `
const [name, port] = process.argv.slice(1);
require('node:http').createServer((q, r) => r.end(name + ' ' + q.socket.remoteAddress)).listen(Number(port), '::', () => console.log('ready'));`;

/** veth pair with IPv6 addresses (no duplicate address detection: usable at once). */
async function link6(a: string, aIf: string, aAddr: string, b: string, bIf: string, bAddr: string): Promise<void> {
  await sh('ip', 'link', 'add', aIf, 'netns', a, 'type', 'veth', 'peer', 'name', bIf, 'netns', b);
  await inNs(a, 'ip', '-6', 'addr', 'add', aAddr, 'dev', aIf, 'nodad');
  await inNs(b, 'ip', '-6', 'addr', 'add', bAddr, 'dev', bIf, 'nodad');
  await inNs(a, 'ip', 'link', 'set', aIf, 'up');
  await inNs(b, 'ip', 'link', 'set', bIf, 'up');
}

async function client(host: string, port: number, n: number): Promise<string[]> {
  return JSON.parse(await inNs(CLI, process.execPath, '-e', CLIENT_SCRIPT, 'tcp', host, String(port), String(n))) as string[];
}

async function eventually(fn: () => Promise<boolean>, timeoutMs = 10_000, what = ''): Promise<void> {
  // Polls the real namespaces (traffic, kernel state) with vitest's waiter, no hand-rolled sleep loop.
  await vi.waitFor(
    async () => {
      if (!(await fn())) throw new Error(`condition not met in time ${what}`);
    },
    { timeout: timeoutMs, interval: 150 },
  );
}

function slice(name: string, family: 'IPv4' | 'IPv6', ips: string[]): EndpointSliceObject {
  return {
    metadata: { namespace: 'v6', name: `${name}-${family.toLowerCase()}`, labels: { 'kubernetes.io/service-name': name } },
    addressType: family,
    ports: [{ name: '', port: 8080, protocol: 'TCP' }],
    endpoints: ips.map((ip) => ({ addresses: [ip], nodeName: 'other-node', conditions: { ready: true } })),
  };
}

describe.skipIf(process.getuid?.() !== 0)('dual-stack proxy: IPv6 traffic through ip6tables (network namespaces)', () => {
  const procs: NsProcess[] = [];
  let role: ProxyRoleInternals | undefined;
  const services = new FakeInformer<ServiceObject>();
  const slices = new FakeInformer<EndpointSliceObject>();

  beforeAll(async () => {
    await deleteNamespaces(P);
    for (const ns of [NODE, CLI, SINK, ...backends.map((b) => b.ns)]) await createNamespace(ns);
    await inNs(NODE, 'sysctl', '-qw', 'net.ipv6.conf.all.forwarding=1');
    await link6(NODE, 'n6-cli', `${NODE_IP6}/64`, CLI, 'cli0', `${CLIENT_IP6}/64`);
    // The service CIDR goes to the node, and from there into the sink before any rule exists.
    await inNs(CLI, 'ip', '-6', 'route', 'add', SVC_CIDR6, 'via', NODE_IP6);
    await sh('ip', 'link', 'add', 'n6-sink', 'netns', NODE, 'type', 'veth', 'peer', 'name', 'sink0', 'netns', SINK);
    await inNs(NODE, 'ip', 'link', 'set', 'n6-sink', 'up');
    await inNs(SINK, 'ip', 'link', 'set', 'sink0', 'up');
    await inNs(NODE, 'ip', '-6', 'route', 'add', SVC_CIDR6, 'dev', 'n6-sink');
    for (const [i, b] of backends.entries()) {
      await link6(NODE, `n6-b${i + 1}`, `${b.gw}/64`, b.ns, 'eth0', `${b.ip}/64`);
      await inNs(b.ns, 'ip', '-6', 'route', 'add', 'default', 'via', b.gw);
      procs.push(await startInNs(b.ns, [process.execPath, '-e', BACKEND6, b.name, '8080'], 'ready'));
    }
    services.set({ metadata: { namespace: 'v6', name: 'web' }, spec: { clusterIP: '10.96.5.10', clusterIPs: ['10.96.5.10', 'fd00:96::10'], ipFamilies: ['IPv4', 'IPv6'], ports: [{ port: 80, protocol: 'TCP' }] } });
    slices.set(slice('web', 'IPv6', backends.map((b) => b.ip)));
    slices.set(slice('web', 'IPv4', ['10.244.1.2']));
    services.set({ metadata: { namespace: 'v6', name: 'none' }, spec: { clusterIP: 'fd00:96::11', clusterIPs: ['fd00:96::11'], ports: [{ port: 80, protocol: 'TCP' }] } });
    const config = defaultProxyConfig();
    config.clusterCIDR = '10.244.0.0/16,fd00:244::/48';
    config.healthzBindAddress = '127.0.0.1:0';
    config.metricsBindAddress = '';
    config.iptables.syncPeriod = '2s';
    config.iptables.minSyncPeriod = '100ms';
    role = createProxy({ config, informers: { services, endpointSlices: slices }, nodeName: NODE, nodeIPs: ['10.78.1.1', NODE_IP6], logger: silentLogger(), host: createExecProxyHost({ netns: NODE }) });
    await role.start();
    await eventually(async () => (await client('fd00:96::10', 80, 1))[0]?.startsWith('b') === true);
  }, 30_000);

  afterAll(async () => {
    await role?.stop();
    for (const p of procs) p.stop();
    await deleteNamespaces(P);
  });

  it('runs one proxier per family and programs both iptables and ip6tables', async () => {
    expect(role?.proxiers.map((p) => p.services.services().size)).toEqual([1, 2]);
    const v6 = await inNs(NODE, 'ip6tables-save', '-t', 'nat');
    expect(v6).toMatch(/-A KUBE-SERVICES -d fd00:96::10\/128 .*-j KUBE-SVC-/);
    expect(v6).toMatch(/-A KUBE-SEP-\w+ .*-j DNAT --to-destination \[fd00:244:1::2\]:8080/);
    expect(v6).toContain('! -s fd00:244::/48 -d fd00:96::10/128');
    const v4 = await inNs(NODE, 'iptables-save', '-t', 'nat');
    expect(v4).toMatch(/-A KUBE-SERVICES -d 10\.96\.5\.10\/32 .*-j KUBE-SVC-/);
    expect(v4).not.toContain('fd00:');
  });

  it('spreads IPv6 ClusterIP traffic across the IPv6 endpoints, masqueraded to the node', async () => {
    const answers = await client('fd00:96::10', 80, 20);
    const hit = new Set(answers.map((a) => a.split(' ')[0]));
    expect([...hit].sort()).toEqual(['b1', 'b2']);
    // The client is outside the cluster CIDR: SNAT to the node's address on the backend's link.
    expect(answers.every((a) => a.endsWith('fd00:244:1::1') || a.endsWith('fd00:244:2::1'))).toBe(true);
  });

  it('rejects IPv6 services without endpoints (icmp6 port unreachable) and follows endpoint changes', async () => {
    expect(await client('fd00:96::11', 80, 1)).toEqual(['ECONNREFUSED']);
    slices.set(slice('web', 'IPv6', [backends[1]?.ip ?? '']));
    await eventually(async () => (await client('fd00:96::10', 80, 6)).every((a) => a.startsWith('b2 ')), 10_000, 'b2 only');
  });
});
