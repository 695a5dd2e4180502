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
    | 'allocatableMemory.available'
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

/** The kubelet API server (port 10250) settings, defaulted as KubeletConfiguration v1beta1 (not the legacy flags). */
export interface KubeletServerSettings {
  /** enableServer: serve the kubelet API at all (default true). */
  enabled: boolean;
  /** address (default 0.0.0.0). */
  address: string;
  /** port (default 10250); reported in the Node's status.daemonEndpoints.kubeletEndpoint.Port. */
  port: number;
  /** readOnlyPort: plain-HTTP read-only API without authentication, 0 = off (default). */
  readOnlyPort: number;
  /** tlsCertFile / tlsPrivateKeyFile ('' = self-signed in <root-dir>/pki, or serverTLSBootstrap). */
  tlsCertFile: string;
  tlsPrivateKeyFile: string;
  /** tlsMinVersion (Go name, e.g. VersionTLS12; '' = Node's default). */
  tlsMinVersion: string;
  /** tlsCipherSuites (Go/IANA names; [] = Node's default). */
  tlsCipherSuites: string[];
  /** authentication.x509.clientCAFile ('' = no client certificates). */
  clientCAFile: string;
  /** authentication.webhook.enabled (default true) and cacheTTL (default 2m). */
  webhookAuthentication: boolean;
  webhookAuthenticationCacheTTLMs: number;
  /** authentication.anonymous.enabled (default false). */
  anonymousAuthentication: boolean;
  /** authorization.mode (default Webhook) and the webhook cache TTLs (5m / 30s). */
  authorizationMode: 'AlwaysAllow' | 'Webhook';
  authorizedTTLMs: number;
  unauthorizedTTLMs: number;
  /** enableDebuggingHandlers: /run, /exec, /attach, /portForward, /containerLogs, /logs (default true). */
  enableDebuggingHandlers: boolean;
  /** enableSystemLogHandler: /logs/ (default true). */
  enableSystemLogHandler: boolean;
  /** serverTLSBootstrap (default false). */
  serverTLSBootstrap: boolean;
}

/** Kubelet role settings (upstream KubeletConfiguration + kubelet flags), defaulted. */
/**
 * Upstream kubecontainer.GCPolicy from the deprecated kubelet flags --minimum-container-ttl-duration,
 * --maximum-dead-containers-per-container and --maximum-dead-containers.
 */
export interface ContainerGCSettings {
  /** Minimum age of a dead container before it may be removed (default 0). */
  minAgeMs: number;
  /** Dead containers kept per (pod, container name); negative = no limit (default 1). */
  maxPerPodContainer: number;
  /** Dead containers kept in total; negative = no limit (default -1). */
  maxContainers: number;
}

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
  /** Unsafe sysctls (or `prefix.*` patterns) pods may set besides the safe set (allowedUnsafeSysctls). */
  allowedUnsafeSysctls: string[];
  clusterDNS: string[];
  clusterDomain: string;
  resolvConf: string;
  podInfraContainerImage: string;
  containerRuntimeEndpoint: string;
  runtimeRequestTimeoutMs: number;
  /** Idle exec/attach/port-forward connections are closed after this long (upstream default 4h). */
  streamingConnectionIdleTimeoutMs: number;
  registerNode: boolean;
  registerWithTaints: TaintSetting[];
  /** Labels from --node-labels (added to the Node's own labels). */
  nodeLabels: Record<string, string>;
  /** Container garbage collection policy (deprecated upstream flags; KubeletConfiguration has no fields for it). */
  containerGC: ContainerGCSettings;
  /** 0 disables the health server. */
  healthzPort: number;
  healthzBindAddress: string;
  failSwapOn: boolean;
  kubeReserved: ResourceReservation;
  systemReserved: ResourceReservation;
  evictionHard: EvictionThresholds;
  /** evictionSoft: thresholds that evict after their grace period (evictionSoftGracePeriod). */
  evictionSoft: EvictionThresholds;
  /** evictionSoftGracePeriod in ms by signal. */
  evictionSoftGracePeriodMs: Partial<Record<string, number>>;
  /** evictionMinimumReclaim by signal. */
  evictionMinimumReclaim: EvictionThresholds;
  /** evictionPressureTransitionPeriod (default 5m). */
  evictionPressureTransitionPeriodMs: number;
  /** evictionMaxPodGracePeriod in seconds for soft evictions (default 0). */
  evictionMaxPodGracePeriodSeconds: number;
  /** shutdownGracePeriod in seconds (0 = graceful node shutdown off). */
  shutdownGracePeriodSeconds: number;
  /** shutdownGracePeriodCriticalPods in seconds (part of shutdownGracePeriod). */
  shutdownGracePeriodCriticalPodsSeconds: number;
  /** shutdownGracePeriodByPodPriority. */
  shutdownGracePeriodByPodPriority: { priority: number; shutdownGracePeriodSeconds: number }[];
  serializeImagePulls: boolean;
  maxParallelImagePulls: number;
  registryPullQPS: number;
  registryBurst: number;
  kubeAPIQPS: number;
  kubeAPIBurst: number;
  imageGCHighThresholdPercent: number;
  imageGCLowThresholdPercent: number;
  /** imageMinimumGCAge: images detected more recently are not collected for disk space (default 2m). */
  imageMinimumGCAgeMs: number;
  /** imageMaximumGCAge: images unused for longer are collected whatever the disk usage; 0 = off (default). */
  imageMaximumGCAgeMs: number;
  containerLogMaxSizeBytes: number;
  containerLogMaxFiles: number;
  /** containerLogMonitorInterval: how often CRI container logs are checked for rotation (default 10s, ≥ 3s). */
  containerLogMonitorIntervalMs: number;
  /** podLogsDir: root of the pod log directories `<podLogsDir>/<ns>_<name>_<uid>` (default /var/log/pods; absolute, normalized). */
  podLogsDir: string;
  cgroupDriver: 'cgroupfs' | 'systemd';
  /** cgroupsPerQOS: the kubepods / QoS / pod cgroup hierarchy (default true). */
  cgroupsPerQOS: boolean;
  /** cgroupRoot: where `kubepods` is created (default `/`). */
  cgroupRoot: string;
  /** enforceNodeAllocatable (default [pods]): `pods` limits `kubepods` to node allocatable. */
  enforceNodeAllocatable: string[];
  /** cpuCFSQuota: enforce CPU limits with CFS quota (default true). */
  cpuCFSQuota: boolean;
  featureGates: Record<string, boolean>;
  /** The kubelet API server (port 10250). */
  server: KubeletServerSettings;
  /** rotateCertificates: request a new client certificate before the current one expires. */
  rotateCertificates: boolean;
}

/** Proxy role settings (upstream KubeProxyConfiguration + kube-proxy flags), defaulted. */
export interface ProxySettings {
  mode: 'iptables' | 'nftables';
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

/** Pod network settings (CNI for the Docker backend, the built-in host-gw pod network). */
export interface NetworkSettings {
  /** --network-plugin: 'auto' = cni when the config dir holds a config or a pod network is set, else docker. */
  plugin: 'auto' | 'cni' | 'docker';
  cniConfDir: string;
  cniBinDirs: string[];
  cniCacheDir: string;
  /** --pod-network ('' = none). */
  podNetwork: '' | 'host-gw';
  /** Kubeconfig of the route keeper ('' = the node's --kubeconfig). */
  podNetworkKubeconfig: string;
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
  /** --bootstrap-kubeconfig (TLS bootstrap), when given. */
  bootstrapKubeconfig: string | undefined;
  /** --cert-dir (default `<root-dir>/pki`). */
  certDir: string;
  log: LogSettings;
  kubelet: KubeletSettings;
  proxy: ProxySettings;
  network: NetworkSettings;
  /** Non-fatal findings (fields accepted without effect, …) to log once at startup. */
  warnings: string[];
}
