import { describe, expect, it } from 'vitest';
import type { EndpointSliceObject, ServiceObject } from '../apitypes.js';
import { newHarness, NODE_IP } from '../testing/harness.js';
import { referenceObjects } from '../testing/reference.js';
import { endpointsOf, newNftHarness, withoutStale } from './testing.js';
import { nftEndpointChain, nftServiceNames } from './names.js';

function slice(ns: string, svc: string, name: string, ips: string[], o: { port?: number; ready?: boolean; node?: string; v6?: boolean } = {}): EndpointSliceObject {
  return {
    metadata: { namespace: ns, name, labels: { 'kubernetes.io/service-name': svc } },
    addressType: o.v6 === true ? 'IPv6' : 'IPv4',
    ports: [{ name: '', port: o.port ?? 8080, protocol: 'TCP' }],
    endpoints: ips.map((ip) => ({ addresses: [ip], nodeName: o.node ?? 'other', conditions: { ready: o.ready ?? true } })),
  };
}

function service(ns: string, name: string, ip: string, extra: Partial<NonNullable<ServiceObject['spec']>> = {}): ServiceObject {
  return { metadata: { namespace: ns, name }, spec: { clusterIP: ip, ports: [{ name: '', port: 80, protocol: 'TCP' }], ...extra } };
}

describe('nft names', () => {
  it('match upstream kube-proxy v1.33 (observed in a live nftables ruleset)', () => {
    expect(nftServiceNames('nl7-probe/web', 'http', 'tcp').cluster).toBe('service-FGFGEZY3-nl7-probe/web/tcp/http');
    expect(nftServiceNames('default/kubernetes', 'https', 'tcp').cluster).toBe('service-2QRHZV4L-default/kubernetes/tcp/https');
    expect(nftEndpointChain('nl7-probe/web/tcp/http', '10.214.7.100', 8080)).toBe('endpoint-ETESI6UL-nl7-probe/web/tcp/http__10.214.7.100/8080');
    expect(nftEndpointChain('a/b/tcp/', 'fd00:7::5', 80)).toMatch(/^endpoint-\w{8}-a\/b\/tcp\/__fd00\.7\.\.5\/80$/);
  });
});

describe('NftProxier over the reference services', () => {
  it('writes the upstream table layout', async () => {
    const h = newNftHarness();
    const { services, slices } = referenceObjects();
    h.load(services, slices);
    expect((await h.proxier.sync()).kind).toBe('full');
    const t = h.nft.table;
    expect(t).toBeDefined();
    for (const c of ['filter-prerouting', 'filter-input', 'filter-forward', 'filter-output', 'filter-output-post-dnat', 'nat-prerouting', 'nat-output', 'nat-postrouting', 'services', 'masquerading', 'mark-for-masquerade', 'reject-chain', 'cluster-ips-check', 'firewall-check']) {
      expect(t?.chains.has(c), c).toBe(true);
    }
    expect(h.nft.chain('service-2QRHZV4L-default/kubernetes/tcp/https')).toEqual([
      'ip daddr 10.96.0.1 tcp dport 443 ip saddr != 10.244.0.0/16 jump mark-for-masquerade',
      'numgen random mod 1 vmap { 0 : goto endpoint-C7Z6QKZ3-default/kubernetes/tcp/https__172.17.0.1/6443 }',
    ]);
    expect(h.nft.chain('endpoint-C7Z6QKZ3-default/kubernetes/tcp/https__172.17.0.1/6443')).toEqual([
      'ip saddr 172.17.0.1 jump mark-for-masquerade',
      'meta l4proto tcp dnat to 172.17.0.1:6443',
    ]);
    expect(h.nft.elements('service-ips')).toContain('10.96.0.1 . tcp . 443 : goto service-2QRHZV4L-default/kubernetes/tcp/https');
    expect(h.nft.elements('nodeport-ips')).toEqual([NODE_IP]);
  });

  it('sends every probe packet where the iptables mode sends it', async () => {
    const { services, slices } = referenceObjects();
    const ipt = newHarness();
    ipt.load(services, slices);
    await ipt.proxier.sync();
    const nft = newNftHarness();
    nft.load(services, slices);
    await nft.proxier.sync();
    const sources = [
      { sourceIP: '10.244.0.5', name: 'pod' },
      { sourceIP: '192.168.99.10', name: 'external' },
      { sourceIP: '203.0.113.7', name: 'lb-source-out-of-range' },
      { sourceIP: NODE_IP, fromNode: true, name: 'node' },
    ];
    let compared = 0;
    const diffs: string[] = [];
    for (const svc of services) {
      const spec = svc.spec ?? {};
      for (const p of spec.ports ?? []) {
        const proto = (p.protocol ?? 'TCP').toLowerCase() as 'tcp' | 'udp';
        const dests: [string, number][] = [[spec.clusterIP ?? '', p.port ?? 0]];
        for (const ip of spec.externalIPs ?? []) dests.push([ip, p.port ?? 0]);
        for (const i of svc.status?.loadBalancer?.ingress ?? []) if (i.ip !== undefined) dests.push([i.ip, p.port ?? 0]);
        if (p.nodePort !== undefined) dests.push([NODE_IP, p.nodePort]);
        for (const [destIP, destPort] of dests) {
          for (const s of sources) {
            const pkt = { sourceIP: s.sourceIP, destIP, destPort, protocol: proto, ...(s.fromNode === true ? { fromNode: true } : {}) };
            const a = ipt.tracer.trace(pkt);
            const b = endpointsOf(nft.trace(pkt));
            compared++;
            if (a.endpoints !== b.endpoints || a.masquerade !== b.masquerade) {
              diffs.push(`${svc.metadata?.name ?? ''} ${s.name} -> ${destIP}:${destPort}: iptables ${JSON.stringify(a)} nft ${JSON.stringify(b)}`);
            }
          }
        }
      }
    }
    expect(compared).toBeGreaterThan(60);
    expect(diffs).toEqual([]);
  });

  it('partial syncs end in exactly the table a full sync writes', async () => {
    const { services, slices } = referenceObjects();
    const steps: ((h: ReturnType<typeof newNftHarness>) => void)[] = [
      (h) => h.proxier.onEndpointSlice(slice('ref', 'web', 'web-1', ['10.244.1.10']), false),
      (h) => h.proxier.onEndpointSlice(slice('ref', 'web', 'web-1', []), true),
      (h) => h.proxier.onService('ref/new', service('ref', 'new', '10.96.9.9', { type: 'NodePort', ports: [{ port: 80, nodePort: 30999 }] })),
      (h) => h.proxier.onEndpointSlice(slice('ref', 'new', 'new-1', ['10.244.3.3', '10.244.3.4']), false),
      (h) => h.proxier.onService('ref/aff', service('ref', 'aff', '10.96.66.36', { sessionAffinity: 'ClientIP' })),
      (h) => h.proxier.onEndpointSlice(slice('ref', 'aff', 'aff-1', ['10.244.4.4', '10.244.4.5']), false),
      (h) => h.proxier.onEndpointSlice(slice('ref', 'aff', 'aff-1', ['10.244.4.4']), false),
      (h) => h.proxier.onService('ref/new', undefined),
      (h) => h.proxier.onService('ref/aff', undefined),
    ];
    const live = newNftHarness();
    live.load(services, slices);
    await live.proxier.sync();
    for (const [i, step] of steps.entries()) {
      step(live);
      const before = live.nft.transactions.length;
      const r = await live.proxier.sync();
      expect(r, `step ${i}`).toMatchObject({ kind: 'partial', ok: true });
      // Partial transactions never replace the table.
      expect(live.nft.transactions.slice(before).flat().some((c) => c.startsWith('delete table'))).toBe(false);
      const fresh = newNftHarness();
      fresh.load(services, slices);
      for (const s of steps.slice(0, i + 1)) s(fresh);
      await fresh.proxier.sync();
      expect(withoutStale(live.nft, live.proxier), `step ${i}`).toEqual(fresh.nft.table);
    }
  });

  it('one endpoint change rewrites only that service', async () => {
    const h = newNftHarness();
    const svcs = Array.from({ length: 50 }, (_, i) => service('ns', `s${i}`, `10.96.1.${i}`));
    const sl = svcs.map((_, i) => slice('ns', `s${i}`, `s${i}-1`, [`10.244.${i}.1`, `10.244.${i}.2`]));
    h.load(svcs, sl);
    await h.proxier.sync();
    h.proxier.onEndpointSlice(slice('ns', 's7', 's7-1', [`10.244.7.1`, `10.244.7.3`]), false);
    await h.proxier.sync();
    const tx = h.nft.transactions.at(-1) ?? [];
    expect(tx.every((c) => !c.includes('/s1/') && !c.includes('/s8/'))).toBe(true);
    expect(tx).toContain('flush chain ip kube-proxy service-' + nftServiceNames('ns/s7', '', 'tcp').cluster.slice('service-'.length));
    // The old endpoint chain is emptied now and deleted in a later batch; nothing makes nft list the table.
    expect(tx).toContain(`flush chain ip kube-proxy ${nftEndpointChain('ns/s7/tcp/', '10.244.7.2', 8080)}`);
    expect(tx.some((c) => c.startsWith('delete '))).toBe(false);
    expect(tx.some((c) => c.startsWith('add chain') && c.includes('10.244.7.3'))).toBe(true);
    expect(tx.length).toBeLessThan(10);
  });

  it('a failed transaction keeps the previous table and the next sync is a full one', async () => {
    const h = newNftHarness();
    h.load([service('ns', 'a', '10.96.1.1')], [slice('ns', 'a', 'a-1', ['10.244.1.1'])]);
    await h.proxier.sync();
    const before = structuredClone(h.nft.table);
    h.nft.failNext();
    h.proxier.onEndpointSlice(slice('ns', 'a', 'a-1', ['10.244.1.2']), false);
    expect(await h.proxier.sync()).toMatchObject({ ok: false, kind: 'partial' });
    expect(h.nft.table).toEqual(before);
    await expect(h.metrics.restoreFailures.get()).resolves.toMatchObject({ values: [{ value: 1 }] });
    expect(await h.proxier.sync()).toMatchObject({ ok: true, kind: 'full', transactions: 2 });
    // Not the first full sync: the table is not deleted (no window without rules); its content is swapped in one go.
    const [prepare, swap] = h.nft.transactions.slice(-2);
    expect(prepare?.some((c) => c.startsWith('delete table'))).toBe(false);
    expect(swap?.[0]).toBe('flush table ip kube-proxy');
    expect(swap?.some((c) => c.startsWith('delete chain') && c.includes('10.244.1.1'))).toBe(true);
    expect(endpointsOf(h.trace({ sourceIP: '10.244.9.9', destIP: '10.96.1.1', destPort: 80 })).endpoints).toBe('10.244.1.2:8080');
    // ...and ends in exactly the table a first (replacing) full sync writes.
    const fresh = newNftHarness();
    fresh.load([service('ns', 'a', '10.96.1.1')], [slice('ns', 'a', 'a-1', ['10.244.1.2'])]);
    await fresh.proxier.sync();
    expect(h.nft.table).toEqual(fresh.nft.table);
  });
});

describe('NftProxier features (traced)', () => {
  it('rejects a ClusterIP without endpoints and says why', async () => {
    const h = newNftHarness();
    h.load([service('ns', 'empty', '10.96.2.2')], []);
    await h.proxier.sync();
    const r = h.trace({ sourceIP: '10.244.0.5', destIP: '10.96.2.2', destPort: 80 });
    expect(r.paths).toHaveLength(1);
    expect(r.paths[0]).toMatchObject({ outcome: 'rejected', reason: 'ns/empty: @no-endpoint-services' });
    expect(r.unknown).toEqual([]);
  });

  it('spreads over endpoints with equal probability and masquerades off-cluster clients', async () => {
    const h = newNftHarness();
    h.load([service('ns', 'web', '10.96.3.3')], [slice('ns', 'web', 'w', ['10.244.1.1', '10.244.1.2', '10.244.1.3'])]);
    await h.proxier.sync();
    const r = h.trace({ sourceIP: '192.168.99.10', destIP: '10.96.3.3', destPort: 80 });
    expect(r.paths.map((p) => [p.dnat, p.probability.toFixed(3), p.masquerade])).toEqual([
      ['10.244.1.1:8080', '0.333', true],
      ['10.244.1.2:8080', '0.333', true],
      ['10.244.1.3:8080', '0.333', true],
    ]);
    expect(endpointsOf(h.trace({ sourceIP: '10.244.0.5', destIP: '10.96.3.3', destPort: 80 })).masquerade).toBe(false);
  });

  it('NodePort with externalTrafficPolicy Local on a node without local endpoints drops, and says why', async () => {
    const h = newNftHarness();
    h.load(
      [service('ns', 'loc', '10.96.4.4', { type: 'NodePort', externalTrafficPolicy: 'Local', ports: [{ port: 80, nodePort: 30444, protocol: 'TCP' }] })],
      [slice('ns', 'loc', 'l', ['10.244.5.5'], { node: 'elsewhere' })],
    );
    await h.proxier.sync();
    const r = h.trace({ sourceIP: '192.168.99.10', destIP: NODE_IP, destPort: 30444 });
    expect(r.paths[0]).toMatchObject({ outcome: 'dropped', reason: 'ns/loc: @no-endpoint-nodeports' });
    // Cluster-internal traffic to the ClusterIP still works (internalTrafficPolicy Cluster).
    expect(endpointsOf(h.trace({ sourceIP: '10.244.0.5', destIP: '10.96.4.4', destPort: 80 })).endpoints).toBe('10.244.5.5:8080');
  });

  it('ETP Local with a local endpoint: no masquerade from outside, pod traffic short-circuits to all endpoints', async () => {
    const h = newNftHarness();
    h.load(
      [service('ns', 'loc', '10.96.4.5', { type: 'NodePort', externalTrafficPolicy: 'Local', ports: [{ port: 80, nodePort: 30445, protocol: 'TCP' }] })],
      [{ ...slice('ns', 'loc', 'l', ['10.244.5.5'], { node: 'kpnode' }), endpoints: [
        { addresses: ['10.244.5.5'], nodeName: 'kpnode', conditions: { ready: true } },
        { addresses: ['10.244.6.6'], nodeName: 'other', conditions: { ready: true } },
      ] }],
    );
    await h.proxier.sync();
    expect(endpointsOf(h.trace({ sourceIP: '192.168.99.10', destIP: NODE_IP, destPort: 30445 }))).toEqual({ endpoints: '10.244.5.5:8080', masquerade: false });
    expect(endpointsOf(h.trace({ sourceIP: '10.244.0.5', destIP: NODE_IP, destPort: 30445 }))).toEqual({ endpoints: '10.244.5.5:8080, 10.244.6.6:8080', masquerade: false });
    expect(endpointsOf(h.trace({ sourceIP: NODE_IP, fromNode: true, destIP: NODE_IP, destPort: 30445 }))).toEqual({ endpoints: '10.244.5.5:8080, 10.244.6.6:8080', masquerade: true });
  });

  it('sessionAffinity ClientIP: per-endpoint affinity sets with the timeout', async () => {
    const h = newNftHarness();
    h.load([service('ns', 'st', '10.96.5.5', { sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 600 } } })], [slice('ns', 'st', 's', ['10.244.7.1', '10.244.7.2'])]);
    await h.proxier.sync();
    const sets = [...(h.nft.table?.sets.keys() ?? [])].filter((s) => s.startsWith('affinity-'));
    expect(sets).toHaveLength(2);
    expect(h.nft.table?.sets.get(sets[0] ?? '')?.spec).toContain('timeout 600s');
    const ep = nftEndpointChain('ns/st/tcp/', '10.244.7.1', 8080);
    expect(h.nft.chain(ep)?.[1]).toMatch(/^update @affinity-\S+ \{ ip saddr \}$/);
    // A client already in the first endpoint's set always goes there.
    const t = h.nft.table;
    t?.sets.get(sets.find((s) => s.includes('10.244.7.1')) ?? '')?.elements.set('10.244.0.9', { value: '' });
    expect(endpointsOf(h.trace({ sourceIP: '10.244.0.9', destIP: '10.96.5.5', destPort: 80 })).endpoints).toBe('10.244.7.1:8080');
  });

  it('loadBalancerSourceRanges: firewall-ips drops other sources', async () => {
    const h = newNftHarness();
    const svc = service('ns', 'lb', '10.96.6.6', { type: 'LoadBalancer', loadBalancerSourceRanges: ['192.168.99.0/28'], ports: [{ port: 80, nodePort: 30666, protocol: 'TCP' }] });
    svc.status = { loadBalancer: { ingress: [{ ip: '198.51.100.6' }] } };
    h.load([svc], [slice('ns', 'lb', 'l', ['10.244.8.8'])]);
    await h.proxier.sync();
    expect(endpointsOf(h.trace({ sourceIP: '192.168.99.10', destIP: '198.51.100.6', destPort: 80 })).endpoints).toBe('10.244.8.8:8080');
    expect(endpointsOf(h.trace({ sourceIP: '203.0.113.1', destIP: '198.51.100.6', destPort: 80 })).endpoints).toBe('DROP');
    // The node IP is in the range: the LB IP itself is allowed as a source (hairpin from the node).
    expect(h.nft.chain(nftServiceNames('ns/lb', '', 'tcp').firewall)).toEqual(['ip saddr != { 192.168.99.0/28, 198.51.100.6 } drop']);
  });

  it('terminating endpoints are used only when no endpoint is ready', async () => {
    const h = newNftHarness();
    const s = slice('ns', 't', 't', []);
    s.endpoints = [
      { addresses: ['10.244.9.1'], conditions: { ready: false, serving: true, terminating: true } },
      { addresses: ['10.244.9.2'], conditions: { ready: true } },
    ];
    h.load([service('ns', 't', '10.96.7.7')], [structuredClone(s)]);
    await h.proxier.sync();
    expect(endpointsOf(h.trace({ sourceIP: '10.244.0.5', destIP: '10.96.7.7', destPort: 80 })).endpoints).toBe('10.244.9.2:8080');
    s.endpoints = [{ addresses: ['10.244.9.1'], conditions: { ready: false, serving: true, terminating: true } }];
    h.proxier.onEndpointSlice(structuredClone(s), false);
    await h.proxier.sync();
    expect(endpointsOf(h.trace({ sourceIP: '10.244.0.5', destIP: '10.96.7.7', destPort: 80 })).endpoints).toBe('10.244.9.1:8080');
  });

  it('IPv6: ip6 table, bracketed DNAT, dotted endpoint names', async () => {
    const h = newNftHarness({ family: 'IPv6', nodeIPs: ['fd00:7::2'] });
    h.load([service('ns', 'v6', 'fd00:96::10')], [slice('ns', 'v6', 'v', ['fd00:244::5'], { v6: true })]);
    await h.proxier.sync();
    const ep = nftEndpointChain('ns/v6/tcp/', 'fd00:244::5', 8080);
    expect(h.nft.chain(ep)).toEqual(['ip6 saddr fd00:244::5 jump mark-for-masquerade', 'meta l4proto tcp dnat to [fd00:244::5]:8080']);
    expect(endpointsOf(h.trace({ sourceIP: 'fd00:10:244::5', destIP: 'fd00:96::10', destPort: 80 }))).toEqual({ endpoints: '[fd00:244::5]:8080', masquerade: false });
  });
});
