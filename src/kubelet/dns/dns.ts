/**
 * The sandbox DNS configuration for a pod (upstream pkg/kubelet/network/dns GetPodDNS): policy ClusterFirst,
 * ClusterFirstWithHostNet, Default and None, merged with spec.dnsConfig, then cut to resolver limits with a
 * DNSConfigForming warning.
 */
import type { V1Pod, V1PodDNSConfigOption } from '@kubernetes/client-node';
import type { DnsConfig } from '../../cri/types.js';
import type { ResolvConf } from './resolvconf.js';

/** Max nameservers a resolver uses. */
export const MAX_DNS_NAMESERVERS = 3;
/** Max search domains (current upstream, glibc ≥ 2.26). */
export const MAX_DNS_SEARCH_PATHS = 32;
/** Max characters of the search line. */
export const MAX_DNS_SEARCH_LIST_CHARS = 2048;
const MAX_DOMAIN_LENGTH = 253;

/** A warning to be recorded as an event on the pod. */
export interface DnsWarning {
  reason: 'DNSConfigForming' | 'MissingClusterDNS';
  message: string;
  /** Also to be recorded on the Node with this message (upstream does so for MissingClusterDNS). */
  nodeMessage?: string;
}

/** Node-level DNS settings. */
export interface DnsSettings {
  clusterDNS: readonly string[];
  clusterDomain: string;
  /** The host's parsed resolv.conf; undefined when resolvConf is "" (upstream: use the node's own resolver). */
  host: ResolvConf | undefined;
  /** Node IPs (for the "" resolvConf fallback to localhost of the right family). */
  nodeIPs: readonly string[];
}

type DnsType = 'none' | 'cluster' | 'host';

function dnsType(pod: V1Pod): DnsType {
  switch (pod.spec?.dnsPolicy ?? 'ClusterFirst') {
    case 'None':
      return 'none';
    case 'ClusterFirstWithHostNet':
      return 'cluster';
    case 'Default':
      return 'host';
    case 'ClusterFirst':
      return pod.spec?.hostNetwork === true ? 'host' : 'cluster';
    default:
      return 'cluster';
  }
}

function unique(list: readonly string[]): string[] {
  return [...new Set(list)];
}

/** Merges options given as strings with pod dnsConfig options (pod ones override by name). */
export function mergeDnsOptions(existing: readonly string[], pod: readonly V1PodDNSConfigOption[]): string[] {
  const byName = new Map<string, string>();
  for (const o of existing) {
    const i = o.indexOf(':');
    if (i === -1) byName.set(o, '');
    else byName.set(o.slice(0, i), o.slice(i + 1));
  }
  for (const o of pod) byName.set(o.name ?? '', o.value ?? '');
  return [...byName].map(([k, v]) => (v === '' ? k : `${k}:${v}`));
}

/** Cuts the search list to the resolver limits (count, 253-char domains, line length). */
export function fitSearches(searches: readonly string[], warn: (w: DnsWarning) => void): string[] {
  let exceeded = false;
  let out = searches.slice();
  if (out.length > MAX_DNS_SEARCH_PATHS) {
    out = out.slice(0, MAX_DNS_SEARCH_PATHS);
    exceeded = true;
  }
  const kept = out.filter((s) => s.length <= MAX_DOMAIN_LENGTH);
  if (kept.length !== out.length) exceeded = true;
  out = kept;
  const lineLen = out.join(' ').length;
  if (lineLen > MAX_DNS_SEARCH_LIST_CHARS) {
    let cut = 0;
    let cutLen = 0;
    for (let i = out.length - 1; i >= 0; i--) {
      cutLen += (out[i]?.length ?? 0) + 1;
      cut++;
      if (lineLen - cutLen <= MAX_DNS_SEARCH_LIST_CHARS) break;
    }
    out = out.slice(0, out.length - cut);
    exceeded = true;
  }
  if (exceeded) {
    warn({
      reason: 'DNSConfigForming',
      message: `Search Line limits were exceeded, some search paths have been omitted, the applied search line is: ${out.join(' ')}`,
    });
  }
  return out;
}

function fitNameservers(servers: readonly string[], warn: (w: DnsWarning) => void): string[] {
  if (servers.length <= MAX_DNS_NAMESERVERS) return servers.slice();
  const out = servers.slice(0, MAX_DNS_NAMESERVERS);
  warn({
    reason: 'DNSConfigForming',
    message: `Nameserver limits were exceeded, some nameservers have been omitted, the applied nameserver line is: ${out.join(' ')}`,
  });
  return out;
}

/**
 * The pod's DNS config and any warnings to record. Pure.
 * ClusterFirst without clusterDNS falls back to Default with a MissingClusterDNS warning (as upstream).
 */
export function podDnsConfig(pod: V1Pod, s: DnsSettings): { config: DnsConfig; warnings: DnsWarning[] } {
  const warnings: DnsWarning[] = [];
  const warn = (w: DnsWarning): void => void warnings.push(w);
  let cfg: DnsConfig = {
    servers: [...(s.host?.nameservers ?? [])],
    searches: [...(s.host?.searches ?? [])],
    options: [...(s.host?.options ?? [])],
  };
  let type = dnsType(pod);
  if (type === 'none') cfg = { servers: [], searches: [], options: [] };
  if (type === 'cluster') {
    if (s.clusterDNS.length > 0) {
      const d = s.clusterDomain;
      const ns = pod.metadata?.namespace ?? '';
      cfg = {
        servers: [...s.clusterDNS],
        searches: d === '' ? cfg.searches : unique([`${ns}.svc.${d}`, `svc.${d}`, d, ...cfg.searches]),
        options: ['ndots:5'],
      };
    } else {
      const nodeMessage =
        'kubelet does not have ClusterDNS IP configured and cannot create Pod using "ClusterFirst" policy. Falling back to "Default" policy.';
      const full = `${pod.metadata?.name ?? ''}_${pod.metadata?.namespace ?? ''}(${pod.metadata?.uid ?? ''})`;
      warn({ reason: 'MissingClusterDNS', message: `pod: "${full}". ${nodeMessage}`, nodeMessage });
      type = 'host';
    }
  }
  if (type === 'host' && s.host === undefined) {
    cfg.servers = s.nodeIPs.map((ip) => (ip.includes(':') ? '::1' : '127.0.0.1'));
    if (cfg.servers.length === 0) cfg.servers = ['127.0.0.1'];
    cfg.searches = ['.'];
  }
  const pc = pod.spec?.dnsConfig;
  if (pc !== undefined) {
    cfg = {
      servers: unique([...cfg.servers, ...(pc.nameservers ?? [])]),
      searches: unique([...cfg.searches, ...(pc.searches ?? [])]),
      options: mergeDnsOptions(cfg.options, pc.options ?? []),
    };
  }
  return {
    config: { servers: fitNameservers(cfg.servers, warn), searches: fitSearches(cfg.searches, warn), options: cfg.options },
    warnings,
  };
}

