/** Test harness for the nftables mode: an NftProxier over FakeNft with a FakeClock, fed directly (no informers). */
import { FakeClock, silentLogger } from '../../util/index.js';
import { objectKey } from '../../api/types.js';
import type { EndpointSliceObject, ServiceObject } from '../apitypes.js';
import { defaultProxyConfig, resolveProxyConfig, type ProxyConfig } from '../config.js';
import { createProxyMetrics } from '../metrics.js';
import type { IPFamily } from '../serviceport.js';
import type { TracePacket, TraceResult } from '../trace/packet.js';
import { traceNft } from '../trace/nft-trace.js';
import { traceTableFromFake } from '../trace/nft-text.js';
import { FakeNft, type FakeNftTable } from './fake.js';
import { NftProxier, type NftProxierOptions } from './proxier.js';

/** Node IP of the harness (the same as the iptables harness). */
export const NFT_NODE_IP = '192.168.99.2';

/** Builds an NftProxier on a FakeNft; `load` feeds objects and marks both lists synced; `trace` walks a packet. */
export function newNftHarness(o: { config?: (c: ProxyConfig) => void; family?: IPFamily; nodeIPs?: string[]; proxier?: Partial<NftProxierOptions>; nft?: FakeNft } = {}) {
  const cfg = defaultProxyConfig();
  cfg.clusterCIDR = o.family === 'IPv6' ? 'fd00:10:244::/64' : '10.244.0.0/16';
  cfg.mode = 'nftables';
  o.config?.(cfg);
  const nft = o.nft ?? new FakeNft(o.family ?? 'IPv4');
  const clock = new FakeClock();
  const metrics = createProxyMetrics();
  const nodeIPs = o.nodeIPs ?? [NFT_NODE_IP];
  const proxier = new NftProxier({ nft, config: resolveProxyConfig(cfg), nodeName: 'kpnode', nodeIPs, logger: silentLogger(), clock, metrics, ...o.proxier });
  return {
    nft,
    clock,
    metrics,
    proxier,
    load(services: ServiceObject[], slices: EndpointSliceObject[]): void {
      for (const s of services) proxier.onService(objectKey(s), s);
      for (const s of slices) proxier.onEndpointSlice(s, false);
      proxier.onServicesSynced();
      proxier.onEndpointSlicesSynced();
    },
    trace(pkt: Omit<TracePacket, 'protocol'> & { protocol?: TracePacket['protocol'] }): TraceResult {
      if (nft.table === undefined) throw new Error('nothing written');
      return traceNft([traceTableFromFake(nft.table, o.family === 'IPv6' ? 'ip6' : 'ip')], { protocol: 'tcp', ...pkt }, { localIPs: nodeIPs });
    },
  };
}

/** A trace in the iptables tracer's terms: sorted reachable endpoints, or REJECT/DROP; and masquerading. */
export function endpointsOf(r: TraceResult): { endpoints: string; masquerade: boolean } {
  const eps = [...new Set(r.paths.filter((p) => p.dnat !== undefined && p.outcome === 'accepted').map((p) => p.dnat ?? ''))].sort();
  const verdicts: string[] = [...new Set(r.paths.filter((p) => p.outcome !== 'accepted').map((p) => (p.outcome === 'rejected' ? 'REJECT' : 'DROP')))].sort();
  if (eps.length > 0 && verdicts.length > 0) verdicts.push('PARTIAL');
  return { endpoints: eps.length === 0 ? verdicts.join(', ') : eps.join(', '), masquerade: r.paths.some((p) => p.masquerade && p.outcome === 'accepted') };
}

/**
 * The FakeNft table without the proxier's stale chains and sets (emptied, waiting for their batched deletion), after
 * checking that each stale chain is empty and nothing refers to a stale object: what a full sync would have written.
 */
export function withoutStale(nft: FakeNft, proxier: NftProxier): FakeNftTable | undefined {
  const t = nft.table === undefined ? undefined : structuredClone(nft.table);
  if (t === undefined) return t;
  const stale = proxier.stale();
  const refs = new Set<string>();
  for (const c of t.chains.values()) for (const r of c.rules) for (const m of r.matchAll(/(?:jump |goto |@)([^\s,}]+)/g)) refs.add(m[1] ?? '');
  for (const st of t.sets.values()) for (const e of st.elements.values()) for (const m of e.value.matchAll(/(?:jump |goto )([^\s,}]+)/g)) refs.add(m[1] ?? '');
  for (const c of stale.chains) {
    if (!t.chains.has(c)) throw new Error(`stale chain ${c} is not in the table`);
    if ((t.chains.get(c)?.rules.length ?? 0) > 0) throw new Error(`stale chain ${c} is not empty`);
    if (refs.has(c)) throw new Error(`stale chain ${c} is still referenced`);
    t.chains.delete(c);
  }
  for (const s of stale.sets) {
    if (!t.sets.has(s)) throw new Error(`stale set ${s} is not in the table`);
    if (refs.has(s)) throw new Error(`stale set ${s} is still referenced`);
    t.sets.delete(s);
  }
  return t;
}
