import { describe, expect, it } from 'vitest';
import type { EndpointSliceObject, ServiceObject } from './apitypes.js';
import { newHarness } from './testing/harness.js';
import { referenceObjects } from './testing/reference.js';
import type { FakeIptables } from './testing/fake-iptables.js';

function kubeDump(ipt: FakeIptables): string {
  return (['filter', 'nat'] as const)
    .map((t) => ipt.dump(t).split('\n:').filter((b) => b.replace(/^:/, '').startsWith('KUBE-') || /-j KUBE-/.test(b)).join('\n:'))
    .join('\n---\n');
}

function slice(ns: string, svc: string, name: string, ips: string[], port = 8080, ready = true): EndpointSliceObject {
  return {
    metadata: { namespace: ns, name, labels: { 'kubernetes.io/service-name': svc } },
    addressType: 'IPv4',
    ports: [{ name: '', port, protocol: 'TCP' }],
    endpoints: ips.map((ip) => ({ addresses: [ip], nodeName: 'other', conditions: { ready } })),
  };
}

function service(ns: string, name: string, ip: string, extra: Partial<NonNullable<ServiceObject['spec']>> = {}): ServiceObject {
  return { metadata: { namespace: ns, name }, spec: { clusterIP: ip, ports: [{ name: '', port: 80, protocol: 'TCP' }], ...extra } };
}

/** Applies `steps` to a live proxier with partial syncs and checks each result equals a fresh full render. */
async function checkPartialEqualsFull(steps: ((h: ReturnType<typeof newHarness>) => void)[]): Promise<void> {
  const live = newHarness();
  const { services, slices } = referenceObjects();
  live.load(services, slices);
  await live.proxier.sync();
  const applied: ((h: ReturnType<typeof newHarness>) => void)[] = [];
  for (const step of steps) {
    step(live);
    applied.push(step);
    const r = await live.proxier.sync();
    expect(r).toMatchObject({ kind: 'partial', ok: true });
    const fresh = newHarness();
    fresh.load(services, slices);
    for (const s of applied) s(fresh);
    expect((await fresh.proxier.sync()).kind).toBe('full');
    expect(kubeDump(live.ipt)).toBe(kubeDump(fresh.ipt));
  }
}

describe('partial syncs', () => {
  it('a partial sync after each change equals a full render of the same state', async () => {
    await checkPartialEqualsFull([
      (h) => h.proxier.onEndpointSlice(slice('ref', 'web', 'web-1', ['10.244.1.10']), false),
      (h) => h.proxier.onEndpointSlice(slice('ref', 'web', 'web-1', []), true),
      (h) => h.proxier.onService('ref/np', undefined),
      (h) => h.proxier.onService('ref/new', service('ref', 'new', '10.96.9.9', { type: 'NodePort', ports: [{ port: 80, nodePort: 30999 }] })),
      (h) => h.proxier.onEndpointSlice(slice('ref', 'new', 'new-1', ['10.244.3.3', '10.244.3.4']), false),
      (h) => h.proxier.onEndpointSlice(slice('ref', 'empty', 'empty-1', ['10.244.5.5']), false),
      (h) => h.proxier.onService('ref/sticky', service('ref', 'sticky', '10.96.66.35')),
    ]);
  });

  it('writes only the chains of changed services, and deletes stale chains in the same restore', async () => {
    const h = newHarness();
    const { services, slices } = referenceObjects();
    h.load(services, slices);
    await h.proxier.sync();
    h.proxier.onEndpointSlice(slice('ref', 'web', 'web-1', ['10.244.1.10']), false);
    await h.proxier.sync();
    const last = h.ipt.restores.at(-1) ?? '';
    expect(last).toContain(':KUBE-SVC-QPFXUWBW77EZGX4C - [0:0]');
    expect(last).not.toContain(':KUBE-SVC-VMPARC3LFUBGEYKU');
    // KUBE-SERVICES and the filter table did not change: not rewritten.
    expect(last).not.toContain(':KUBE-SERVICES');
    expect(last).not.toContain('*filter');
    expect(last).toContain('-X KUBE-SEP-LOQ4XCAJXFDBVQOT');
    expect(h.ipt.chains('nat')).not.toContain('KUBE-SEP-LOQ4XCAJXFDBVQOT');
    expect(h.tracer.trace({ sourceIP: '10.244.0.5', destIP: '10.96.45.93', destPort: 80 }).endpoints).toBe('10.244.1.10:8080');
  });

  it('a no-op change does not even request a sync; nothing is programmed before both lists synced', async () => {
    const requested: number[] = [];
    const h = newHarness({ proxier: { requestSync: () => requested.push(1) } });
    const s = service('a', 'b', '10.96.1.1');
    h.proxier.onService('a/b', s);
    expect((await h.proxier.sync()).kind).toBe('skipped');
    expect(h.ipt.restores).toHaveLength(0);
    h.proxier.onServicesSynced();
    expect((await h.proxier.sync()).kind).toBe('skipped');
    h.proxier.onEndpointSlicesSynced();
    await h.proxier.sync();
    const before = requested.length;
    h.proxier.onService('a/b', structuredClone(s));
    expect(requested.length).toBe(before);
    expect(h.proxier.services.pending).toBe(0);
  });

  it('a failed restore makes the next sync a full one', async () => {
    const h = newHarness();
    const { services, slices } = referenceObjects();
    h.load(services, slices);
    await h.proxier.sync();
    h.ipt.failNextRestore = true;
    h.proxier.onEndpointSlice(slice('ref', 'web', 'web-1', ['10.244.1.10']), false);
    expect(await h.proxier.sync()).toMatchObject({ kind: 'partial', ok: false });
    expect(await h.proxier.sync()).toMatchObject({ kind: 'full', ok: true });
    expect(h.tracer.trace({ sourceIP: '10.244.0.5', destIP: '10.96.45.93', destPort: 80 }).endpoints).toBe('10.244.1.10:8080');
    const text = await h.metrics.registry.metrics();
    expect(text).toMatch(/kubeproxy_sync_proxy_rules_iptables_restore_failures_total 1/);
  });

  it('full syncs write service chains in batches and never disturb other programs\' rules', async () => {
    const h = newHarness({ proxier: { batchSize: 3 } });
    await h.ipt.restore('*nat\n:DOCKER - [0:0]\n-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER\n-A DOCKER -i docker0 -j RETURN\nCOMMIT\n', { noflush: true });
    const { services, slices } = referenceObjects();
    h.load(services, slices);
    const r = await h.proxier.sync();
    expect(r.transactions).toBeGreaterThan(4);
    expect(h.ipt.rules('nat', 'DOCKER')).toEqual(['-A DOCKER -i docker0 -j RETURN']);
    expect(h.ipt.rules('nat', 'PREROUTING')).toEqual([
      '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
      '-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER',
    ]);
    // A second full sync does not insert the jumps again.
    h.proxier.forceFullSync();
    await h.proxier.sync();
    expect(h.ipt.rules('nat', 'PREROUTING')).toHaveLength(2);
  });

  it('recovers from an external flush once forced to resync (the canary monitor forces it)', async () => {
    const h = newHarness();
    const { services, slices } = referenceObjects();
    h.load(services, slices);
    await h.proxier.sync();
    // A full sync over intact rules rewrites no service chain (they equal what iptables-save shows).
    h.proxier.forceFullSync();
    expect(await h.proxier.sync()).toMatchObject({ kind: 'full', ok: true });
    expect(h.ipt.restores.at(-1)).not.toMatch(/^:KUBE-(SVC|SEP)-/m);
    h.ipt.flushTable('nat');
    expect(h.tracer.trace({ sourceIP: '10.244.0.5', destIP: '10.96.45.93', destPort: 80 }).endpoints).toBe('');
    h.proxier.forceFullSync();
    await h.proxier.sync();
    expect(h.ipt.restores.at(-1)).toMatch(/^:KUBE-SEP-/m);
    expect(h.tracer.trace({ sourceIP: '10.244.0.5', destIP: '10.96.45.93', destPort: 80 }).endpoints).toBe('10.244.1.10:8080, 10.244.2.11:8080');
  });

  it('large clusters drop per-endpoint comments (upstream: > 1000 endpoints)', async () => {
    const h = newHarness();
    const svcs: ServiceObject[] = [];
    const sls: EndpointSliceObject[] = [];
    for (let i = 0; i < 210; i++) {
      svcs.push(service('big', `s${i}`, `10.97.${i >> 8}.${i & 255}`));
      sls.push(slice('big', `s${i}`, `s${i}-1`, [1, 2, 3, 4, 5].map((e) => `10.250.${i}.${e}`)));
    }
    h.load(svcs, sls);
    await h.proxier.sync();
    const sep = h.ipt.chains('nat').find((c) => c.startsWith('KUBE-SEP-')) ?? '';
    expect(h.ipt.rules('nat', sep).join('\n')).not.toContain('--comment');
    expect(h.tracer.trace({ sourceIP: '10.244.0.5', destIP: '10.97.0.7', destPort: 80 }).endpoints.split(', ')).toHaveLength(5);
  });
});

describe('nodePortAddresses', () => {
  it('limits NodePorts to the selected node addresses (and loopback only when selected)', async () => {
    const h = newHarness({ config: (c) => (c.nodePortAddresses = ['192.168.99.0/24']) });
    const { services, slices } = referenceObjects();
    h.load(services, slices);
    await h.proxier.sync();
    expect(h.ipt.rules('nat', 'KUBE-SERVICES').at(-1)).toContain('-d 192.168.99.2/32');
    expect(h.tracer.trace({ sourceIP: '203.0.113.99', destIP: '192.168.99.2', destPort: 30080 }).endpoints).toBe('10.244.1.12:8080, 10.244.9.5:8080');
    expect(h.tracer.trace({ sourceIP: '127.0.0.1', destIP: '127.0.0.1', destPort: 30080, fromNode: true }).endpoints).toBe('');
    const p = newHarness({ config: (c) => (c.nodePortAddresses = ['primary']) });
    p.load(services, slices);
    await p.proxier.sync();
    expect(p.ipt.rules('nat', 'KUBE-SERVICES').at(-1)).toContain('-d 192.168.99.2/32');
  });
});
