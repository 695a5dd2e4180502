/**
 * EndpointSlices → endpoints per service port (upstream EndpointSliceCache + CategorizeEndpoints, with zone hints
 * for services that ask for topology-aware routing, see topology.ts). Pure.
 */
import { isIPv4 } from 'node:net';
import ipaddr from 'ipaddr.js';
import type { EndpointSliceObject } from './apitypes.js';
import type { IPFamily, Protocol, ServicePortInfo } from './serviceport.js';
import { usesClusterEndpoints, usesLocalEndpoints } from './serviceport.js';
import { canUseZoneHints, hintedForZone } from './topology.js';

/** One endpoint of one service port. */
export interface EndpointInfo {
  ip: string;
  port: number;
  /** `ip:port` (`[ip]:port` for IPv6), the string hashed into the KUBE-SEP- name. */
  endpoint: string;
  isLocal: boolean;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
  /** Zones of `hints.forZones` (only set when the endpoint has zone hints). */
  zoneHints?: string[];
}

/** Endpoints of a service keyed by `portName/protocol` (the slice port's name and protocol). */
export type ServiceEndpoints = Map<string, EndpointInfo[]>;

/** Key joining a slice port to a service port. */
export function endpointPortKey(portName: string, protocol: Protocol): string {
  return `${portName}/${protocol}`;
}

/**
 * `addr` as ipaddr.js prints it, or undefined when it is no IP. A plain dotted quad (net.isIPv4: no leading zeros)
 * already is in that form, so the common case skips ipaddr.js's parse (two of them per address before).
 */
export function canonicalIP(addr: string): string | undefined {
  if (isIPv4(addr)) return addr;
  try {
    return ipaddr.parse(addr).toString();
  } catch {
    return undefined;
  }
}

/**
 * Merges the slices of one service (upstream: duplicates by ip:port across slices are dropped, endpoints sorted by
 * their `ip:port` string). Only slices of `family` count; an endpoint uses its first address.
 */
export function mergeSlices(slices: Iterable<EndpointSliceObject>, family: IPFamily, nodeName: string): ServiceEndpoints {
  const byPort = new Map<string, Map<string, EndpointInfo>>();
  const wantType = family === 'IPv4' ? 'IPv4' : 'IPv6';
  for (const slice of slices) {
    if (slice.addressType !== wantType) continue;
    for (const p of slice.ports ?? []) {
      const port = p.port ?? 0;
      const proto = (p.protocol ?? 'TCP').toLowerCase();
      if (!Number.isInteger(port) || port <= 0 || port > 65535) continue;
      if (proto !== 'tcp' && proto !== 'udp' && proto !== 'sctp') continue;
      const key = endpointPortKey(p.name ?? '', proto);
      let eps = byPort.get(key);
      if (eps === undefined) byPort.set(key, (eps = new Map()));
      for (const ep of slice.endpoints ?? []) {
        const addr = ep.addresses?.[0];
        const ip = addr === undefined ? undefined : canonicalIP(addr);
        if (ip === undefined) continue;
        const endpoint = family === 'IPv4' ? `${ip}:${port}` : `[${ip}]:${port}`;
        if (eps.has(endpoint)) continue;
        const c = ep.conditions ?? {};
        const zoneHints = Array.isArray(ep.hints?.forZones) ? ep.hints.forZones.map((z) => z?.name).filter((z) => typeof z === 'string' && z !== '') : [];
        eps.set(endpoint, {
          ip,
          port,
          endpoint,
          isLocal: ep.nodeName !== undefined && ep.nodeName === nodeName,
          ready: c.ready === undefined || c.ready === null || c.ready,
          serving: c.serving === undefined || c.serving === null || c.serving,
          terminating: c.terminating === true,
          ...(zoneHints.length > 0 ? { zoneHints } : {}),
        });
      }
    }
  }
  const out: ServiceEndpoints = new Map();
  for (const [key, eps] of byPort) {
    const list = [...eps.values()].sort((a, b) => (a.endpoint < b.endpoint ? -1 : a.endpoint > b.endpoint ? 1 : 0));
    if (list.length > 0) out.set(key, list);
  }
  return out;
}

/** Result of {@link categorizeEndpoints}. */
export interface CategorizedEndpoints {
  cluster: EndpointInfo[];
  local: EndpointInfo[];
  /** Union of the endpoints any policy chain of this service can reach (each gets a KUBE-SEP- chain). */
  allReachable: EndpointInfo[];
  /** True if the service has usable endpoints anywhere (decides REJECT). */
  hasAny: boolean;
}

const servingTerminating = (e: EndpointInfo): boolean => e.serving && e.terminating;

/**
 * Upstream CategorizeEndpoints: ready endpoints (for cluster-wide traffic of a topology-aware service, only those
 * hinted for `zone`, when the hints are usable), falling back to serving+terminating ones when none is ready
 * (separately for the cluster-wide and the node-local set). `zone` is the node's topology.kubernetes.io/zone label.
 */
export function categorizeEndpoints(eps: readonly EndpointInfo[], svc: ServicePortInfo, zone = ''): CategorizedEndpoints {
  let cluster: EndpointInfo[] = [];
  let local: EndpointInfo[] = [];
  let hasAny = false;
  if (usesClusterEndpoints(svc)) {
    const byZone = svc.topologyAware && canUseZoneHints(eps, zone);
    cluster = eps.filter((e) => e.ready && (!byZone || hintedForZone(e, zone)));
    if (cluster.length === 0) cluster = eps.filter(servingTerminating);
    hasAny = cluster.length > 0;
  }
  if (!usesLocalEndpoints(svc)) return { cluster, local, allReachable: cluster, hasAny };
  let localReady = false;
  let localST = false;
  for (const e of eps) {
    if (e.ready) {
      hasAny = true;
      if (e.isLocal) localReady = true;
    } else if (servingTerminating(e)) {
      hasAny = true;
      if (e.isLocal) localST = true;
    }
  }
  if (localReady) local = eps.filter((e) => e.ready && e.isLocal);
  else if (localST) local = eps.filter((e) => e.isLocal && servingTerminating(e));
  if (!usesClusterEndpoints(svc)) return { cluster, local, allReachable: local, hasAny };
  const seen = new Set(cluster.map((e) => e.endpoint));
  const allReachable = [...cluster, ...local.filter((e) => !seen.has(e.endpoint))];
  return { cluster, local, allReachable, hasAny };
}
