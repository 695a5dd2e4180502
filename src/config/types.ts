/**
 * The validated, defaulted, typed configuration of a nodelet process. Built once at the edge (src/cli) from the
 * config file documents and the flags; everything inside nodelet reads these types and never re-validates.
 * Durations are milliseconds, quantities are numbers (bytes, millicores).
 */
import type { KubeProxyConfigurationDoc } from './proxy-schema.js';
import type { Threshold } from './quantity.js';

/** The roles one nodelet process can run. */
export type RoleName = 'kubelet' | 'proxy';

/** Resources set aside for the system or for Kubernetes daemons (kubeReserved / systemReserved). */
export interface ResourceReservation {
  cpuMilli: number;
  memoryBytes: number;
  ephemeralStorageBytes: number;
  pids: number;
}

/** Hard eviction thresholds by signal (only the signals that are set). */
export type EvictionThresholds = Partial<
  Record<
    | 'memory.available'
    | 'nodefs.available'
    | 'nodefs.inodesFree'
    | 'imagefs.available'
    | 'imagefs.inodesFree'
    | 'pid.available',
    Threshold
  >
>;

/** A taint to register the node with. */
export interface TaintSetting {
  key: string;
  value?: string;
  effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
}

/** Kubelet role settings (upstream KubeletConfiguration + kubelet flags), defaulted. */
export interface KubeletSettings {
  /** Directory of static pod manifests ('' = none). */
  staticPodPath: string;
  /** URL of a static pod manifest ('' = none). */
  staticPodURL: string;
  staticPodURLHeader: Record<string, string[]>;
  syncFrequencyMs: number;
  fileCheckFrequencyMs: number;
  httpCheckFrequencyMs: number;
  nodeStatusUpdateFrequencyMs: number;
  nodeStatusReportFrequencyMs: number;
  nodeLeaseDurationSeconds: number;
  maxPods: number;
  /** -1 = unlimited. */
  podPidsLimit: number;
  clusterDNS: string[];
  clusterDomain: string;
  resolvConf: string;
  podInfraContainerImage: string;
  containerRuntimeEndpoint: string;
  runtimeRequestTimeoutMs: number;
  registerNode: boolean;
  registerWithTaints: TaintSetting[];
  /** Labels from --node-labels (added to the Node's own labels). */
  nodeLabels: Record<string, string>;
  /** 0 disables the health server. */
  healthzPort: number;
  healthzBindAddress: string;
  failSwapOn: boolean;
  kubeReserved: ResourceReservation;
  systemReserved: ResourceReservation;
  evictionHard: EvictionThresholds;
  serializeImagePulls: boolean;
  maxParallelImagePulls: number;
  registryPullQPS: number;
  registryBurst: number;
  kubeAPIQPS: number;
  kubeAPIBurst: number;
  imageGCHighThresholdPercent: number;
  imageGCLowThresholdPercent: number;
  containerLogMaxSizeBytes: number;
  containerLogMaxFiles: number;
  cgroupDriver: 'cgroupfs' | 'systemd';
  featureGates: Record<string, boolean>;
}

/** Proxy role settings (upstream KubeProxyConfiguration + kube-proxy flags), defaulted. */
export interface ProxySettings {
  mode: 'iptables';
  /** Pod CIDRs from clusterCIDR (comma-separated upstream), [] when unset. */
  clusterCIDRs: string[];
  /** CIDRs (or "primary") NodePorts answer on; [] = all local addresses. */
  nodePortAddresses: string[];
  masqueradeAll: boolean;
  masqueradeBit: number;
  localhostNodePorts: boolean;
  syncPeriodMs: number;
  minSyncPeriodMs: number;
  /** `ip:port` of the proxy health server ('' = off); upstream default 0.0.0.0:10256. */
  healthzBindAddress: string;
  /** `ip:port` of the proxy metrics server ('' = off); upstream default 127.0.0.1:10249. */
  metricsBindAddress: string;
  conntrack: {
    maxPerCore: number;
    min: number;
    tcpEstablishedTimeoutMs: number;
    tcpCloseWaitTimeoutMs: number;
  };
  /** --cleanup: remove the proxy's rules and exit. */
  cleanup: boolean;
  featureGates: Record<string, boolean>;
  /** The validated document (file overlaid with flags), for mapping into src/proxy's ProxyConfig. */
  document: Partial<KubeProxyConfigurationDoc>;
}

/** Logging settings. */
export interface LogSettings {
  /** pino level. */
  level: string;
  /** 'json' always, 'text' human (pino-pretty), 'auto' human on a TTY. */
  format: 'json' | 'text' | 'auto';
}

/** Everything a nodelet process needs, validated and defaulted. */
export interface NodeletConfig {
  roles: Record<RoleName, boolean>;
  /** Path of the kubeconfig; undefined = standalone mode (static pods only, no registration, no proxy). */
  kubeconfig: string | undefined;
  /** The node's name: --hostname-override or the host name, lowercased. */
  nodeName: string;
  /** --node-ip, when given. */
  nodeIP: string | undefined;
  rootDir: string;
  log: LogSettings;
  kubelet: KubeletSettings;
  proxy: ProxySettings;
  /** Non-fatal findings (fields accepted without effect, …) to log once at startup. */
  warnings: string[];
}
