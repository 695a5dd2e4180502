/**
 * The proxy role against real iptables and REAL TRAFFIC: a "node" network namespace programmed by nodelet, a client
 * namespace and three backend namespaces, all joined by veth pairs. No namespace has a route off the machine.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../../src/util/index.js';
import type { EndpointSliceObject, ServiceObject } from '../../src/proxy/apitypes.js';
import { defaultProxyConfig } from '../../src/proxy/config.js';
import { createProxy, type ProxyRoleInternals } from '../../src/proxy/role.js';
import { createExecProxyHost } from '../../src/cli/proxy-host.js';
import { FakeInformer } from '../../src/proxy/testing/fake-informer.js';
import { BACKEND_SCRIPT, CLIENT_SCRIPT, createNamespace, deleteNamespaces, inNs, link, sh, startInNs, type NsProcess } from '../support/netns.js';

const P = 'nlpx-it-';
const NODE = `${P}node`;
const CLI = `${P}cli`;
const SINK = `${P}sink`;
const NODE_IP = '10.77.1.1';
const CLIENT_IP = '10.77.1.2';
const backends = [1, 2, 3].map((i) => ({ ns: `${P}b${i}`, name: `b${i}`, ip: `10.244.${i}.2`, gw: `10.244.${i}.1` }));

function svc(name: string, ip: string, spec: Partial<NonNullable<ServiceObject['spec']>> = {}): ServiceObject {
  return { metadata: { namespace: 'it', name }, spec: { clusterIP: ip, ports: [{ port: 80, protocol: 'TCP' }], ...spec } };
}
function slice(name: string, eps: { ip: string; node?: string }[], port = 8080, protocol = 'TCP'): EndpointSliceObject {
  return {
    metadata: { namespace: 'it', name: `${name}-1`, labels: { 'kubernetes.io/service-name': name } },
    addressType: 'IPv4',
    ports: [{ name: '', port, protocol }],
    endpoints: eps.map((e) => ({ addresses: [e.ip], nodeName: e.node ?? 'other-node', conditions: { ready: true } })),
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

describe.skipIf(process.getuid?.() !== 0)('proxy with real iptables and traffic (network namespaces)', () => {
  const procs: NsProcess[] = [];
  let role: ProxyRoleInternals | undefined;
  const services = new FakeInformer<ServiceObject>();
  const slices = new FakeInformer<EndpointSliceObject>();
  const [b1, b2, b3] = backends as [(typeof backends)[0], (typeof backends)[0], (typeof backends)[0]];

  beforeAll(async () => {
    await deleteNamespaces(P);
    for (const ns of [NODE, CLI, ...backends.map((b) => b.ns)]) await createNamespace(ns);
    await inNs(NODE, 'sysctl', '-qw', 'net.ipv4.ip_forward=1');
    await link(NODE, 'nx-cli', `${NODE_IP}/24`, CLI, 'cli0', `${CLIENT_IP}/24`);
    // Service IPs go to the node, and from there into a sink (a veth whose far end has no address), so an
    // unprogrammed VIP is forwarded (and hits filter rules like REJECT) but never leaves the namespaces.
    await inNs(CLI, 'ip', 'route', 'add', '10.96.0.0/16', 'via', NODE_IP);
    await createNamespace(SINK);
    await sh('ip', 'link', 'add', 'nx-sink', 'netns', NODE, 'type', 'veth', 'peer', 'name', 'sink0', 'netns', SINK);
    await inNs(NODE, 'ip', 'link', 'set', 'nx-sink', 'up');
    await inNs(SINK, 'ip', 'link', 'set', 'sink0', 'up');
    await inNs(NODE, 'ip', 'route', 'add', '10.96.0.0/16', 'dev', 'nx-sink');
    for (const [i, b] of backends.entries()) {
      await link(NODE, `nx-b${i + 1}`, `${b.gw}/24`, b.ns, 'eth0', `${b.ip}/24`);
      await inNs(b.ns, 'ip', 'route', 'add', 'default', 'via', b.gw);
      procs.push(await startInNs(b.ns, [process.execPath, '-e', BACKEND_SCRIPT, b.name, '8080', '5353'], 'ready'));
    }
    services.set(svc('web', '10.96.0.10', { type: 'NodePort', ports: [{ port: 80, protocol: 'TCP', nodePort: 30080 }] }));
    slices.set(slice('web', [b1, b2, b3]));
    services.set(svc('sticky', '10.96.0.11', { sessionAffinity: 'ClientIP' }));
    slices.set(slice('sticky', [b1, b2, b3]));
    services.set(svc('local', '10.96.0.12', { type: 'NodePort', externalTrafficPolicy: 'Local', ports: [{ port: 80, protocol: 'TCP', nodePort: 30081 }] }));
    slices.set(slice('local', [{ ip: b1.ip, node: NODE }, { ip: b2.ip }]));
    services.set(svc('dns', '10.96.0.13', { ports: [{ port: 53, protocol: 'UDP' }] }));
    slices.set(slice('dns', [b1], 5353, 'UDP'));
    services.set(svc('rej', '10.96.0.14'));
    slices.set(slice('rej', [b3]));
    const config = defaultProxyConfig();
    config.clusterCIDR = '10.244.0.0/16';
    config.healthzBindAddress = '127.0.0.1:0';
    config.metricsBindAddress = '127.0.0.1:0';
    config.iptables.syncPeriod = '2s';
    config.iptables.minSyncPeriod = '100ms';
    role = createProxy({ config, informers: { services, endpointSlices: slices }, nodeName: NODE, nodeIPs: [NODE_IP], logger: silentLogger(), host: createExecProxyHost({ netns: NODE }) });
    await role.start();
    await eventually(async () => (await client(['tcp', '10.96.0.10', '80', '1']))[0]?.startsWith('b') === true);
  });

  afterAll(async () => {
    await role?.stop();
    for (const p of procs) p.stop();
    await deleteNamespaces(P);
  });

  it('spreads ClusterIP traffic across endpoints (masqueraded: the client is outside the cluster CIDR)', async () => {
    const answers = await client(['tcp', '10.96.0.10', '80', '30']);
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
    const answers = await client(['tcp', '10.96.0.11', '80', '12']);
    expect(new Set(answers.map((a) => a.split(' ')[0])).size).toBe(1);
  });

  it('externalTrafficPolicy Local: only the local endpoint, client source IP preserved', async () => {
    const answers = await client(['tcp', NODE_IP, '30081', '10']);
    expect(answers).toEqual(Array(10).fill(`b1 ${CLIENT_IP}`));
  });

  it('rejects connections once the last endpoint is gone', async () => {
    expect((await client(['tcp', '10.96.0.14', '80', '1']))[0]).toMatch(/^b3 /);
    slices.remove('it/rej-1');
    let last = '';
    await eventually(async () => (last = (await client(['tcp', '10.96.0.14', '80', '1']))[0] ?? '') === 'ECONNREFUSED', 10_000, last);
  });

  it('moves a UDP flow to the new endpoint after the old one goes (conntrack cleanup)', async () => {
    const udp = (): Promise<string[]> => client(['udp', '10.96.0.13', '53', '1', '40053']);
    expect((await udp())[0]).toMatch(/^b1 /);
    slices.set(slice('dns', [b2], 5353, 'UDP'));
    // b1's server is still running: without the conntrack cleanup the flow would keep landing there.
    await eventually(async () => (await udp())[0]?.startsWith('b2 ') === true, 8000);
  });

  it('repairs an external `iptables -t nat -F` on the next sync', async () => {
    // Flush and look in one go (the monitor may repair it any moment after).
    const after = await inNs(NODE, 'sh', '-c', 'iptables -t nat -F && iptables -t nat -S PREROUTING');
    expect(after).not.toContain('KUBE-SERVICES');
    await eventually(async () => /^b[123] /.test((await client(['tcp', '10.96.0.10', '80', '1']))[0] ?? ''), 10_000);
    const saved = await inNs(NODE, 'iptables-save', '-t', 'nat');
    expect(saved).toContain('-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES');
  });

  it('answers /healthz and exports sync metrics', async () => {
    expect((await fetch(`http://127.0.0.1:${role?.healthzPort}/healthz`)).status).toBe(200);
    const m = await (await fetch(`http://127.0.0.1:${role?.metricsPort}/metrics`)).text();
    expect(m).toMatch(/kubeproxy_sync_full_proxy_rules_duration_seconds_count [1-9]/);
    expect(m).toMatch(/kubeproxy_sync_partial_proxy_rules_duration_seconds_count [1-9]/);
  });
});
