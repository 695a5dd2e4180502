/**
 * Builds the one {@link NodeletConfig} of a process from flags and the `--config` file: file documents are validated
 * on load, flags are turned into partial documents and validated by the same strict schemas (errors name the flag),
 * flags override the file, upstream defaults fill the rest, then cross-field rules are checked. Everything throws
 * ConfigError before anything starts.
 */
import { isIP } from 'node:net';
import { ConfigError } from '../util/errors.js';
import { levelFromVerbosity } from '../util/logger.js';
import { kubeletSettings, NODELET_DEFAULTS, proxySettings } from './defaults.js';
import { convertFlag, type RawFlag } from './flag-values.js';
import { FLAGS, flagForField } from './flags.js';
import { describeIssues } from './issues.js';
import {
  KUBELET_API_VERSION,
  KUBELET_FIELDS_WITHOUT_EFFECT,
  KUBELET_KIND,
  kubeletConfigurationSchema,
  type KubeletConfigurationDoc,
} from './kubelet-schema.js';
import { loadConfigFile, type ConfigDocuments } from './load.js';
import { networkSettings } from './network.js';
import { checkPodLogsDir } from './pod-logs-dir.js';
import {
  PROXY_API_VERSION,
  PROXY_FIELDS_WITHOUT_EFFECT,
  PROXY_KIND,
  kubeProxyConfigurationSchema,
  type KubeProxyConfigurationDoc,
} from './proxy-schema.js';
import type { ContainerGCSettings, NodeletConfig, RoleName } from './types.js';
import { parseDuration } from './duration.js';

/** Inputs of {@link resolveConfig}. */
export interface ResolveInput {
  /** Flag values by flag name without dashes (`max-pods`); absent flags are undefined. */
  flags: Readonly<Record<string, RawFlag | undefined>>;
  /** The host name (default node name). */
  hostname: string;
  /** Reads `--config` (default: loadConfigFile); injectable for tests. */
  readConfig?: (path: string) => ConfigDocuments;
}

const ROLE_NAMES: readonly RoleName[] = ['kubelet', 'proxy'];
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'];
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

function setPath(obj: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let cur = obj;
  for (const key of path.slice(0, -1)) {
    const next = (cur[key] ??= {}) as Record<string, unknown>;
    cur = next;
  }
  cur[path[path.length - 1] ?? ''] = value;
}

function flagDocuments(flags: ResolveInput['flags']): { kubelet: Record<string, unknown>; proxy: Record<string, unknown> } {
  const docs = {
    kubelet: { apiVersion: KUBELET_API_VERSION, kind: KUBELET_KIND } as Record<string, unknown>,
    proxy: { apiVersion: PROXY_API_VERSION, kind: PROXY_KIND } as Record<string, unknown>,
  };
  for (const spec of FLAGS) {
    const raw = flags[spec.name];
    if (raw === undefined || spec.target === undefined) continue;
    setPath(docs[spec.target.doc], spec.target.path, convertFlag(spec, raw));
  }
  return docs;
}

function validateFlags<T>(
  schema: typeof kubeletConfigurationSchema | typeof kubeProxyConfigurationSchema,
  doc: 'kubelet' | 'proxy',
  input: Record<string, unknown>,
): T {
  const r = schema.safeParse(input);
  if (r.success) return r.data as T;
  const problems = describeIssues(schema, input, r.error.issues, (f) => `flag ${flagForField(doc, f) ?? f}`);
  const first = problems[0];
  throw new ConfigError(`invalid flags: ${problems.map((x) => x.message).join('; ')}`, {
    field: first === undefined ? undefined : (flagForField(doc, first.field) ?? first.field),
  });
}

/** File document overlaid with flag values (nested sections merged one level deep). */
function overlay<T extends object>(file: T | undefined, flags: T): T {
  const out: Record<string, unknown> = { ...(file ?? {}) };
  for (const [key, v] of Object.entries(flags)) {
    const prev = out[key];
    const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
    out[key] = isObj(prev) && isObj(v) && key !== 'staticPodURLHeader' ? { ...prev, ...v } : v;
  }
  return out as T;
}

function str(flags: ResolveInput['flags'], name: string): string | undefined {
  const v = flags[name];
  const spec = FLAGS.find((f) => f.name === name);
  if (v === undefined || spec === undefined) return undefined;
  return convertFlag(spec, v) as string;
}

function roles(flags: ResolveInput['flags'], kubeconfig: string | undefined, cleanup: boolean): Record<RoleName, boolean> {
  const listed = flags['roles'] === undefined ? undefined : (convertFlag({ name: 'roles', kind: 'list', help: '', group: 'general' }, flags['roles']) as string[]);
  if (cleanup) return { kubelet: false, proxy: true };
  if (listed === undefined) return { kubelet: true, proxy: kubeconfig !== undefined };
  const out: Record<RoleName, boolean> = { kubelet: false, proxy: false };
  for (const r of listed) {
    if (!ROLE_NAMES.includes(r as RoleName)) {
      throw new ConfigError(`flag --roles: unknown role "${r}" (allowed values: ${ROLE_NAMES.join(', ')})`, { field: '--roles' });
    }
    out[r as RoleName] = true;
  }
  if (!out.kubelet && !out.proxy) {
    throw new ConfigError(`flag --roles: at least one role is required (allowed values: ${ROLE_NAMES.join(', ')})`, { field: '--roles' });
  }
  if (out.proxy && kubeconfig === undefined) {
    throw new ConfigError('flag --roles: the proxy role needs an API server; give --kubeconfig or drop "proxy" from --roles', { field: '--roles' });
  }
  return out;
}

function nodeLabels(flags: ResolveInput['flags']): Record<string, string> {
  const raw = flags['node-labels'];
  const spec = FLAGS.find((f) => f.name === 'node-labels');
  if (raw === undefined || spec === undefined) return {};
  const labels = convertFlag(spec, raw) as Record<string, string>;
  for (const [key, v] of Object.entries(labels)) {
    if (!LABEL_KEY.test(key)) throw new ConfigError(`flag --node-labels: "${key}" is not a valid label key ([prefix/]name, name ≤ 63 chars of [A-Za-z0-9-_.])`, { field: '--node-labels' });
    if (!LABEL_VALUE.test(v)) throw new ConfigError(`flag --node-labels: value "${v}" of "${key}" is not a valid label value (≤ 63 chars of [A-Za-z0-9-_.], alphanumeric at both ends)`, { field: '--node-labels' });
  }
  return labels;
}

function logSettings(flags: ResolveInput['flags'], kubelet: Partial<KubeletConfigurationDoc>): NodeletConfig['log'] {
  const level = str(flags, 'log-level');
  if (level !== undefined && !LOG_LEVELS.includes(level)) {
    throw new ConfigError(`flag --log-level: unknown level "${level}" (allowed values: ${LOG_LEVELS.join(', ')})`, { field: '--log-level' });
  }
  const vRaw = flags['v'];
  let v = kubelet.logging?.verbosity ?? 0;
  if (vRaw !== undefined) {
    v = Number(Array.isArray(vRaw) ? vRaw[vRaw.length - 1] : vRaw);
    if (!Number.isInteger(v) || v < 0 || v > 10) {
      throw new ConfigError(`flag --v: expected an integer from 0 to 10 (got ${JSON.stringify(vRaw)})`, { field: '--v' });
    }
  }
  const format = str(flags, 'logging-format') ?? kubelet.logging?.format ?? 'auto';
  if (format !== 'json' && format !== 'text' && format !== 'auto') {
    throw new ConfigError(`flag --logging-format: unknown format "${format}" (allowed values: json, text)`, { field: '--logging-format' });
  }
  return { level: level ?? levelFromVerbosity(v), format };
}

/** The deprecated container GC flags (upstream keeps them; no KubeletConfiguration fields exist for them). */
const CONTAINER_GC_FLAGS = ['minimum-container-ttl-duration', 'maximum-dead-containers-per-container', 'maximum-dead-containers'] as const;

/** The container GC policy from its deprecated flags, with upstream defaults (0s, 1, -1). Throws ConfigError. */
function containerGcFlags(flags: ResolveInput['flags']): ContainerGCSettings {
  const int = (name: string, dflt: number): number => {
    const spec = FLAGS.find((f) => f.name === name);
    const raw = flags[name];
    if (raw === undefined || spec === undefined) return dflt;
    const v = convertFlag(spec, raw);
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || Math.abs(v) > 2 ** 31 - 1) {
      throw new ConfigError(`flag --${name}: expected an integer (got ${JSON.stringify(raw)})`, { field: `--${name}` });
    }
    return v;
  };
  const ttl = str(flags, 'minimum-container-ttl-duration');
  const minAgeMs = ttl === undefined ? 0 : parseDuration(ttl);
  if (minAgeMs === undefined) {
    throw new ConfigError(`flag --minimum-container-ttl-duration: invalid minimum garbage collection age "${ttl}" (a non-negative duration such as "300ms", "10s" or "2h45m")`, { field: '--minimum-container-ttl-duration' });
  }
  return { minAgeMs, maxPerPodContainer: int('maximum-dead-containers-per-container', 1), maxContainers: int('maximum-dead-containers', -1) };
}

function warnings(kubelet: Partial<KubeletConfigurationDoc>, proxy: Partial<KubeProxyConfigurationDoc>): string[] {
  const out: string[] = [];
  for (const f of KUBELET_FIELDS_WITHOUT_EFFECT) if (kubelet[f] !== undefined) out.push(`KubeletConfiguration field "${f}" is accepted but has no effect in nodelet`);
  for (const f of PROXY_FIELDS_WITHOUT_EFFECT) if (proxy[f] !== undefined) out.push(`KubeProxyConfiguration field "${f}" is accepted but has no effect in nodelet`);
  return out;
}

/** Validates and merges flags and config file into the typed configuration. Throws ConfigError. */
export function resolveConfig(input: ResolveInput): NodeletConfig {
  const { flags } = input;
  const configPath = str(flags, 'config');
  const file: ConfigDocuments = configPath === undefined ? {} : (input.readConfig ?? loadConfigFile)(configPath);
  const fd = flagDocuments(flags);
  const kubeletDoc = overlay(file.kubelet, validateFlags<KubeletConfigurationDoc>(kubeletConfigurationSchema, 'kubelet', fd.kubelet));
  const proxyDoc = overlay(file.proxy, validateFlags<KubeProxyConfigurationDoc>(kubeProxyConfigurationSchema, 'proxy', fd.proxy));

  const kubeconfig = str(flags, 'kubeconfig') || proxyDoc.clientConnection?.kubeconfig || undefined;
  const cleanup = flags['cleanup'] === undefined ? false : (convertFlag({ name: 'cleanup', kind: 'bool', help: '', group: 'proxy' }, flags['cleanup']) as boolean);
  const nodeName = (str(flags, 'hostname-override') || proxyDoc.hostnameOverride || input.hostname).trim().toLowerCase();
  if (!DNS1123_SUBDOMAIN.test(nodeName) || nodeName.length > 253) {
    throw new ConfigError(`node name "${nodeName}" (from --hostname-override or the host name) is not a valid DNS subdomain (lowercase letters, digits, "-" and ".")`, { field: '--hostname-override' });
  }
  const nodeIP = str(flags, 'node-ip');
  if (nodeIP !== undefined && isIP(nodeIP) === 0) {
    throw new ConfigError(`flag --node-ip: expected an IP address such as "192.168.1.10" (got "${nodeIP}")`, { field: '--node-ip' });
  }
  const kubelet = kubeletSettings(kubeletDoc, {
    podInfraContainerImage: str(flags, 'pod-infra-container-image'),
    nodeLabels: nodeLabels(flags),
    containerGC: containerGcFlags(flags),
  });
  if (kubelet.imageGCLowThresholdPercent >= kubelet.imageGCHighThresholdPercent) {
    throw new ConfigError(`field "imageGCLowThresholdPercent" (--image-gc-low-threshold) ${kubelet.imageGCLowThresholdPercent} must be less than "imageGCHighThresholdPercent" (--image-gc-high-threshold) ${kubelet.imageGCHighThresholdPercent}`, { field: 'imageGCLowThresholdPercent' });
  }
  for (const signal of Object.keys(kubelet.evictionSoft)) {
    if (kubelet.evictionSoftGracePeriodMs[signal] === undefined) {
      throw new ConfigError(`field "evictionSoft": no grace period specified for soft eviction threshold ${signal} (set "evictionSoftGracePeriod")`, { field: `evictionSoft.${signal}` });
    }
  }
  if (kubelet.shutdownGracePeriodCriticalPodsSeconds > kubelet.shutdownGracePeriodSeconds) {
    throw new ConfigError(`field "shutdownGracePeriodCriticalPods" (${kubelet.shutdownGracePeriodCriticalPodsSeconds}s) must be <= "shutdownGracePeriod" (${kubelet.shutdownGracePeriodSeconds}s)`, { field: 'shutdownGracePeriodCriticalPods' });
  }
  if (kubelet.shutdownGracePeriodByPodPriority.length > 0 && kubelet.shutdownGracePeriodSeconds > 0) {
    throw new ConfigError('field "shutdownGracePeriodByPodPriority": cannot be set together with "shutdownGracePeriod" / "shutdownGracePeriodCriticalPods"', { field: 'shutdownGracePeriodByPodPriority' });
  }
  if (Object.keys(kubeletDoc.qosReserved ?? {}).length > 0) {
    // Upstream: alpha, only acted on with the QOSReserved feature gate (off by default in v1.33). Not implemented here.
    const gate = kubelet.featureGates['QOSReserved'] === true ? 'is enabled, but' : 'is off by default (upstream then ignores the field), and';
    throw new ConfigError(`field "qosReserved": QoS memory reservation is alpha upstream; its feature gate QOSReserved ${gate} nodelet does not implement it: remove "qosReserved"`, { field: 'qosReserved' });
  }
  const enforce = kubelet.enforceNodeAllocatable;
  if (enforce.includes('none') && enforce.length > 1) {
    throw new ConfigError('field "enforceNodeAllocatable" (--enforce-node-allocatable) may not contain additional enforcements when "none" is specified', { field: 'enforceNodeAllocatable' });
  }
  for (const level of enforce.filter((l) => l === 'kube-reserved' || l === 'system-reserved')) {
    throw new ConfigError(`field "enforceNodeAllocatable" (--enforce-node-allocatable): "${level}" enforcement needs a ${level === 'kube-reserved' ? 'kubeReservedCgroup' : 'systemReservedCgroup'}, which nodelet does not support (use "pods")`, { field: 'enforceNodeAllocatable' });
  }
  if (kubelet.containerLogMonitorIntervalMs < 3000) {
    throw new ConfigError(`field "containerLogMonitorInterval" (${kubelet.containerLogMonitorIntervalMs / 1000}s) must be a positive time duration greater than or equal to 3s`, { field: 'containerLogMonitorInterval' });
  }
  checkPodLogsDir(kubelet.podLogsDir);
  if (kubelet.imageMaximumGCAgeMs !== 0 && kubelet.imageMaximumGCAgeMs <= kubelet.imageMinimumGCAgeMs) {
    throw new ConfigError(`field "imageMaximumGCAge" (${kubelet.imageMaximumGCAgeMs / 1000}s) must be greater than "imageMinimumGCAge" (${kubelet.imageMinimumGCAgeMs / 1000}s)`, { field: 'imageMaximumGCAge' });
  }
  const proxy = proxySettings(proxyDoc, cleanup);
  if (proxy.minSyncPeriodMs > proxy.syncPeriodMs) {
    throw new ConfigError(`field "iptables.minSyncPeriod" must not be greater than "iptables.syncPeriod"`, { field: 'iptables.minSyncPeriod' });
  }
  return {
    roles: roles(flags, kubeconfig, cleanup),
    kubeconfig,
    nodeName,
    nodeIP,
    rootDir: str(flags, 'root-dir') || NODELET_DEFAULTS.rootDir,
    bootstrapKubeconfig: str(flags, 'bootstrap-kubeconfig') || undefined,
    certDir: str(flags, 'cert-dir') || `${str(flags, 'root-dir') || NODELET_DEFAULTS.rootDir}/pki`,
    log: logSettings(flags, kubeletDoc),
    kubelet,
    proxy,
    network: networkSettings(flags),
    warnings: [
      ...warnings(kubeletDoc, proxyDoc),
      // Upstream's pflag deprecation notice, word for word.
      ...CONTAINER_GC_FLAGS.filter((f) => flags[f] !== undefined).map((f) => `Flag --${f} has been deprecated, Use --eviction-hard or --eviction-soft instead. Will be removed in a future version.`),
    ],
  };
}
