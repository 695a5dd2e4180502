/**
 * Which IP families the proxy runs a proxier for (one iptables/ip6tables proxier each, like upstream's dual-stack
 * meta-proxier). Pure.
 */
import ipaddr from 'ipaddr.js';
import type { IPFamily } from './serviceport.js';

function kindOf(addrOrCIDR: string): IPFamily | undefined {
  const ip = addrOrCIDR.split('/')[0] ?? '';
  if (!ipaddr.isValid(ip)) return undefined;
  return ipaddr.parse(ip).kind() === 'ipv4' ? 'IPv4' : 'IPv6';
}

/**
 * IPv6 runs when the cluster is dual-stack or IPv6 (a clusterCIDR of that family) or the node has an IPv6 address;
 * IPv4 runs when something is IPv4, or nothing says IPv6 (the single-stack default). IPv4 comes first.
 */
export function proxyFamilies(clusterCIDRs: readonly string[], nodeIPs: readonly string[]): IPFamily[] {
  const kinds = new Set([...clusterCIDRs, ...nodeIPs].map(kindOf));
  const v6 = kinds.has('IPv6');
  const v4 = kinds.has('IPv4') || !v6;
  return [...(v4 ? (['IPv4'] as const) : []), ...(v6 ? (['IPv6'] as const) : [])];
}

/** True when `ip` lies in `cidr` (same family only). */
export function cidrContains(cidr: string, ip: string): boolean {
  try {
    const [base, len] = ipaddr.parseCIDR(cidr);
    const a = ipaddr.parse(ip);
    return a.kind() === base.kind() && a.match(base, len);
  } catch {
    return false;
  }
}
