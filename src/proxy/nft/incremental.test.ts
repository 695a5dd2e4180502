/**
 * The nftables mode's partial (incremental) syncs: a change produces exactly the expected small transaction, written
 * without commands that make `nft` list the table (`add rule`, `add element`, `delete …`) unless map elements must go,
 * and any sequence of partial syncs ends in the table one full sync writes (stale chains/sets aside, which are empty,
 * unreferenced and deleted in a later batch).
 */
import { describe, expect, it } from 'vitest';
import type { EndpointSliceObject, ServiceObject } from '../apitypes.js';
import { FakeNft } from './fake.js';
import { nftAffinitySet, nftEndpointChain, nftServiceNames } from './names.js';
import { STALE_MAX_AGE_MS } from './state.js';
import { newNftHarness, withoutStale } from './testing.js';

const T = 'ip kube-proxy';

function service(name: string, ip: string, extra: Partial<NonNullable<ServiceObject['spec']>> = {}): ServiceObject {
  return { metadata: { namespace: 'ns', name }, spec: { clusterIP: ip, ports: [{ name: '', port: 80, protocol: 'TCP' }], ...extra } };
}

function slice(svc: string, eps: { ip: string; ready?: boolean; node?: string }[]): EndpointSliceObject {
  return {
    metadata: { namespace: 'ns', name: `${svc}-1`, labels: { 'kubernetes.io/service-name': svc } },
    addressType: 'IPv4',
    ports: [{ name: '', port: 8080, protocol: 'TCP' }],
    endpoints: eps.map((e) => ({ addresses: [e.ip], nodeName: e.node ?? 'other', conditions: { ready: e.ready ?? true } })),
  };
}

const svcChain = (name: string): string => nftServiceNames(`ns/${name}`, '', 'tcp').cluster;
const epChain = (name: string, ip: string): string => nftEndpointChain(`ns/${name}/tcp/`, ip, 8080);
const epBlock = (name: string, ip: string): string =>
  `add chain ${T} ${epChain(name, ip)} { ip saddr ${ip} jump mark-for-masquerade ; meta l4proto tcp dnat to ${ip}:8080 ; }`;

/** Commands that `nft` can evaluate without listing the table's chains first. */
const cheap = (c: string): boolean => /^(add (chain|set|map)|flush (chain|set|map)) /.test(c) && !c.startsWith('add element');

describe('nft partial transactions', () => {
  it('an endpoint replaced: the service chain rewritten, the new endpoint chain added, the old one emptied', async () => {
    const h = newNftHarness();
    h.load([service('a', '10.96.1.1')], [slice('a', [{ ip: '10.244.1.1' }, { ip: '10.244.1.2' }])]);
    await h.proxier.sync();
    h.proxier.onEndpointSlice(slice('a', [{ ip: '10.244.1.1' }, { ip: '10.244.1.3' }]), false);
    expect(await h.proxier.sync()).toMatchObject({ kind: 'partial', ok: true, transactions: 1 });
    expect(h.nft.transactions.at(-1)).toEqual([
      `add chain ${T} ${epChain('a', '10.244.1.3')}`,
      `flush chain ${T} ${svcChain('a')}`,
      `add chain ${T} ${svcChain('a')} { ip daddr 10.96.1.1 tcp dport 80 ip saddr != 10.244.0.0/16 jump mark-for-masquerade ; numgen random mod 2 vmap { 0 : goto ${epChain('a', '10.244.1.1')}, 1 : goto ${epChain('a', '10.244.1.3')} } ; }`,
      epBlock('a', '10.244.1.3'),
      `flush chain ${T} ${epChain('a', '10.244.1.2')}`,
    ]);
    expect(h.proxier.stale()).toEqual({ chains: [epChain('a', '10.244.1.2')], sets: [] });
    expect(h.nft.chain(epChain('a', '10.244.1.2'))).toEqual([]);
  });

  it('a service added: its chains and map elements, map elements as declarations', async () => {
    const h = newNftHarness();
    h.load([service('a', '10.96.1.1')], [slice('a', [{ ip: '10.244.1.1' }])]);
    await h.proxier.sync();
    h.proxier.onService('ns/b', service('b', '10.96.1.2'));
    h.proxier.onEndpointSlice(slice('b', [{ ip: '10.244.2.1' }]), false);
    await h.proxier.sync();
    expect(h.nft.transactions.at(-1)).toEqual([
      `add chain ${T} ${svcChain('b')}`,
      `add chain ${T} ${epChain('b', '10.244.2.1')}`,
      `add chain ${T} ${svcChain('b')} { ip daddr 10.96.1.2 tcp dport 80 ip saddr != 10.244.0.0/16 jump mark-for-masquerade ; numgen random mod 1 vmap { 0 : goto ${epChain('b', '10.244.2.1')} } ; }`,
      epBlock('b', '10.244.2.1'),
      `add set ${T} cluster-ips { type ipv4_addr ; comment "Active ClusterIPs" ; elements = { 10.96.1.2 } ; }`,
      `add map ${T} service-ips { type ipv4_addr . inet_proto . inet_service : verdict ; comment "ClusterIP, ExternalIP and LoadBalancer IP traffic" ; elements = { 10.96.1.2 . tcp . 80 : goto ${svcChain('b')} } ; }`,
    ]);
    expect(h.nft.elements('service-ips')).toContain(`10.96.1.2 . tcp . 80 : goto ${svcChain('b')}`);
  });

  it('a service removed: its elements deleted (nft lists the table then anyway, so due stale chains go too)', async () => {
    const h = newNftHarness();
    h.load([service('a', '10.96.1.1'), service('b', '10.96.1.2')], [slice('a', [{ ip: '10.244.1.1' }, { ip: '10.244.1.2' }]), slice('b', [{ ip: '10.244.2.1' }])]);
    await h.proxier.sync();
    h.proxier.onEndpointSlice(slice('a', [{ ip: '10.244.1.1' }]), false);
    await h.proxier.sync();
    // Stale for less than a second: kept even by a transaction that deletes elements.
    h.proxier.onEndpointSlice(slice('b', [{ ip: '10.244.2.1' }, { ip: '10.244.2.2' }]), false);
    h.proxier.onService('ns/b', undefined);
    await h.proxier.sync();
    expect(h.nft.transactions.at(-1)).toEqual([
      `delete element ${T} cluster-ips { 10.96.1.2 }`,
      `delete element ${T} service-ips { 10.96.1.2 . tcp . 80 }`,
      `flush chain ${T} ${svcChain('b')}`,
      `flush chain ${T} ${epChain('b', '10.244.2.1')}`,
    ]);
    h.clock.advance(1500);
    h.proxier.onService('ns/a', undefined);
    await h.proxier.sync();
    const tx = h.nft.transactions.at(-1) ?? [];
    expect(tx.filter((c) => c.startsWith('delete chain')).sort()).toEqual(
      [epChain('a', '10.244.1.2'), svcChain('b'), epChain('b', '10.244.2.1')].map((c) => `delete chain ${T} ${c}`).sort(),
    );
    expect(h.proxier.stale().chains.sort()).toEqual([svcChain('a'), epChain('a', '10.244.1.1')].sort());
  });

  it('a readiness flip that leaves endpoints is a cheap transaction', async () => {
    const h = newNftHarness();
    h.load([service('a', '10.96.1.1', { type: 'NodePort', ports: [{ port: 80, nodePort: 30080, protocol: 'TCP' }] })], [slice('a', [{ ip: '10.244.1.1' }, { ip: '10.244.1.2' }])]);
    await h.proxier.sync();
    h.proxier.onEndpointSlice(slice('a', [{ ip: '10.244.1.1' }, { ip: '10.244.1.2', ready: false }]), false);
    await h.proxier.sync();
    const tx = h.nft.transactions.at(-1) ?? [];
    expect(tx.length).toBeGreaterThan(0);
    expect(tx.filter((c) => !cheap(c))).toEqual([]);
  });

  it('stale chains are deleted in a batch once old enough, and the table then equals a full sync exactly', async () => {
    const h = newNftHarness();
    h.load([service('a', '10.96.1.1')], [slice('a', [{ ip: '10.244.1.1' }])]);
    await h.proxier.sync();
    for (let i = 2; i < 6; i++) {
      h.proxier.onEndpointSlice(slice('a', [{ ip: `10.244.1.${i}` }]), false);
      await h.proxier.sync();
      expect((h.nft.transactions.at(-1) ?? []).filter((c) => !cheap(c))).toEqual([]);
    }
    expect(h.proxier.stale().chains).toHaveLength(4);
    h.clock.advance(STALE_MAX_AGE_MS);
    h.proxier.onService('ns/z', service('z', '10.96.1.9'));
    await h.proxier.sync();
    expect((h.nft.transactions.at(-1) ?? []).filter((c) => c.startsWith('delete chain'))).toHaveLength(4);
    expect(h.proxier.stale()).toEqual({ chains: [], sets: [] });
    const fresh = newNftHarness();
    fresh.load([service('a', '10.96.1.1'), service('z', '10.96.1.9')], [slice('a', [{ ip: '10.244.1.5' }])]);
    await fresh.proxier.sync();
    expect(h.nft.table).toEqual(fresh.nft.table);
  });

  it('a full sync deletes the stale chains and sets', async () => {
    const h = newNftHarness();
    const aff = { sessionAffinity: 'ClientIP' as const };
    h.load([service('a', '10.96.1.1', aff)], [slice('a', [{ ip: '10.244.1.1' }, { ip: '10.244.1.2' }])]);
    await h.proxier.sync();
    h.proxier.onEndpointSlice(slice('a', [{ ip: '10.244.1.1' }]), false);
    await h.proxier.sync();
    expect(h.proxier.stale()).toEqual({ chains: [epChain('a', '10.244.1.2')], sets: [nftAffinitySet('ns/a/tcp/', '10.244.1.2', 8080)] });
    h.proxier.forceFullSync();
    expect(await h.proxier.sync()).toMatchObject({ kind: 'full', ok: true });
    expect(h.proxier.stale()).toEqual({ chains: [], sets: [] });
    const fresh = newNftHarness();
    fresh.load([service('a', '10.96.1.1', aff)], [slice('a', [{ ip: '10.244.1.1' }])]);
    await fresh.proxier.sync();
    expect(h.nft.table).toEqual(fresh.nft.table);
  });
});

/** A small deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('nft partial syncs against full syncs (randomized)', () => {
  for (const seed of [1, 2, 3]) {
    it(`seed ${seed}: after every change the table equals a full sync's (stale objects aside), and exactly after the batch deletion`, async () => {
      const rnd = rng(seed);
      const pick = <X>(xs: readonly X[]): X => xs[Math.floor(rnd() * xs.length)] as X;
      const services = new Map<string, ServiceObject>();
      const slices = new Map<string, EndpointSliceObject>();
      const live = newNftHarness();
      const names = Array.from({ length: 8 }, (_, i) => `s${i}`);
      const randomService = (name: string): ServiceObject => {
        const i = Number(name.slice(1));
        const extra: Partial<NonNullable<ServiceObject['spec']>> = {};
        if (rnd() < 0.4) Object.assign(extra, { type: 'NodePort', ports: [{ port: 80, nodePort: 30100 + i, protocol: 'TCP' }] });
        if (extra.type === 'NodePort' && rnd() < 0.5) extra.externalTrafficPolicy = 'Local';
        if (rnd() < 0.3) Object.assign(extra, { sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: pick([600, 900]) } } });
        if (rnd() < 0.2) extra.externalIPs = [`192.0.2.${10 + i}`];
        if (rnd() < 0.2) extra.internalTrafficPolicy = 'Local';
        return service(name, `10.96.2.${10 + i}`, extra);
      };
      const randomSlice = (name: string): EndpointSliceObject => {
        const i = Number(name.slice(1));
        const n = Math.floor(rnd() * 4);
        const eps = Array.from({ length: n }, () => ({ ip: `10.244.${i}.${1 + Math.floor(rnd() * 6)}`, ready: rnd() < 0.85, node: rnd() < 0.3 ? 'kpnode' : 'other' }));
        return slice(name, [...new Map(eps.map((e) => [e.ip, e])).values()]);
      };
      for (const n of names.slice(0, 5)) {
        services.set(n, randomService(n));
        slices.set(n, randomSlice(n));
      }
      live.load([...services.values()], [...slices.values()]);
      await live.proxier.sync();
      let partials = 0;
      for (let step = 0; step < 60; step++) {
        const changes = 1 + Math.floor(rnd() * 2);
        for (let k = 0; k < changes; k++) {
          const n = pick(names);
          const r = rnd();
          if (r < 0.45) {
            const s = randomSlice(n);
            slices.set(n, s);
            live.proxier.onEndpointSlice(s, false);
          } else if (r < 0.55) {
            const s = slices.get(n);
            if (s !== undefined) live.proxier.onEndpointSlice(s, true);
            slices.delete(n);
          } else if (r < 0.85) {
            const s = randomService(n);
            services.set(n, s);
            live.proxier.onService(`ns/${n}`, s);
          } else {
            services.delete(n);
            live.proxier.onService(`ns/${n}`, undefined);
          }
        }
        live.clock.advance(rnd() < 0.1 ? STALE_MAX_AGE_MS : Math.floor(rnd() * 1500));
        const res = await live.proxier.sync();
        expect(res.ok, `step ${step}`).toBe(true);
        if (res.kind === 'partial') partials++;
        const fresh = newNftHarness();
        fresh.load([...services.values()], [...slices.values()]);
        await fresh.proxier.sync();
        expect(withoutStale(live.nft, live.proxier), `step ${step}`).toEqual(fresh.nft.table);
      }
      expect(partials).toBeGreaterThan(30);
      // The batch deletion: the stale objects go and the table is exactly a full sync's.
      live.clock.advance(STALE_MAX_AGE_MS);
      live.proxier.onService('ns/extra', service('extra', '10.96.3.1'));
      services.set('extra', service('extra', '10.96.3.1'));
      await live.proxier.sync();
      expect(live.proxier.stale()).toEqual({ chains: [], sets: [] });
      const fresh = newNftHarness();
      fresh.load([...services.values()], [...slices.values()]);
      await fresh.proxier.sync();
      expect(live.nft.table).toEqual(fresh.nft.table);
    });
  }
});

describe('nft restart', () => {
  it('takes over the table an earlier run left: ClientIP affinity entries survive, leftovers go', async () => {
    const nft = new FakeNft();
    const aff = { sessionAffinity: 'ClientIP' as const };
    const first = newNftHarness({ nft });
    first.load([service('a', '10.96.1.1', aff), service('gone', '10.96.1.2', aff)], [slice('a', [{ ip: '10.244.1.1' }]), slice('gone', [{ ip: '10.244.2.1' }])]);
    await first.proxier.sync();
    const set = nftAffinitySet('ns/a/tcp/', '10.244.1.1', 8080);
    nft.table?.sets.get(set)?.elements.set('10.244.0.7', { value: '' });
    // A restart: a new proxier over the same kernel table; `gone` was deleted meanwhile.
    const second = newNftHarness({ nft });
    second.load([service('a', '10.96.1.1', aff)], [slice('a', [{ ip: '10.244.1.1' }])]);
    expect(await second.proxier.sync()).toMatchObject({ kind: 'full', ok: true });
    const tx = nft.transactions.slice(-2).flat();
    expect(tx.some((c) => c.startsWith('delete table'))).toBe(false);
    expect(nft.table?.sets.get(set)?.elements.has('10.244.0.7')).toBe(true);
    expect(nft.table?.chains.has(svcChain('gone'))).toBe(false);
    expect(nft.table?.sets.has(nftAffinitySet('ns/gone/tcp/', '10.244.2.1', 8080))).toBe(false);
    // Apart from the affinity entry, exactly what a first sync on an empty kernel writes.
    nft.table?.sets.get(set)?.elements.delete('10.244.0.7');
    const fresh = newNftHarness();
    fresh.load([service('a', '10.96.1.1', aff)], [slice('a', [{ ip: '10.244.1.1' }])]);
    await fresh.proxier.sync();
    expect(nft.table).toEqual(fresh.nft.table);
  });

  it('a changed affinity timeout re-creates that set on takeover', async () => {
    const nft = new FakeNft();
    const first = newNftHarness({ nft });
    first.load([service('a', '10.96.1.1', { sessionAffinity: 'ClientIP' })], [slice('a', [{ ip: '10.244.1.1' }])]);
    await first.proxier.sync();
    const second = newNftHarness({ nft });
    second.load([service('a', '10.96.1.1', { sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } } })], [slice('a', [{ ip: '10.244.1.1' }])]);
    expect(await second.proxier.sync()).toMatchObject({ kind: 'full', ok: true });
    expect(nft.transactions.slice(-2).flat().some((c) => c.startsWith('delete table'))).toBe(false);
    expect(nft.table?.sets.get(nftAffinitySet('ns/a/tcp/', '10.244.1.1', 8080))?.spec).toContain('timeout 60s');
  });

  it('a failed takeover falls back to replacing the table', async () => {
    const nft = new FakeNft();
    const first = newNftHarness({ nft });
    first.load([service('a', '10.96.1.1')], [slice('a', [{ ip: '10.244.1.1' }])]);
    await first.proxier.sync();
    const second = newNftHarness({ nft });
    second.load([service('a', '10.96.1.1')], [slice('a', [{ ip: '10.244.1.2' }])]);
    nft.failNext();
    expect(await second.proxier.sync()).toMatchObject({ kind: 'full', ok: false });
    expect(nft.transactions.at(-1)?.some((c) => c.startsWith('delete table'))).toBe(false);
    expect(await second.proxier.sync()).toMatchObject({ kind: 'full', ok: true });
    expect(nft.transactions.at(-2)?.slice(0, 2)).toEqual([`add table ${T}`, `delete table ${T}`]);
    expect(nft.chain(epChain('a', '10.244.1.1'))).toBeUndefined();
  });
});
