/**
 * Service → per-port proxy information (upstream BaseServicePortInfo). Pure; bad fields are skipped with a reason
 * the caller can log, never thrown.
 */
import ipaddr from 'ipaddr.js';
import type { ServiceObject } from './apitypes.js';
import { SERVICE_PROXY_NAME_LABEL } from './apitypes.js';
import { serviceChainNames, type ServiceChainNames } from './names.js';
import { topologyRequested } from './topology.js';

/** IP family handled by one proxier instance. */
export type IPFamily = 'IPv4' | 'IPv6';
/** Protocols as written in iptables rules. */
export type Protocol = 'tcp' | 'udp' | 'sctp';

/** Everything the rules of one service port depend on. Plain data: equal JSON ⇔ equal rules. */
export interface ServicePortInfo {
  /** `ns/name`. */
  service: string;
  /** `ns/name` or `ns/name:port` (upstream ServicePortName.String()). */
  name: string;
  portName: string;
  protocol: Protocol;
  clusterIP: string;
  port: number;
  nodePort: number;
  externalIPs: string[];
  loadBalancerVIPs: string[];
  loadBalancerSourceRanges: string[];
  sessionAffinityClientIP: boolean;
  stickyMaxAgeSeconds: number;
  externallyAccessible: boolean;
  externalPolicyLocal: boolean;
  internalPolicyLocal: boolean;
  healthCheckNodePort: number;
  /** The service asks for topology-aware routing (zone hints; see topology.ts). */
  topologyAware: boolean;
  chains: ServiceChainNames;
}

/** Default ClientIP affinity timeout (3 h). */
export const DEFAULT_STICKY_SECONDS = 10800;

function familyOf(ip: string): IPFamily | undefined {
  if (!ipaddr.isValid(ip)) return undefined;
  return ipaddr.parse(ip).kind() === 'ipv4' ? 'IPv4' : 'IPv6';
}

function ipsOfFamily(ips: readonly (string | undefined)[] | undefined, family: IPFamily): string[] {
  const out: string[] = [];
  for (const ip of ips ?? []) {
    if (ip !== undefined && familyOf(ip) === family) out.push(ipaddr.parse(ip).toString());
  }
  return out;
}

function cidrsOfFamily(cidrs: readonly string[], family: IPFamily): string[] {
  const out: string[] = [];
  for (const c of cidrs) {
    try {
      const [addr, len] = ipaddr.parseCIDR(c.trim());
      if ((addr.kind() === 'ipv4') === (family === 'IPv4')) out.push(`${addr.toString()}/${len}`);
    } catch {
      // invalid source ranges are ignored like upstream (the API server validates them)
    }
  }
  return out;
}

/** Reason a service produces no ports, or undefined when it is proxied. */
export function skipReason(svc: ServiceObject): string | undefined {
  if (svc.metadata?.labels?.[SERVICE_PROXY_NAME_LABEL] !== undefined) return 'service-proxy-name label set';
  if (svc.spec?.type === 'ExternalName') return 'ExternalName service';
  const ip = svc.spec?.clusterIP;
  if (ip === undefined || ip === '' || ip === 'None') return 'headless or no cluster IP';
  return undefined;
}

/**
 * Ports of a service for one IP family, keyed by service port name. Empty when the service is headless,
 * ExternalName, opted out, or has no cluster IP of this family.
 */
export function servicePorts(svc: ServiceObject, family: IPFamily): Map<string, ServicePortInfo> {
  const out = new Map<string, ServicePortInfo>();
  if (skipReason(svc) !== undefined) return out;
  const spec = svc.spec ?? {};
  const clusterIP = ipsOfFamily(spec.clusterIPs?.length ? spec.clusterIPs : [spec.clusterIP], family)[0];
  if (clusterIP === undefined) return out;
  const service = `${svc.metadata?.namespace ?? ''}/${svc.metadata?.name ?? ''}`;
  const type = spec.type ?? 'ClusterIP';
  const externalIPs = ipsOfFamily(spec.externalIPs, family);
  const isLB = type === 'LoadBalancer';
  const lbVIPs = isLB
    ? ipsOfFamily((svc.status?.loadBalancer?.ingress ?? []).filter((i) => i.ipMode !== 'Proxy').map((i) => i.ip), family)
    : [];
  const ranges = spec.loadBalancerSourceRanges?.length
    ? spec.loadBalancerSourceRanges
    : (svc.metadata?.annotations?.['service.beta.kubernetes.io/load-balancer-source-ranges'] ?? '').split(',').filter((s) => s.trim() !== '');
  const externallyAccessible = isLB || type === 'NodePort' || externalIPs.length > 0;
  const externalPolicyLocal = externallyAccessible && spec.externalTrafficPolicy === 'Local';
  const affinity = spec.sessionAffinity === 'ClientIP';
  const topologyAware = topologyRequested(svc);
  for (const p of spec.ports ?? []) {
    const port = p.port ?? 0;
    if (!Number.isInteger(port) || port <= 0 || port > 65535) continue;
    const proto = (p.protocol ?? 'TCP').toLowerCase();
    if (proto !== 'tcp' && proto !== 'udp' && proto !== 'sctp') continue;
    const portName = p.name ?? '';
    const name = portName === '' ? service : `${service}:${portName}`;
    out.set(name, {
      service,
      name,
      portName,
      protocol: proto,
      clusterIP,
      port,
      nodePort: type === 'NodePort' || isLB ? (p.nodePort ?? 0) : 0,
      externalIPs,
      loadBalancerVIPs: lbVIPs,
      loadBalancerSourceRanges: isLB ? cidrsOfFamily(ranges, family) : [],
      sessionAffinityClientIP: affinity,
      stickyMaxAgeSeconds: affinity ? (spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? DEFAULT_STICKY_SECONDS) : 0,
      externallyAccessible,
      externalPolicyLocal,
      internalPolicyLocal: spec.internalTrafficPolicy === 'Local',
      healthCheckNodePort: isLB && externalPolicyLocal ? (spec.healthCheckNodePort ?? 0) : 0,
      topologyAware,
      chains: serviceChainNames(name, proto),
    });
  }
  return out;
}

/** Upstream UsesClusterEndpoints: ITP Cluster, or any external access (needed for short-circuiting). */
export function usesClusterEndpoints(s: ServicePortInfo): boolean {
  return !s.internalPolicyLocal || s.externallyAccessible;
}

/** Upstream UsesLocalEndpoints. */
export function usesLocalEndpoints(s: ServicePortInfo): boolean {
  return s.internalPolicyLocal || s.externalPolicyLocal;
}
