/**
 * Upstream defaults (KubeletConfiguration v1beta1, KubeProxyConfiguration v1alpha1) applied to validated documents,
 * producing the typed settings. Pure functions: documents in, settings out.
 */
import { parseDuration } from './duration.js';
import type { KubeletConfigurationDoc } from './kubelet-schema.js';
import type { KubeProxyConfigurationDoc } from './proxy-schema.js';
import { parseQuantity } from '../util/quantity.js';
import { parseThreshold, type Threshold } from './quantity.js';
import type { ContainerGCSettings, EvictionThresholds, KubeletServerSettings, KubeletSettings, ProxySettings, ResourceReservation } from './types.js';

/** nodelet's defaults for settings that are flags only upstream. */
export const NODELET_DEFAULTS = {
  rootDir: '/var/lib/nodelet',
  podInfraContainerImage: 'localhost/nodelet/pause:3.9',
  containerRuntimeEndpoint: 'unix:///var/run/docker.sock',
} as const;

/** Upstream DefaultPodLogsDir. */
export const DEFAULT_POD_LOGS_DIR = '/var/log/pods';

/** Upstream default hard eviction thresholds. */
export const DEFAULT_EVICTION_HARD: Readonly<Record<string, string>> = {
  'memory.available': '100Mi',
  'nodefs.available': '10%',
  'nodefs.inodesFree': '5%',
  'imagefs.available': '15%',
};

const ms = (text: string | undefined, fallback: string): number => parseDuration(text ?? fallback) ?? 0;
/** As upstream's defaulting (`if obj.X == zeroDuration { obj.X = default }`): "0s" (kubeadm writes it) means the default. */
const msz = (text: string | undefined, fallback: string): number => ms(text, fallback) || ms(undefined, fallback);

function reservation(list: Partial<Record<string, string>> | undefined): ResourceReservation {
  const q = (key: string): number => parseQuantity(list?.[key] ?? '0') ?? 0;
  return {
    cpuMilli: Math.round(q('cpu') * 1000),
    memoryBytes: Math.round(q('memory')),
    ephemeralStorageBytes: Math.round(q('ephemeral-storage')),
    pids: Math.round(q('pid')),
  };
}

function eviction(map: Partial<Record<string, string>> | undefined): EvictionThresholds {
  const out: Record<string, Threshold> = {};
  for (const [signal, text] of Object.entries(map ?? DEFAULT_EVICTION_HARD)) {
    const t = text === undefined ? undefined : parseThreshold(text);
    if (t !== undefined) out[signal] = t;
  }
  return out as EvictionThresholds;
}

/** Process-level kubelet inputs that come from flags only. */
export interface KubeletFlagExtras {
  podInfraContainerImage?: string;
  nodeLabels?: Record<string, string>;
  /** From the deprecated container GC flags (no KubeletConfiguration fields). */
  containerGC?: ContainerGCSettings;
}

/** Applies upstream defaults to a (possibly empty) KubeletConfiguration. */
export function kubeletSettings(doc: Partial<KubeletConfigurationDoc>, extras: KubeletFlagExtras = {}): KubeletSettings {
  return {
    staticPodPath: doc.staticPodPath ?? '',
    staticPodURL: doc.staticPodURL ?? '',
    staticPodURLHeader: doc.staticPodURLHeader ?? {},
    syncFrequencyMs: msz(doc.syncFrequency, '1m'),
    fileCheckFrequencyMs: msz(doc.fileCheckFrequency, '20s'),
    httpCheckFrequencyMs: msz(doc.httpCheckFrequency, '20s'),
    nodeStatusUpdateFrequencyMs: msz(doc.nodeStatusUpdateFrequency, '10s'),
    nodeStatusReportFrequencyMs: msz(doc.nodeStatusReportFrequency, '5m'),
    nodeLeaseDurationSeconds: doc.nodeLeaseDurationSeconds ?? 40,
    maxPods: doc.maxPods ?? 110,
    podPidsLimit: doc.podPidsLimit ?? -1,
    allowedUnsafeSysctls: doc.allowedUnsafeSysctls ?? [],
    clusterDNS: doc.clusterDNS ?? [],
    clusterDomain: doc.clusterDomain ?? '',
    resolvConf: doc.resolvConf ?? '/etc/resolv.conf',
    podInfraContainerImage: extras.podInfraContainerImage ?? NODELET_DEFAULTS.podInfraContainerImage,
    containerRuntimeEndpoint: doc.containerRuntimeEndpoint || NODELET_DEFAULTS.containerRuntimeEndpoint,
    runtimeRequestTimeoutMs: msz(doc.runtimeRequestTimeout, '2m'),
    streamingConnectionIdleTimeoutMs: msz(doc.streamingConnectionIdleTimeout, '4h'),
    registerNode: doc.registerNode ?? true,
    registerWithTaints: doc.registerWithTaints ?? [],
    nodeLabels: extras.nodeLabels ?? {},
    containerGC: extras.containerGC ?? { minAgeMs: 0, maxPerPodContainer: 1, maxContainers: -1 },
    healthzPort: doc.healthzPort ?? 10248,
    healthzBindAddress: doc.healthzBindAddress ?? '127.0.0.1',
    failSwapOn: doc.failSwapOn ?? true,
    kubeReserved: reservation(doc.kubeReserved),
    systemReserved: reservation(doc.systemReserved),
    evictionHard: eviction(doc.evictionHard),
    evictionSoft: eviction(doc.evictionSoft ?? {}),
    evictionSoftGracePeriodMs: Object.fromEntries(Object.entries(doc.evictionSoftGracePeriod ?? {}).map(([s, d]) => [s, ms(d, '0s')])),
    evictionMinimumReclaim: eviction(doc.evictionMinimumReclaim ?? {}),
    evictionPressureTransitionPeriodMs: ms(doc.evictionPressureTransitionPeriod, '5m'),
    evictionMaxPodGracePeriodSeconds: doc.evictionMaxPodGracePeriod ?? 0,
    shutdownGracePeriodSeconds: Math.round(ms(doc.shutdownGracePeriod, '0s') / 1000),
    shutdownGracePeriodCriticalPodsSeconds: Math.round(ms(doc.shutdownGracePeriodCriticalPods, '0s') / 1000),
    shutdownGracePeriodByPodPriority: doc.shutdownGracePeriodByPodPriority ?? [],
    serializeImagePulls: doc.serializeImagePulls ?? true,
    maxParallelImagePulls: doc.maxParallelImagePulls ?? 1,
    registryPullQPS: doc.registryPullQPS ?? 5,
    registryBurst: doc.registryBurst ?? 10,
    kubeAPIQPS: doc.kubeAPIQPS ?? 50,
    kubeAPIBurst: doc.kubeAPIBurst ?? 100,
    imageGCHighThresholdPercent: doc.imageGCHighThresholdPercent ?? 85,
    imageGCLowThresholdPercent: doc.imageGCLowThresholdPercent ?? 80,
    imageMinimumGCAgeMs: msz(doc.imageMinimumGCAge, '2m'),
    imageMaximumGCAgeMs: ms(doc.imageMaximumGCAge, '0s'),
    containerLogMaxSizeBytes: parseQuantity(doc.containerLogMaxSize ?? '10Mi') ?? 10 * 2 ** 20,
    containerLogMaxFiles: doc.containerLogMaxFiles ?? 5,
    containerLogMonitorIntervalMs: ms(doc.containerLogMonitorInterval, '10s'),
    // As upstream's defaulting: an empty podLogsDir means the default.
    podLogsDir: doc.podLogsDir || DEFAULT_POD_LOGS_DIR,
    cgroupDriver: doc.cgroupDriver ?? 'cgroupfs',
    cgroupsPerQOS: doc.cgroupsPerQOS ?? true,
    cgroupRoot: doc.cgroupRoot ?? '/',
    enforceNodeAllocatable: doc.enforceNodeAllocatable ?? ['pods'],
    cpuCFSQuota: doc.cpuCFSQuota ?? true,
    featureGates: doc.featureGates ?? {},
    rotateCertificates: doc.rotateCertificates ?? false,
    server: serverSettings(doc),
  };
}

/** The kubelet API server settings with the KubeletConfiguration v1beta1 defaults (secure, with or without a file). */
export function serverSettings(doc: Partial<KubeletConfigurationDoc>): KubeletServerSettings {
  return {
    enabled: doc.enableServer ?? true,
    address: doc.address ?? '0.0.0.0',
    port: doc.port ?? 10250,
    readOnlyPort: doc.readOnlyPort ?? 0,
    tlsCertFile: doc.tlsCertFile ?? '',
    tlsPrivateKeyFile: doc.tlsPrivateKeyFile ?? '',
    tlsMinVersion: doc.tlsMinVersion ?? '',
    tlsCipherSuites: doc.tlsCipherSuites ?? [],
    clientCAFile: doc.authentication?.x509?.clientCAFile ?? '',
    webhookAuthentication: doc.authentication?.webhook?.enabled ?? true,
    webhookAuthenticationCacheTTLMs: msz(doc.authentication?.webhook?.cacheTTL, '2m'),
    anonymousAuthentication: doc.authentication?.anonymous?.enabled ?? false,
    authorizationMode: doc.authorization?.mode ?? 'Webhook',
    authorizedTTLMs: msz(doc.authorization?.webhook?.cacheAuthorizedTTL, '5m'),
    unauthorizedTTLMs: msz(doc.authorization?.webhook?.cacheUnauthorizedTTL, '30s'),
    enableDebuggingHandlers: doc.enableDebuggingHandlers ?? true,
    enableSystemLogHandler: doc.enableSystemLogHandler ?? true,
    serverTLSBootstrap: doc.serverTLSBootstrap ?? false,
  };
}

/** Applies upstream defaults to a (possibly empty) KubeProxyConfiguration. */
export function proxySettings(doc: Partial<KubeProxyConfigurationDoc>, cleanup = false): ProxySettings {
  return {
    mode: doc.mode === 'nftables' ? 'nftables' : 'iptables',
    clusterCIDRs: (doc.clusterCIDR ?? '')
      .split(',')
      .map((c) => c.trim())
      .filter((c) => c !== ''),
    nodePortAddresses: doc.nodePortAddresses ?? [],
    masqueradeAll: doc.iptables?.masqueradeAll ?? false,
    masqueradeBit: doc.iptables?.masqueradeBit ?? 14,
    localhostNodePorts: doc.iptables?.localhostNodePorts ?? true,
    syncPeriodMs: ms(doc.iptables?.syncPeriod, '30s'),
    minSyncPeriodMs: ms(doc.iptables?.minSyncPeriod, '1s'),
    healthzBindAddress: doc.healthzBindAddress ?? '0.0.0.0:10256',
    metricsBindAddress: doc.metricsBindAddress ?? '127.0.0.1:10249',
    conntrack: {
      maxPerCore: doc.conntrack?.maxPerCore ?? 32768,
      min: doc.conntrack?.min ?? 131072,
      tcpEstablishedTimeoutMs: ms(doc.conntrack?.tcpEstablishedTimeout, '24h'),
      tcpCloseWaitTimeoutMs: ms(doc.conntrack?.tcpCloseWaitTimeout, '1h'),
    },
    cleanup,
    featureGates: doc.featureGates ?? {},
    document: doc,
  };
}
