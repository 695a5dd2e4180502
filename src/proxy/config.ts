/**
 * KubeProxyConfiguration (kubeproxy.config.k8s.io/v1alpha1) as a typed plain object, its upstream defaults, and the
 * one validation step that turns it into the resolved form the proxy uses inside.
 */
import { ConfigError } from '../util/index.js';
import ipaddr from 'ipaddr.js';
import type { ConntrackSysctlConfig } from './sysctl.js';

/** How "local" (pod-originated) traffic is recognised; upstream's LocalMode. '' means ClusterCIDR. */
export type DetectLocalMode = '' | 'ClusterCIDR' | 'NodeCIDR' | 'BridgeInterface' | 'InterfaceNamePrefix';

/** The `iptables` section. Durations are Go duration strings ('1s', '30s', '1m30s'). */
export interface ProxyIptablesConfig {
  masqueradeAll: boolean;
  /** Bit of the fwmark used for SNAT marking (0–31); upstream default 14 → 0x4000. */
  masqueradeBit: number;
  minSyncPeriod: string;
  syncPeriod: string;
  /** Allow NodePorts on 127.0.0.1 (sets net.ipv4.conf.all.route_localnet=1). */
  localhostNodePorts: boolean;
}

/** The `conntrack` section: sysctls set at proxy start (see sysctl.ts); 0 / '0s' / false leave an entry alone. */
export interface ProxyConntrackConfig {
  maxPerCore: number;
  min: number;
  tcpEstablishedTimeout: string;
  tcpCloseWaitTimeout: string;
  tcpBeLiberal: boolean;
  udpTimeout: string;
  udpStreamTimeout: string;
}

/** The `detectLocal` section. */
export interface ProxyDetectLocalConfig {
  bridgeInterface: string;
  interfaceNamePrefix: string;
  clusterCIDRs: string[];
}

/** KubeProxyConfiguration, the fields nodelet reads (unknown fields are the parser's business). */
export interface ProxyConfig {
  apiVersion?: string;
  kind?: string;
  bindAddress: string;
  healthzBindAddress: string;
  metricsBindAddress: string;
  bindAddressHardFail: boolean;
  /** Comma-separated cluster CIDR(s); used by detectLocalMode ClusterCIDR. */
  clusterCIDR: string;
  hostnameOverride: string;
  mode: '' | 'iptables' | 'nftables';
  /** CIDRs (or the word 'primary') selecting node addresses that accept NodePorts; empty = all local addresses. */
  nodePortAddresses: string[];
  configSyncPeriod: string;
  iptables: ProxyIptablesConfig;
  conntrack: ProxyConntrackConfig;
  detectLocalMode: DetectLocalMode;
  detectLocal: ProxyDetectLocalConfig;
}

/** Upstream defaults (kube-proxy v1.3x, Linux). Returns a fresh object each call. */
export function defaultProxyConfig(): ProxyConfig {
  return {
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    bindAddress: '0.0.0.0',
    healthzBindAddress: '0.0.0.0:10256',
    metricsBindAddress: '127.0.0.1:10249',
    bindAddressHardFail: false,
    clusterCIDR: '',
    hostnameOverride: '',
    mode: 'iptables',
    nodePortAddresses: [],
    configSyncPeriod: '15m',
    iptables: { masqueradeAll: false, masqueradeBit: 14, minSyncPeriod: '1s', syncPeriod: '30s', localhostNodePorts: true },
    conntrack: {
      maxPerCore: 32768,
      min: 131072,
      tcpEstablishedTimeout: '24h',
      tcpCloseWaitTimeout: '1h',
      tcpBeLiberal: false,
      udpTimeout: '0s',
      udpStreamTimeout: '0s',
    },
    detectLocalMode: 'ClusterCIDR',
    detectLocal: { bridgeInterface: '', interfaceNamePrefix: '', clusterCIDRs: [] },
  };
}

/** A host:port listen address; port 0 = ephemeral; `undefined` = disabled (empty string in config). */
export interface ListenAddress {
  host: string;
  port: number;
}

/** What detects pod-originated traffic, as iptables match arguments (upstream LocalTrafficDetector). */
export interface LocalDetector {
  /** Args matching local (pod) traffic, or null when detection is not implemented (mode without data). */
  ifLocal: string[] | null;
  ifNotLocal: string[] | null;
}

/** The validated, parsed configuration used inside src/proxy. */
export interface ResolvedProxyConfig {
  /** The proxy mode ('' resolves to iptables). */
  mode: 'iptables' | 'nftables';
  masqueradeAll: boolean;
  /** e.g. '0x4000'. */
  masqueradeMark: string;
  minSyncPeriodMs: number;
  syncPeriodMs: number;
  localhostNodePorts: boolean;
  /** Empty (and no `primary`) = all local addresses. */
  nodePortCIDRs: string[];
  /** nodePortAddresses contains 'primary': the node's own IPs accept NodePorts. */
  nodePortPrimary: boolean;
  healthz: ListenAddress | undefined;
  metrics: ListenAddress | undefined;
  bindAddressHardFail: boolean;
  clusterCIDRs: string[];
  localDetector: LocalDetector;
  /** The detector of the IPv6 proxier (dual-stack): cluster/node CIDRs of that family. */
  localDetectorIPv6: LocalDetector;
  tcpBeLiberal: boolean;
  /** Conntrack sysctls to apply at start. */
  conntrack: ConntrackSysctlConfig;
}

const DURATION_UNITS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001, µs: 0.001, ns: 1e-6 };

/** Parses a Go duration string ('1s', '1m30s', '500ms', '0'); throws ConfigError naming `field`. */
export function parseDuration(value: string, field: string): number {
  if (value === '0') return 0;
  const re = /(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)/gy;
  let total = 0;
  let matched = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(value)) !== null) {
    total += Number(m[1]) * (DURATION_UNITS[m[2] ?? 's'] ?? 0);
    matched = re.lastIndex;
  }
  if (value.length === 0 || matched !== value.length) {
    throw new ConfigError(`invalid duration ${JSON.stringify(value)}`, { field });
  }
  return total;
}

/** Parses 'host:port' ('' → undefined, '[::]:10256' for IPv6); throws ConfigError naming `field`. */
export function parseListenAddress(value: string, field: string): ListenAddress | undefined {
  if (value === '') return undefined;
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(value);
  const host = m?.[1] ?? m?.[2];
  const port = Number(m?.[3]);
  if (m === null || host === undefined || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(`invalid address ${JSON.stringify(value)}, want host:port`, { field });
  }
  if (host !== '' && !ipaddr.isValid(host)) {
    throw new ConfigError(`invalid IP ${JSON.stringify(host)} in ${JSON.stringify(value)}`, { field });
  }
  return { host: host === '' ? '0.0.0.0' : host, port };
}

function checkCIDR(cidr: string, field: string): string {
  try {
    const [addr, len] = ipaddr.parseCIDR(cidr);
    return `${addr.toString()}/${len}`;
  } catch (cause) {
    throw new ConfigError(`invalid CIDR ${JSON.stringify(cidr)}`, { field, cause });
  }
}

function localDetectorFor(cfg: ProxyConfig, clusterCIDRs: string[], nodePodCIDRs: string[], family: 'IPv4' | 'IPv6'): LocalDetector {
  const mode = cfg.detectLocalMode === '' ? 'ClusterCIDR' : cfg.detectLocalMode;
  const kind = family === 'IPv4' ? 'ipv4' : 'ipv6';
  const cidrArgs = (cidrs: string[]): LocalDetector => {
    // The first CIDR of this family; a single-stack IPv4 setup keeps its old fallback (the first CIDR at all).
    const first = cidrs.find((c) => ipaddr.parseCIDR(c)[0].kind() === kind) ?? (family === 'IPv4' ? cidrs[0] : undefined);
    return first === undefined ? { ifLocal: null, ifNotLocal: null } : { ifLocal: ['-s', first], ifNotLocal: ['!', '-s', first] };
  };
  switch (mode) {
    case 'ClusterCIDR':
      return cidrArgs(clusterCIDRs);
    case 'NodeCIDR':
      return cidrArgs(nodePodCIDRs);
    case 'BridgeInterface': {
      const br = cfg.detectLocal.bridgeInterface;
      if (br === '') throw new ConfigError('detectLocal.bridgeInterface must be set for BridgeInterface', { field: 'detectLocal.bridgeInterface' });
      return { ifLocal: ['-i', br], ifNotLocal: ['!', '-i', br] };
    }
    case 'InterfaceNamePrefix': {
      const p = cfg.detectLocal.interfaceNamePrefix;
      if (p === '') throw new ConfigError('detectLocal.interfaceNamePrefix must be set for InterfaceNamePrefix', { field: 'detectLocal.interfaceNamePrefix' });
      return { ifLocal: ['-i', `${p}+`], ifNotLocal: ['!', '-i', `${p}+`] };
    }
    default:
      throw new ConfigError(`unknown detectLocalMode ${JSON.stringify(mode)}`, { field: 'detectLocalMode' });
  }
}

/**
 * Validates the semantics nodelet relies on and resolves durations, addresses, CIDRs and the local-traffic detector.
 * Throws ConfigError (code CONFIG_INVALID) naming the field. `nodePodCIDRs` feeds detectLocalMode NodeCIDR.
 */
export function resolveProxyConfig(cfg: ProxyConfig, nodePodCIDRs: string[] = []): ResolvedProxyConfig {
  if (cfg.mode !== '' && cfg.mode !== 'iptables' && cfg.mode !== 'nftables') {
    throw new ConfigError(`unsupported proxy mode ${JSON.stringify(cfg.mode)} (only "iptables" or "nftables")`, { field: 'mode' });
  }
  const bit = cfg.iptables.masqueradeBit;
  if (!Number.isInteger(bit) || bit < 0 || bit > 31) {
    throw new ConfigError('must be within the range [0, 31]', { field: 'iptables.masqueradeBit' });
  }
  const minSyncPeriodMs = parseDuration(cfg.iptables.minSyncPeriod, 'iptables.minSyncPeriod');
  const syncPeriodMs = parseDuration(cfg.iptables.syncPeriod, 'iptables.syncPeriod');
  if (syncPeriodMs <= 0) throw new ConfigError('must be greater than 0', { field: 'iptables.syncPeriod' });
  if (minSyncPeriodMs > syncPeriodMs) {
    throw new ConfigError('must be less than or equal to iptables.syncPeriod', { field: 'iptables.minSyncPeriod' });
  }
  const clusterCIDRs = [
    ...cfg.clusterCIDR.split(',').map((s) => s.trim()).filter((s) => s !== ''),
    ...cfg.detectLocal.clusterCIDRs,
  ].map((c, i) => checkCIDR(c, i === 0 ? 'clusterCIDR' : 'detectLocal.clusterCIDRs'));
  const nodePortCIDRs = cfg.nodePortAddresses
    .filter((a) => a !== 'primary')
    .map((c, i) => checkCIDR(c, `nodePortAddresses[${i}]`));
  const masqueradeMark = `0x${(1 << bit >>> 0).toString(16)}`;
  const podCIDRs = nodePodCIDRs.map((c) => checkCIDR(c, 'node.spec.podCIDRs'));
  return {
    mode: cfg.mode === 'nftables' ? 'nftables' : 'iptables',
    masqueradeAll: cfg.iptables.masqueradeAll,
    masqueradeMark,
    minSyncPeriodMs,
    syncPeriodMs,
    localhostNodePorts: cfg.iptables.localhostNodePorts,
    nodePortCIDRs,
    nodePortPrimary: cfg.nodePortAddresses.includes('primary'),
    healthz: parseListenAddress(cfg.healthzBindAddress, 'healthzBindAddress'),
    metrics: parseListenAddress(cfg.metricsBindAddress, 'metricsBindAddress'),
    bindAddressHardFail: cfg.bindAddressHardFail,
    clusterCIDRs,
    localDetector: localDetectorFor(cfg, clusterCIDRs, podCIDRs, 'IPv4'),
    localDetectorIPv6: localDetectorFor(cfg, clusterCIDRs, podCIDRs, 'IPv6'),
    tcpBeLiberal: cfg.conntrack.tcpBeLiberal,
    conntrack: resolveConntrack(cfg.conntrack),
  };
}

function resolveConntrack(c: ProxyConntrackConfig): ConntrackSysctlConfig {
  const count = (v: number, field: string): number => {
    if (!Number.isInteger(v) || v < 0) throw new ConfigError('must be a non-negative integer', { field });
    return v;
  };
  // Whole seconds, truncated like upstream's int(d / time.Second).
  const secs = (v: string, field: string): number => Math.floor(parseDuration(v, field) / 1000);
  return {
    maxPerCore: count(c.maxPerCore, 'conntrack.maxPerCore'),
    min: count(c.min, 'conntrack.min'),
    tcpEstablishedTimeoutSeconds: secs(c.tcpEstablishedTimeout, 'conntrack.tcpEstablishedTimeout'),
    tcpCloseWaitTimeoutSeconds: secs(c.tcpCloseWaitTimeout, 'conntrack.tcpCloseWaitTimeout'),
    tcpBeLiberal: c.tcpBeLiberal,
    udpTimeoutSeconds: secs(c.udpTimeout, 'conntrack.udpTimeout'),
    udpStreamTimeoutSeconds: secs(c.udpStreamTimeout, 'conntrack.udpStreamTimeout'),
  };
}
