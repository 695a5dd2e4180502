/**
 * What of a Service or EndpointSlice the proxy skips as invalid (the API server validates these, so they come from
 * a broken or foreign writer): a bad IP, port, node port, protocol or affinity timeout. The proxy drops those parts
 * (serviceport.ts, endpoints.ts) and programs the rest; these pure checks only name them for the log and the
 * `kubeproxy_sync_proxy_rules_invalid_objects_total` metric (nodelet's own: upstream kube-proxy v1.33 has no such
 * metric). Both modes go through {@link InvalidObjectReporter}, which the role calls once per informer event, before
 * the event fans out to the per-family proxiers (so a dual-stack node counts an object once).
 */
import { isIPv4 } from 'node:net';
import ipaddr from 'ipaddr.js';
import type { Logger } from '../util/index.js';
import type { EndpointSliceObject, ServiceObject } from './apitypes.js';
import type { ProxyMetrics } from './metrics.js';

const PROTOCOLS = new Set(['TCP', 'UDP', 'SCTP']);

/** ipaddr.js's kind of `a` ('ipv4' | 'ipv6'), undefined when it is no IP (one parse, not isValid + parse). */
function kindOf(a: string): string | undefined {
  try {
    return ipaddr.parse(a).kind();
  } catch {
    return undefined;
  }
}

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
      const ok = type === 'IPv4' ? isIPv4(a) || kindOf(a) === 'ipv4' : kindOf(a) === 'ipv6';
      if (!ok) out.push(`endpoints[${i}].addresses[${j}]: ${JSON.stringify(a)} is not an ${type} address`);
    }
  }
  return out;
}

/** Options of {@link InvalidObjectReporter}. */
export interface InvalidObjectReporterOptions {
  metrics: Pick<ProxyMetrics, 'invalidObjects'>;
  logger: Logger;
}

/**
 * Logs (warn, naming the object and each bad field) and counts (`kind` = service | endpointslice) every added or
 * updated object with problems; deletions are never counted. The same path for the iptables and nftables modes.
 */
export class InvalidObjectReporter {
  readonly #o: InvalidObjectReporterOptions;

  constructor(options: InvalidObjectReporterOptions) {
    this.#o = options;
  }

  /** A Service added or updated (`obj` undefined when deleted). Returns the problems found. */
  service(key: string, obj: ServiceObject | undefined): string[] {
    const problems = obj === undefined ? [] : serviceProblems(obj);
    if (problems.length > 0) {
      this.#o.metrics.invalidObjects.inc({ kind: 'service' });
      this.#o.logger.warn({ service: key, problems }, 'Skipping the invalid parts of a Service');
    }
    return problems;
  }

  /** An EndpointSlice added or updated (deleted=false) or deleted. Returns the problems found. */
  endpointSlice(slice: EndpointSliceObject, deleted: boolean): string[] {
    const problems = deleted ? [] : sliceProblems(slice);
    if (problems.length > 0) {
      this.#o.metrics.invalidObjects.inc({ kind: 'endpointslice' });
      this.#o.logger.warn({ endpointSlice: `${slice.metadata?.namespace ?? ''}/${slice.metadata?.name ?? ''}`, problems }, 'Skipping the invalid parts of an EndpointSlice');
    }
    return problems;
  }
}
