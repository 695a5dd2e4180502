/**
 * The fixed part of the kube-proxy table (upstream setupNFTables): the shared sets and verdict maps, the hook
 * chains and the small helper chains. Pure: commands in nft's input syntax.
 */
import type { IPFamily } from '../serviceport.js';
import { NFT_TABLE } from './names.js';
import { nftFamily, type NftMapName } from './render.js';

/** Inputs of the base table. */
export interface NftBaseOptions {
  family: IPFamily;
  /** The masquerade fwmark, e.g. `0x4000`. */
  masqueradeMark: string;
  /**
   * Addresses accepting NodePorts (`nodePortAddresses`, upstream's default in nftables mode being the node IPs);
   * undefined or empty: every local address except loopback (`fib daddr type local`).
   */
  nodePortIPs?: readonly string[];
  /** Service CIDRs: traffic to an unallocated ClusterIP in them is dropped (optional). */
  serviceCIDRs?: readonly string[];
  /** MASQUERADE with fully-random port allocation. */
  randomFully: boolean;
}

const MAP_COMMENTS: Record<NftMapName, string> = {
  'cluster-ips': 'Active ClusterIPs',
  'no-endpoint-services': 'vmap to drop or reject packets to services with no endpoints',
  'no-endpoint-nodeports': 'vmap to drop or reject packets to service nodeports with no endpoints',
  'firewall-ips': 'destinations that are subject to LoadBalancerSourceRanges',
  'service-ips': 'ClusterIP, ExternalIP and LoadBalancer IP traffic',
  'service-nodeports': 'NodePort traffic',
};

/** Hook chains: name → [type, hook, priority]. */
const HOOKS: readonly (readonly [string, string, string, string])[] = [
  ['filter-prerouting', 'filter', 'prerouting', 'dstnat - 10'],
  ['filter-input', 'filter', 'input', '-110'],
  ['filter-forward', 'filter', 'forward', '-110'],
  ['filter-output', 'filter', 'output', '-110'],
  ['filter-output-post-dnat', 'filter', 'output', '-90'],
  ['nat-prerouting', 'nat', 'prerouting', 'dstnat'],
  ['nat-output', 'nat', 'output', '-100'],
  ['nat-postrouting', 'nat', 'postrouting', 'srcnat'],
];

/** `ip kube-proxy` / `ip6 kube-proxy`. */
export function nftTableRef(family: IPFamily): string {
  return `${nftFamily(family)} ${NFT_TABLE}`;
}

/** True when NodePorts are matched against the nodeport-ips set (else `fib daddr type local`). */
export function usesNodePortSet(o: NftBaseOptions): boolean {
  return o.nodePortIPs !== undefined && o.nodePortIPs.length > 0;
}

/**
 * How a shared set or map is declared: `set`/`map` and the body of its `{ … }` (`type … ; comment "…" ;`). Used by
 * the base table and, with `elements = { … }` appended, by partial transactions: re-declaring an existing set with
 * the same body changes nothing, and unlike `add element` it does not make `nft` fetch every chain of the table first.
 */
export function nftSetDeclaration(family: IPFamily, name: NftMapName): { kind: 'set' | 'map'; body: string } {
  const addr = family === 'IPv4' ? 'ipv4_addr' : 'ipv6_addr';
  const comment = `comment "${MAP_COMMENTS[name]}" ;`;
  if (name === 'cluster-ips') return { kind: 'set', body: `type ${addr} ; ${comment}` };
  const key = name === 'service-nodeports' || name === 'no-endpoint-nodeports' ? 'inet_proto . inet_service' : `${addr} . inet_proto . inet_service`;
  return { kind: 'map', body: `type ${key} : verdict ; ${comment}` };
}

/**
 * Rules of `cluster-ips-check`: reject traffic to a ClusterIP on a port it does not serve, and (as upstream, when
 * the service CIDRs are known) drop traffic to any other address of the service CIDRs (an unallocated ClusterIP).
 */
export function clusterIPsCheckRules(family: IPFamily, serviceCIDRs: readonly string[] | undefined): string[] {
  const fam = nftFamily(family);
  const out = [`${fam} daddr @cluster-ips reject comment "Reject traffic to invalid ports of ClusterIPs"`];
  if (serviceCIDRs !== undefined && serviceCIDRs.length > 0) out.push(`${fam} daddr { ${serviceCIDRs.join(', ')} } drop comment "Drop traffic to unallocated ClusterIPs"`);
  return out;
}

/** Commands creating the (empty) base table objects; the table itself must exist. */
export function baseTableCommands(o: NftBaseOptions): string[] {
  const fam = nftFamily(o.family);
  const t = nftTableRef(o.family);
  const addr = o.family === 'IPv4' ? 'ipv4_addr' : 'ipv6_addr';
  const loopback = o.family === 'IPv4' ? '127.0.0.0/8' : '::1';
  const npSet = usesNodePortSet(o);
  const out: string[] = [];
  const decl = (name: NftMapName): void => {
    const d = nftSetDeclaration(o.family, name);
    out.push(`add ${d.kind} ${t} ${name} { ${d.body} }`);
  };
  decl('cluster-ips');
  if (npSet) {
    out.push(`add set ${t} nodeport-ips { type ${addr} ; comment "IPs that accept NodePort traffic" ; }`);
    out.push(`add element ${t} nodeport-ips { ${(o.nodePortIPs ?? []).join(', ')} }`);
  }
  decl('no-endpoint-services');
  decl('no-endpoint-nodeports');
  decl('firewall-ips');
  decl('service-ips');
  decl('service-nodeports');
  const chain = (name: string, rules: string[], comment?: string): void => {
    out.push(comment === undefined ? `add chain ${t} ${name}` : `add chain ${t} ${name} { comment "${comment}" ; }`);
    for (const r of rules) out.push(`add rule ${t} ${name} ${r}`);
  };
  // Helper chains first: the hook chains jump to them.
  const npMatch = npSet ? `${fam} daddr @nodeport-ips` : `${fam} daddr != ${loopback}`;
  chain('nodeport-endpoints-check', [`${npMatch} meta l4proto . th dport vmap @no-endpoint-nodeports`]);
  chain('service-endpoints-check', [`${fam} daddr . meta l4proto . th dport vmap @no-endpoint-services`]);
  chain('firewall-check', [`${fam} daddr . meta l4proto . th dport vmap @firewall-ips`]);
  chain('services', [
    `${fam} daddr . meta l4proto . th dport vmap @service-ips`,
    npSet
      ? `${fam} daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports`
      : `fib daddr type local ${fam} daddr != ${loopback} meta l4proto . th dport vmap @service-nodeports`,
  ]);
  chain('masquerading', [
    `mark and ${o.masqueradeMark} == 0 return`,
    `mark set mark xor ${o.masqueradeMark}`,
    o.randomFully ? 'masquerade fully-random' : 'masquerade',
  ]);
  chain('cluster-ips-check', clusterIPsCheckRules(o.family, o.serviceCIDRs));
  chain('mark-for-masquerade', [`mark set mark or ${o.masqueradeMark}`]);
  chain('reject-chain', ['reject'], 'helper for @no-endpoint-services / @no-endpoint-nodeports');
  const hookRules: Record<string, string[]> = {
    'filter-prerouting': ['ct state new jump firewall-check'],
    'filter-input': ['ct state new jump nodeport-endpoints-check', 'ct state new jump service-endpoints-check'],
    'filter-forward': ['ct state new jump service-endpoints-check', 'ct state new jump cluster-ips-check'],
    'filter-output': ['ct state new jump service-endpoints-check', 'ct state new jump firewall-check'],
    'filter-output-post-dnat': ['ct state new jump cluster-ips-check'],
    'nat-prerouting': ['jump services'],
    'nat-output': ['jump services'],
    'nat-postrouting': ['jump masquerading'],
  };
  for (const [name, type, hook, prio] of HOOKS) {
    out.push(`add chain ${t} ${name} { type ${type} hook ${hook} priority ${prio} ; policy accept ; }`);
    for (const r of hookRules[name] ?? []) out.push(`add rule ${t} ${name} ${r}`);
  }
  return out;
}
