/**
 * The proxy role in nftables mode against the real `nft` and REAL TRAFFIC: a "node" network namespace programmed by
 * nodelet, a client namespace and three backend namespaces joined by veth pairs; service IPs are routed into a sink
 * (a veth whose far end has no address). No namespace has a route off the machine. Also traces packets through the
 * live ruleset (`nft -j list`) and checks the tracer agrees with the one over the rendered rule text.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../../src/util/index.js';
import type { EndpointSliceObject, ServiceObject } from '../../src/proxy/apitypes.js';
import { defaultProxyConfig } from '../../src/proxy/config.js';
import { createProxy, type ProxyRoleInternals } from '../../src/proxy/role.js';
import { createExecProxyHost } from '../../src/cli/proxy-host.js';
import { FakeInformer } from '../../src/proxy/testing/fake-informer.js';
import { traceTablesFromJSON } from '../../src/proxy/trace/nft-json.js';
import { traceNft } from '../../src/proxy/trace/nft-trace.js';
import { summarize } from '../../src/proxy/trace/packet.js';
import { runCommand } from '../../src/proxy/exec.js';
import { BACKEND_SCRIPT, CLIENT_SCRIPT, createNamespace, deleteNamespaces, inNs, link, sh, startInNs, type NsProcess } from '../support/netns.js';

const P = 'nl7-nft-';
const NODE = `${P}node`;
const CLI = `${P}cli`;
const SINK = `${P}sink`;
const NODE_IP = '10.214.7.1';
const CLIENT_IP = '10.214.7.2';
const POD_CIDR = '10.214.7.64/26';
const SVC_CIDR = '10.214.7.128/26';
const VIP = (n: number): string => `10.214.7.${128 + n}`;
const backends = [1, 2, 3].map((i) => ({ ns: `${P}b${i}`, name: `b${i}`, ip: `10.214.7.${64 + i * 4 + 2}`, gw: `10.214.7.${64 + i * 4 + 1}` }));
const hasNft = (await runCommand(['nft', '--version'])).code === 0;

function svc(name: string, ip: string, spec: Partial<NonNullable<ServiceObject['spec']>> = {}): ServiceObject {
  return { metadata: { namespace: 'it', name }, spec: { clusterIP: ip, ports: [{ port: 80, protocol: 'TCP' }], ...spec } };
}
function slice(name: string, eps: { ip: string; node?: string; ready?: boolean }[], port = 8080, protocol = 'TCP'): EndpointSliceObject {
  return {
    metadata: { namespace: 'it', name: `${name}-1`, labels: { 'kubernetes.io/service-name': name } },
    addressType: 'IPv4',
    ports: [{ name: '', port, protocol }],
    endpoints: eps.map((e) => ({ addresses: [e.ip], nodeName: e.node ?? 'other-node', conditions: { ready: e.ready ?? true } })),
  };
}

async function client(args: string[]): Promise<string[]> {
  return JSON.parse(await inNs(CLI, process.execPath, '-e', CLIENT_SCRIPT, ...args)) as string[];
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

async function liveTrace(destIP: string, destPort: number, sourceIP = CLIENT_IP): Promise<string> {
  const tables = traceTablesFromJSON(await inNs(NODE, 'nft', '-j', 'list', 'ruleset'), 'kube-proxy');
  const r = traceNft(tables, { sourceIP, destIP, destPort, protocol: 'tcp' }, { localIPs: [NODE_IP, ...backends.map((b) => b.gw)] });
  expect(r.unknown).toEqual([]);
  return summarize(r);
}

describe.skipIf(process.getuid?.() !== 0 || !hasNft)('proxy in nftables mode with real nft and traffic (network namespaces)', () => {
  const procs: NsProcess[] = [];
  let role: ProxyRoleInternals | undefined;
  const services = new FakeInformer<ServiceObject>();
  const slices = new FakeInformer<EndpointSliceObject>();
  const [b1, b2, b3] = backends as [(typeof backends)[0], (typeof backends)[0], (typeof backends)[0]];

  beforeAll(async () => {
    await deleteNamespaces(P);
    for (const ns of [NODE, CLI, ...backends.map((b) => b.ns)]) await createNamespace(ns);
    await inNs(NODE, 'sysctl', '-qw', 'net.ipv4.ip_forward=1');
    await link(NODE, 'nl7n-cli', `${NODE_IP}/30`, CLI, 'cli0', `${CLIENT_IP}/30`);
    await inNs(CLI, 'ip', 'route', 'add', SVC_CIDR, 'via', NODE_IP);
    await inNs(CLI, 'ip', 'route', 'add', POD_CIDR, 'via', NODE_IP);
    await createNamespace(SINK);
    await sh('ip', 'link', 'add', 'nl7n-sink', 'netns', NODE, 'type', 'veth', 'peer', 'name', 'sink0', 'netns', SINK);
    await inNs(NODE, 'ip', 'link', 'set', 'nl7n-sink', 'up');
    await inNs(SINK, 'ip', 'link', 'set', 'sink0', 'up');
    await inNs(NODE, 'ip', 'route', 'add', SVC_CIDR, 'dev', 'nl7n-sink');
    for (const [i, b] of backends.entries()) {
      await link(NODE, `nl7n-b${i + 1}`, `${b.gw}/30`, b.ns, 'eth0', `${b.ip}/30`);
      await inNs(b.ns, 'ip', 'route', 'add', 'default', 'via', b.gw);
      procs.push(await startInNs(b.ns, [process.execPath, '-e', BACKEND_SCRIPT, b.name, '8080', '5353'], 'ready'));
    }
    // Leftovers of the iptables mode: switching to nftables removes them.
    await inNs(NODE, 'iptables', '-t', 'nat', '-N', 'KUBE-SERVICES');
    await inNs(NODE, 'iptables', '-t', 'nat', '-A', 'PREROUTING', '-m', 'comment', '--comment', 'kubernetes service portals', '-j', 'KUBE-SERVICES');
    services.set(svc('web', VIP(10), { type: 'NodePort', ports: [{ port: 80, protocol: 'TCP', nodePort: 30080 }] }));
    slices.set(slice('web', [b1, b2, b3]));
    services.set(svc('sticky', VIP(11), { sessionAffinity: 'ClientIP' }));
    slices.set(slice('sticky', [b1, b2, b3]));
    services.set(svc('local', VIP(12), { type: 'NodePort', externalTrafficPolicy: 'Local', ports: [{ port: 80, protocol: 'TCP', nodePort: 30081 }] }));
    slices.set(slice('local', [{ ip: b1.ip, node: NODE }, { ip: b2.ip }]));
    services.set(svc('remote', VIP(15), { type: 'NodePort', externalTrafficPolicy: 'Local', ports: [{ port: 80, protocol: 'TCP', nodePort: 30082 }] }));
    slices.set(slice('remote', [{ ip: b2.ip }]));
    services.set(svc('dns', VIP(13), { ports: [{ port: 53, protocol: 'UDP' }] }));
    slices.set(slice('dns', [b1], 5353, 'UDP'));
    services.set(svc('rej', VIP(14)));
    slices.set(slice('rej', [b3]));
    const config = defaultProxyConfig();
    config.mode = 'nftables';
    config.clusterCIDR = POD_CIDR;
    config.healthzBindAddress = '127.0.0.1:0';
    config.metricsBindAddress = '127.0.0.1:0';
    config.iptables.syncPeriod = '2s';
    config.iptables.minSyncPeriod = '100ms';
    role = createProxy({ config, informers: { services, endpointSlices: slices }, nodeName: NODE, nodeIPs: [NODE_IP], logger: silentLogger(), host: createExecProxyHost({ netns: NODE }) });
    await role.start();
    await eventually(async () => (await client(['tcp', VIP(10), '80', '1']))[0]?.startsWith('b') === true);
  });

  afterAll(async () => {
    await role?.stop();
    for (const p of procs) p.stop();
    await deleteNamespaces(P);
  });

  it('programs table ip kube-proxy and removed the iptables mode rules', async () => {
    const rules = await inNs(NODE, 'nft', 'list', 'table', 'ip', 'kube-proxy');
    expect(rules).toContain('map service-ips');
    expect(rules).toMatch(/chain service-\w{8}-it\/web\/tcp\/ \{/);
    const nat = await inNs(NODE, 'iptables-save', '-t', 'nat');
    expect(nat).not.toContain('KUBE-SERVICES');
  });

  it('spreads ClusterIP traffic across endpoints (masqueraded: the client is outside the cluster CIDR)', async () => {
    const answers = await client(['tcp', VIP(10), '80', '30']);
    const hit = new Set(answers.map((a) => a.split(' ')[0]));
    expect([...hit].every((h) => ['b1', 'b2', 'b3'].includes(h ?? ''))).toBe(true);
    expect(hit.size).toBeGreaterThanOrEqual(2);
    expect(answers.every((a) => !a.endsWith(CLIENT_IP))).toBe(true);
  });

  it('serves the NodePort on the node address', async () => {
    const answers = await client(['tcp', NODE_IP, '30080', '5']);
    expect(answers.every((a) => /^b[123] /.test(a))).toBe(true);
  });

  it('keeps ClientIP affinity', async () => {
    const answers = await client(['tcp', VIP(11), '80', '12']);
    expect(new Set(answers.map((a) => a.split(' ')[0])).size).toBe(1);
  });

  it('a restart of the proxy keeps the ClientIP affinity entries (the table is taken over, not replaced)', async () => {
    const first = (await client(['tcp', VIP(11), '80', '1']))[0]?.split(' ')[0];
    await role?.stop();
    const config = defaultProxyConfig();
    config.mode = 'nftables';
    config.clusterCIDR = POD_CIDR;
    config.healthzBindAddress = '127.0.0.1:0';
    config.metricsBindAddress = '127.0.0.1:0';
    config.iptables.syncPeriod = '2s';
    config.iptables.minSyncPeriod = '100ms';
    role = createProxy({ config, informers: { services, endpointSlices: slices }, nodeName: NODE, nodeIPs: [NODE_IP], logger: silentLogger(), host: createExecProxyHost({ netns: NODE }) });
    await role.start();
    await eventually(async () => (role?.proxier as { totals?: () => { chains: number } } | undefined)?.totals?.().chains !== 0, 10_000, 'first sync after restart');
    const sets = await inNs(NODE, 'nft', 'list', 'sets', 'ip');
    expect(sets).toMatch(new RegExp(`elements = \\{ ${CLIENT_IP.replaceAll(".", "\\.")} `));
    const answers = await client(['tcp', VIP(11), '80', '6']);
    expect(new Set(answers.map((a) => a.split(' ')[0]))).toEqual(new Set([first]));
  });

  it('externalTrafficPolicy Local: only the local endpoint, client source IP preserved', async () => {
    const answers = await client(['tcp', NODE_IP, '30081', '10']);
    expect(answers).toEqual(Array(10).fill(`b1 ${CLIENT_IP}`));
  });

  it('one endpoint change is a partial transaction; a readiness flip takes the endpoint out and back', async () => {
    const before = await inNs(NODE, 'nft', '-a', 'list', 'chain', 'ip', 'kube-proxy', 'cluster-ips-check');
    slices.set(slice('web', [b1, { ...b2, ready: false }, { ...b3, ready: false }]));
    await eventually(async () => (await client(['tcp', VIP(10), '80', '8'])).every((a) => a.startsWith('b1 ')), 10_000, 'only b1');
    slices.set(slice('web', [b1, b2, b3]));
    await eventually(async () => new Set((await client(['tcp', VIP(10), '80', '20'])).map((a) => a.split(' ')[0])).size >= 2, 10_000, 'all back');
    // The base chains were never rewritten (same handles: a full sync would have re-created the table).
    expect(await inNs(NODE, 'nft', '-a', 'list', 'chain', 'ip', 'kube-proxy', 'cluster-ips-check')).toBe(before);
    const m = await (await fetch(`http://127.0.0.1:${role?.metricsPort}/metrics`)).text();
    expect(m).toMatch(/kubeproxy_sync_partial_proxy_rules_duration_seconds_count [1-9]/);
  });

  it('rejects connections once the last endpoint is gone', async () => {
    expect((await client(['tcp', VIP(14), '80', '1']))[0]).toMatch(/^b3 /);
    slices.remove('it/rej-1');
    let last = '';
    await eventually(async () => (last = (await client(['tcp', VIP(14), '80', '1']))[0] ?? '') === 'ECONNREFUSED', 10_000, last);
  });

  it('moves a UDP flow to the new endpoint after the old one goes (conntrack cleanup)', async () => {
    const udp = (): Promise<string[]> => client(['udp', VIP(13), '53', '1', '40053']);
    expect((await udp())[0]).toMatch(/^b1 /);
    slices.set(slice('dns', [b2], 5353, 'UDP'));
    await eventually(async () => (await udp())[0]?.startsWith('b2 ') === true, 8000);
  });

  it('traces packets through the live ruleset: working VIP, VIP without endpoints, ETP Local without local endpoints', async () => {
    expect(await liveTrace(VIP(10), 80)).toBe(`${b1.ip}:8080 masqueraded 33.3%, ${b2.ip}:8080 masqueraded 33.3%, ${b3.ip}:8080 masqueraded 33.3%`);
    await eventually(async () => (await liveTrace(VIP(14), 80)) === 'rejected (it/rej: @no-endpoint-services) 100.0%', 5000, 'rej');
    expect(await liveTrace(NODE_IP, 30082)).toBe('dropped (it/remote: @no-endpoint-nodeports) 100.0%');
    // ...and the connection really is dropped (a timeout, not a refusal).
    expect(await client(['tcp', NODE_IP, '30082', '1'])).toEqual(['TIMEOUT']);
    expect(await liveTrace(NODE_IP, 30081)).toBe(`${b1.ip}:8080 100.0%`);
  });

  it('repairs a deleted table with a full sync', async () => {
    await inNs(NODE, 'nft', 'delete', 'table', 'ip', 'kube-proxy');
    role?.proxier?.forceFullSync();
    await eventually(async () => /^b[123] /.test((await client(['tcp', VIP(10), '80', '1']))[0] ?? ''), 10_000);
  });
});
