/**
 * Pure parts of the host-gw pod network (what kubenet and flannel's host-gw did): the CNI config for this node's
 * pod CIDRs, the routes to other nodes' pod CIDRs via their InternalIPs, and the masquerade rules.
 */
import { isIP } from 'node:net';

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

function v4ToInt(ip: string): number {
  return ip.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
}

/** True when IPv4 CIDR `inner` lies inside `outer` (IPv6: exact prefix text match of the network part). */
export function cidrWithin(inner: string, outer: string): boolean {
  const [ia = '', ib = ''] = inner.split('/');
  const [oa = '', ob = ''] = outer.split('/');
  if (isIP(ia) !== isIP(oa) || isIP(ia) === 0) return false;
  const il = Number(ib);
  const ol = Number(ob);
  if (!(il >= ol)) return false;
  if (isIP(ia) === 6) return ia.startsWith(oa.replace(/::$/, ':')) || ia === oa;
  const mask = ol === 0 ? 0 : (0xffffffff << (32 - ol)) >>> 0;
  return ((v4ToInt(ia) & mask) >>> 0) === ((v4ToInt(oa) & mask) >>> 0);
}

/**
 * The routes this node wants: each other node's pod CIDR via its InternalIP of the same family. With `clusterCIDRs`
 * given, pod CIDRs outside them are ignored (routes only ever cover the cluster's pod network).
 */
export function desiredRoutes(nodes: readonly NodeRouteInfo[], self: string, clusterCIDRs: readonly string[]): PodRoute[] {
  const out: PodRoute[] = [];
  for (const n of nodes) {
    if (n.name === self) continue;
    for (const dst of n.podCIDRs) {
      if (clusterCIDRs.length > 0 && !clusterCIDRs.some((c) => cidrWithin(dst, c))) continue;
      const fam = dst.includes(':') ? 6 : 4;
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

/** Chain of the masquerade rules (nat table). */
export const MASQ_CHAIN = 'NODELET-POD-MASQ';

/**
 * iptables-restore input (nat table, --noflush) for the masquerade of pod traffic leaving the cluster CIDR: pod to
 * pod stays unmasqueraded, pod to anything else (other than multicast) is masqueraded.
 */
export function masqueradeRestore(clusterCIDRs: readonly string[]): string {
  const lines = ['*nat', `:${MASQ_CHAIN} - [0:0]`, `-F ${MASQ_CHAIN}`];
  for (const c of clusterCIDRs) lines.push(`-A ${MASQ_CHAIN} -s ${c} -d ${c} -m comment --comment "nodelet pod network: pod to pod" -j RETURN`);
  for (const c of clusterCIDRs) {
    lines.push(`-A ${MASQ_CHAIN} -s ${c} ! -d 224.0.0.0/4 -m comment --comment "nodelet pod network: leaving the cluster CIDR" -j MASQUERADE --random-fully`);
  }
  lines.push('COMMIT', '');
  return lines.join('\n');
}
