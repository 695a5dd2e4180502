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
import { FakeNft } from './fake.js';
import { NftProxier, type NftProxierOptions } from './proxier.js';

/** Node IP of the harness (the same as the iptables harness). */
export const NFT_NODE_IP = '192.168.99.2';

/** Builds an NftProxier on a FakeNft; `load` feeds objects and marks both lists synced; `trace` walks a packet. */
export function newNftHarness(o: { config?: (c: ProxyConfig) => void; family?: IPFamily; nodeIPs?: string[]; proxier?: Partial<NftProxierOptions> } = {}) {
  const cfg = defaultProxyConfig();
  cfg.clusterCIDR = o.family === 'IPv6' ? 'fd00:10:244::/64' : '10.244.0.0/16';
  cfg.mode = 'nftables';
  o.config?.(cfg);
  const nft = new FakeNft(o.family ?? 'IPv4');
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
