/**
 * Pure parts of the host-gw pod network (what kubenet and flannel's host-gw did): the CNI config for this node's
 * pod CIDRs, the routes to other nodes' pod CIDRs via their InternalIPs, and the masquerade rules.
 */
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/** File the host-gw network writes in the CNI config directory. */
export const HOST_GW_CONF_FILE = '10-nodelet-host-gw.conflist';
/** Name of the CNI network. */
export const HOST_GW_NETWORK = 'nodelet-host-gw';
/** `proto` of the routes the route keeper owns: it never touches a route with another protocol. */
export const ROUTE_PROTO = 158;

/** Options of {@link hostGwConflist}. */
export interface HostGwConfOptions {
  /** This node's pod CIDRs (Node.spec.podCIDRs), one per family. */
  podCIDRs: readonly string[];
  /** Bridge device on the node (default nodelet0). */
  bridge?: string;
  /** host-local's state directory (default /var/lib/cni/networks). */
  dataDir?: string;
  mtu?: number;
}

/** The conflist (spec 1.0.0): bridge with host-local ranges per family, portmap, bandwidth, loopback handled apart. */
export function hostGwConflist(o: HostGwConfOptions): string {
  const families = o.podCIDRs.map((c) => ({ c, v6: c.includes(':') }));
  const ipam: Record<string, unknown> = {
    type: 'host-local',
    ranges: families.map((f) => [{ subnet: f.c }]),
    routes: families.map((f) => ({ dst: f.v6 ? '::/0' : '0.0.0.0/0' })),
  };
  if (o.dataDir !== undefined) ipam['dataDir'] = o.dataDir;
  const bridge: Record<string, unknown> = {
    type: 'bridge',
    bridge: o.bridge ?? 'nodelet0',
    isGateway: true,
    // Masquerade is the agent's own rule (cluster CIDR aware), not the bridge plugin's per-pod rules.
    ipMasq: false,
    hairpinMode: true,
    ipam,
  };
  if (o.mtu !== undefined) bridge['mtu'] = o.mtu;
  return `${JSON.stringify(
    {
      cniVersion: '1.0.0',
      name: HOST_GW_NETWORK,
      plugins: [bridge, { type: 'portmap', capabilities: { portMappings: true }, snat: true }, { type: 'loopback' }],
    },
    null,
    2,
  )}\n`;
}

/** The parts of a Node the route keeper reads. */
export interface NodeRouteInfo {
  name: string;
  podCIDRs: string[];
  internalIPs: string[];
}

/** A route to a pod CIDR via a node. */
export interface PodRoute {
  dst: string;
  via: string;
}

/** 4 or 6 for an address or CIDR; 0 when it is neither. */
export function familyOf(addrOrCIDR: string): 0 | 4 | 6 {
  return isIP(addrOrCIDR.split('/')[0] ?? '') as 0 | 4 | 6;
}

/** True when CIDR `inner` lies inside CIDR `outer` (same family, prefix at least as long, same network bits). */
export function cidrWithin(inner: string, outer: string): boolean {
  try {
    const [ia, il] = ipaddr.parseCIDR(inner);
    const [oa, ol] = ipaddr.parseCIDR(outer);
    return ia.kind() === oa.kind() && il >= ol && ia.match(oa, ol);
  } catch {
    return false;
  }
}

/**
 * The CIDRs that bound the pod network per family: the cluster CIDRs (--cluster-cidr) of a family when given, else
 * this node's pod CIDR of that family (a dual-stack node with a single-stack --cluster-cidr still masquerades the
 * other family). IPv4 first.
 */
export function effectiveClusterCIDRs(clusterCIDRs: readonly string[], podCIDRs: readonly string[]): string[] {
  const out: string[] = [];
  for (const fam of [4, 6] as const) {
    const given = clusterCIDRs.filter((c) => familyOf(c) === fam);
    out.push(...(given.length > 0 ? given : podCIDRs.filter((c) => familyOf(c) === fam)));
  }
  return out;
}

/**
 * The routes this node wants: each other node's pod CIDR via its InternalIP of the same family (IPv6 pod CIDRs via
 * the IPv6 InternalIP). With `clusterCIDRs` of a family given, pod CIDRs of that family outside them are ignored
 * (routes only ever cover the cluster's pod network).
 */
export function desiredRoutes(nodes: readonly NodeRouteInfo[], self: string, clusterCIDRs: readonly string[]): PodRoute[] {
  const out: PodRoute[] = [];
  for (const n of nodes) {
    if (n.name === self) continue;
    for (const dst of n.podCIDRs) {
      const fam = familyOf(dst);
      const bounds = clusterCIDRs.filter((c) => familyOf(c) === fam);
      if (bounds.length > 0 && !bounds.some((c) => cidrWithin(dst, c))) continue;
      const via = n.internalIPs.find((ip) => isIP(ip) === fam);
      if (via !== undefined) out.push({ dst, via });
    }
  }
  return out.sort((a, b) => a.dst.localeCompare(b.dst));
}

/** What to change to go from `actual` (routes with our proto) to `desired`. */
export function routeChanges(desired: readonly PodRoute[], actual: readonly PodRoute[]): { add: PodRoute[]; remove: PodRoute[] } {
  const key = (r: PodRoute): string => `${r.dst} ${r.via}`;
  const want = new Set(desired.map(key));
  const have = new Set(actual.map(key));
  return { add: desired.filter((r) => !have.has(key(r))), remove: actual.filter((r) => !want.has(key(r)) && !desired.some((d) => d.dst === r.dst)) };
}

/** Chain of the masquerade rules (nat table of iptables and of ip6tables). */
export const MASQ_CHAIN = 'NODELET-POD-MASQ';
/** Comment of the POSTROUTING rule that jumps to {@link MASQ_CHAIN}: the only POSTROUTING rule the agent owns. */
export const MASQ_HOOK_COMMENT = 'nodelet pod network masquerade';

const MULTICAST: Record<4 | 6, string> = { 4: '224.0.0.0/4', 6: 'ff00::/8' };

/**
 * iptables-restore (family 4) or ip6tables-restore (family 6) input (nat table, --noflush) for the masquerade of pod
 * traffic leaving the cluster CIDR: pod to pod stays unmasqueraded, pod to anything else (other than multicast) is
 * masqueraded. Only the CIDRs of `family` are used; the chain is rewritten whole (its rules only).
 */
export function masqueradeRestore(clusterCIDRs: readonly string[], family: 4 | 6 = 4): string {
  const cidrs = clusterCIDRs.filter((c) => familyOf(c) === family);
  const lines = ['*nat', `:${MASQ_CHAIN} - [0:0]`, `-F ${MASQ_CHAIN}`];
  for (const c of cidrs) lines.push(`-A ${MASQ_CHAIN} -s ${c} -d ${c} -m comment --comment "nodelet pod network: pod to pod" -j RETURN`);
  for (const c of cidrs) {
    lines.push(`-A ${MASQ_CHAIN} -s ${c} ! -d ${MULTICAST[family]} -m comment --comment "nodelet pod network: leaving the cluster CIDR" -j MASQUERADE --random-fully`);
  }
  lines.push('COMMIT', '');
  return lines.join('\n');
}

/** iptables/ip6tables arguments of the POSTROUTING hook: `op` -C (check), -A (append) or -D (delete). */
export function masqueradeHookArgs(op: '-C' | '-A' | '-D'): string[] {
  return ['-t', 'nat', op, 'POSTROUTING', '-m', 'comment', '--comment', MASQ_HOOK_COMMENT, '-j', MASQ_CHAIN];
}
