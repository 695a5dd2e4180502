/**
 * What of a Service or EndpointSlice the proxy skips as invalid (the API server validates these, so they come from
 * a broken or foreign writer): a bad IP, port, node port, protocol or affinity timeout. The proxy drops those parts
 * (serviceport.ts, endpoints.ts) and programs the rest; these pure checks only name them for the log and the
 * `kubeproxy_sync_proxy_rules_invalid_objects_total` metric.
 */
import ipaddr from 'ipaddr.js';
import type { EndpointSliceObject, ServiceObject } from '../apitypes.js';

const PROTOCOLS = new Set(['TCP', 'UDP', 'SCTP']);

function badPort(p: unknown): boolean {
  return typeof p !== 'number' || !Number.isInteger(p) || p <= 0 || p > 65535;
}

/** Problems of a Service, each naming the field (`spec.ports[0].port: 70000`); empty when it is valid. */
export function serviceProblems(svc: ServiceObject): string[] {
  const spec = svc.spec;
  if (spec === undefined) return [];
  const out: string[] = [];
  const ip = (what: string, v: string | undefined): void => {
    if (v !== undefined && v !== '' && v !== 'None' && !ipaddr.isValid(v)) out.push(`${what}: ${JSON.stringify(v)} is not an IP`);
  };
  ip('spec.clusterIP', spec.clusterIP);
  for (const [i, v] of (spec.clusterIPs ?? []).entries()) ip(`spec.clusterIPs[${i}]`, v);
  for (const [i, v] of (spec.externalIPs ?? []).entries()) ip(`spec.externalIPs[${i}]`, v);
  for (const [i, v] of (svc.status?.loadBalancer?.ingress ?? []).entries()) ip(`status.loadBalancer.ingress[${i}].ip`, v.ip);
  for (const [i, p] of (spec.ports ?? []).entries()) {
    if (badPort(p.port)) out.push(`spec.ports[${i}].port: ${JSON.stringify(p.port)} is not a port`);
    if (p.protocol !== undefined && !PROTOCOLS.has(p.protocol)) out.push(`spec.ports[${i}].protocol: ${JSON.stringify(p.protocol)} is not TCP, UDP or SCTP`);
    if (p.nodePort !== undefined && p.nodePort !== 0 && badPort(p.nodePort)) out.push(`spec.ports[${i}].nodePort: ${JSON.stringify(p.nodePort)} is not a port`);
  }
  const timeout = spec.sessionAffinityConfig?.clientIP?.timeoutSeconds;
  if (spec.sessionAffinity === 'ClientIP' && timeout !== undefined && (!Number.isInteger(timeout) || timeout <= 0 || timeout > 86400)) {
    out.push(`spec.sessionAffinityConfig.clientIP.timeoutSeconds: ${JSON.stringify(timeout)} is not in 1..86400`);
  }
  return out;
}

/** Problems of an EndpointSlice (bad addresses, ports, protocols); empty when it is valid. */
export function sliceProblems(slice: EndpointSliceObject): string[] {
  const out: string[] = [];
  const type = slice.addressType;
  for (const [i, p] of (slice.ports ?? []).entries()) {
    if (p.port !== null && p.port !== undefined && badPort(p.port)) out.push(`ports[${i}].port: ${JSON.stringify(p.port)} is not a port`);
    if (p.protocol !== null && p.protocol !== undefined && !PROTOCOLS.has(p.protocol)) out.push(`ports[${i}].protocol: ${JSON.stringify(p.protocol)} is not TCP, UDP or SCTP`);
  }
  if (type !== 'IPv4' && type !== 'IPv6') return out;
  for (const [i, e] of (slice.endpoints ?? []).entries()) {
    for (const [j, a] of (e.addresses ?? []).entries()) {
      const ok = ipaddr.isValid(a) && (ipaddr.parse(a).kind() === 'ipv4') === (type === 'IPv4');
      if (!ok) out.push(`endpoints[${i}].addresses[${j}]: ${JSON.stringify(a)} is not an ${type} address`);
    }
  }
  return out;
}
