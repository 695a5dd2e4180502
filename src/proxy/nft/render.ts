/**
 * What ONE service port contributes to the nftables ruleset (upstream pkg/proxy/nftables/proxier.go syncProxyRules,
 * per service): its chains, its ClientIP affinity sets, and its elements in the shared verdict maps and sets. A pure
 * function of the port, its endpoints and the render context; the text is nft's own input syntax.
 */
import { categorizeEndpoints, type EndpointInfo } from '../endpoints.js';
import type { IPFamily, ServicePortInfo } from '../serviceport.js';
import { cidrContains } from '../families.js';
import { nftAffinitySet, nftEndpointChain, nftServiceNames } from './names.js';

/** Inputs shared by all service ports of one render. */
export interface NftRenderContext {
  family: IPFamily;
  masqueradeAll: boolean;
  /** nft match selecting pod-originated traffic (e.g. `ip saddr 10.244.0.0/16`), or null when unknown. */
  podMatch: string | null;
  /** Its negation (`ip saddr != 10.244.0.0/16`), or null. */
  notPodMatch: string | null;
  /** Node IPs of this family (a loadBalancerSourceRange containing one also admits the LB IPs themselves). */
  nodeIPs: readonly string[];
  /** The node's topology.kubernetes.io/zone label ('' = none). */
  zone?: string;
}

/** Maps and sets of the base table that service ports put elements into. */
export type NftMapName = 'service-ips' | 'service-nodeports' | 'no-endpoint-services' | 'no-endpoint-nodeports' | 'firewall-ips' | 'cluster-ips';

/** One element: `key` in nft syntax (`10.96.0.1 . tcp . 80`), `value` the verdict ('' for plain sets). */
export interface NftElement {
  map: NftMapName;
  key: string;
  value: string;
  comment?: string;
}

/** Everything one service port contributes. */
export interface NftServicePortRules {
  /** Own chains in creation order → rule bodies (without `add rule …` prefix). */
  chains: Map<string, string[]>;
  /** ClientIP affinity sets → timeout in seconds. */
  affinitySets: Map<string, number>;
  elements: NftElement[];
  noLocalInternal: boolean;
  noLocalExternal: boolean;
}

/** The `ip`/`ip6` keyword of a family. */
export function nftFamily(family: IPFamily): 'ip' | 'ip6' {
  return family === 'IPv4' ? 'ip' : 'ip6';
}

const MARK_MASQ = 'jump mark-for-masquerade';
const REJECT = 'goto reject-chain';

function dispatchRules(svc: ServicePortInfo, base: string, eps: readonly EndpointInfo[], fam: string): string[] {
  const out: string[] = [];
  if (svc.sessionAffinityClientIP) {
    for (const e of eps) out.push(`${fam} saddr @${nftAffinitySet(base, e.ip, e.port)} goto ${nftEndpointChain(base, e.ip, e.port)}`);
  }
  if (eps.length > 0) {
    const entries = eps.map((e, i) => `${i} : goto ${nftEndpointChain(base, e.ip, e.port)}`).join(', ');
    out.push(`numgen random mod ${eps.length} vmap { ${entries} }`);
  }
  return out;
}

function endpointRules(svc: ServicePortInfo, base: string, e: EndpointInfo, fam: string): string[] {
  const out = [`${fam} saddr ${e.ip} ${MARK_MASQ}`];
  if (svc.sessionAffinityClientIP) out.push(`update @${nftAffinitySet(base, e.ip, e.port)} { ${fam} saddr }`);
  const to = fam === 'ip' ? `${e.ip}:${e.port}` : `[${e.ip}]:${e.port}`;
  out.push(`meta l4proto ${svc.protocol} dnat to ${to}`);
  return out;
}

/** Renders one service port. Pure. */
export function renderNftServicePort(svc: ServicePortInfo, endpoints: readonly EndpointInfo[], ctx: NftRenderContext): NftServicePortRules {
  const fam = nftFamily(ctx.family);
  const names = nftServiceNames(svc.service, svc.portName, svc.protocol);
  const { cluster, local, allReachable, hasAny } = categorizeEndpoints(endpoints, svc, ctx.zone ?? '');
  const hasInternal = hasAny && !(svc.internalPolicyLocal && local.length === 0);
  const hasExternal = hasAny && !(svc.externalPolicyLocal && local.length === 0);
  const internalChain = svc.internalPolicyLocal ? names.local : names.cluster;
  const externalPolicyChain = svc.externalPolicyLocal ? names.local : names.cluster;
  const usesCluster = cluster.length > 0 && (!svc.internalPolicyLocal || svc.externallyAccessible);
  const usesLocal = local.length > 0 && (svc.internalPolicyLocal || svc.externalPolicyLocal);
  const usesExt = hasAny && svc.externallyAccessible;
  const usesFW = hasAny && svc.loadBalancerVIPs.length > 0 && svc.loadBalancerSourceRanges.length > 0;
  const r: NftServicePortRules = { chains: new Map(), affinitySets: new Map(), elements: [], noLocalInternal: hasAny && !hasInternal, noLocalExternal: hasAny && !hasExternal };
  const el = (map: NftMapName, key: string, value: string, comment?: string): void => {
    r.elements.push(comment === undefined ? { map, key, value } : { map, key, value, comment });
  };
  const p = svc.protocol;
  const noEp = hasAny ? 'drop' : REJECT;

  el('cluster-ips', svc.clusterIP, '');
  const vipKey = `${svc.clusterIP} . ${p} . ${svc.port}`;
  if (hasInternal) el('service-ips', vipKey, `goto ${internalChain}`);
  else el('no-endpoint-services', vipKey, noEp, svc.name);
  for (const ip of svc.externalIPs) {
    const key = `${ip} . ${p} . ${svc.port}`;
    if (hasAny) el('service-ips', key, `goto ${names.external}`);
    if (!hasExternal) el('no-endpoint-services', key, noEp, svc.name);
  }
  for (const ip of svc.loadBalancerVIPs) {
    const key = `${ip} . ${p} . ${svc.port}`;
    if (hasAny) el('service-ips', key, `goto ${names.external}`);
    if (usesFW) el('firewall-ips', key, `goto ${names.firewall}`);
    if (!hasExternal) el('no-endpoint-services', key, noEp, svc.name);
  }
  if (svc.nodePort !== 0) {
    const key = `${p} . ${svc.nodePort}`;
    if (hasAny) el('service-nodeports', key, `goto ${names.external}`);
    if (!hasExternal) el('no-endpoint-nodeports', key, noEp, svc.name);
  }

  const chains = r.chains;
  if (usesCluster) chains.set(names.cluster, []);
  if (usesLocal) chains.set(names.local, []);
  if (hasInternal) {
    const m = `${fam} daddr ${svc.clusterIP} ${p} dport ${svc.port}`;
    if (ctx.masqueradeAll) chains.get(internalChain)?.push(`${m} ${MARK_MASQ}`);
    else if (ctx.notPodMatch !== null) chains.get(internalChain)?.push(`${m} ${ctx.notPodMatch} ${MARK_MASQ}`);
  }
  if (usesExt) {
    const ext: string[] = [];
    if (!svc.externalPolicyLocal) {
      ext.push(MARK_MASQ);
    } else {
      if (ctx.podMatch !== null) ext.push(`${ctx.podMatch} goto ${names.cluster} comment "short-circuit pod traffic"`);
      ext.push(`fib saddr type local ${MARK_MASQ} comment "masquerade local traffic"`);
      ext.push(`fib saddr type local goto ${names.cluster} comment "short-circuit local traffic"`);
    }
    if (hasExternal) ext.push(`goto ${externalPolicyChain}`);
    chains.set(names.external, ext);
  }
  if (usesFW) {
    const allowed = [...svc.loadBalancerSourceRanges];
    if (svc.loadBalancerSourceRanges.some((c) => ctx.nodeIPs.some((ip) => cidrContains(c, ip)))) allowed.push(...svc.loadBalancerVIPs);
    chains.set(names.firewall, [`${fam} saddr != { ${allowed.join(', ')} } drop`]);
  }
  if (usesCluster) chains.get(names.cluster)?.push(...dispatchRules(svc, names.base, cluster, fam));
  if (usesLocal) chains.get(names.local)?.push(...dispatchRules(svc, names.base, local, fam));
  for (const e of allReachable) {
    chains.set(nftEndpointChain(names.base, e.ip, e.port), endpointRules(svc, names.base, e, fam));
    if (svc.sessionAffinityClientIP) r.affinitySets.set(nftAffinitySet(names.base, e.ip, e.port), svc.stickyMaxAgeSeconds);
  }
  return r;
}

/** The local-traffic detector (iptables argument form, see config.ts) as nft matches: [podMatch, notPodMatch]. */
export function nftLocalMatches(detector: { ifLocal: string[] | null; ifNotLocal: string[] | null }, family: IPFamily): [string | null, string | null] {
  const fam = nftFamily(family);
  const conv = (args: string[] | null): string | null => {
    if (args === null) return null;
    const neg = args[0] === '!';
    const [flag, value] = neg ? [args[1], args[2]] : [args[0], args[1]];
    if (value === undefined) return null;
    const op = neg ? '!= ' : '';
    if (flag === '-s') return `${fam} saddr ${op}${value}`;
    if (flag === '-i') return `iifname ${op}"${value.endsWith('+') ? `${value.slice(0, -1)}*` : value}"`;
    return null;
  };
  return [conv(detector.ifLocal), conv(detector.ifNotLocal)];
}
