/**
 * KubeletConfiguration (kubelet.config.k8s.io/v1beta1) as a STRICT zod schema: unknown (misspelled) fields are
 * rejected, types and ranges are checked, every message says what is allowed. All fields are optional as upstream;
 * defaults are applied later (defaults.ts). Fields upstream has but nodelet does not act on are accepted and listed in
 * {@link KUBELET_FIELDS_WITHOUT_EFFECT} so startup can warn about them.
 */
import * as z from 'zod';
import { bool, boolMap, duration, EVICTION_SIGNALS, evictionMap, intRange, ipAddress, oneOf, port, resourceList, str } from './fields.js';

/** apiVersion of the kubelet document. */
export const KUBELET_API_VERSION = 'kubelet.config.k8s.io/v1beta1';
/** kind of the kubelet document. */
export const KUBELET_KIND = 'KubeletConfiguration';

const taint = z.strictObject({
  key: str(),
  value: str().optional(),
  effect: oneOf(['NoSchedule', 'PreferNoSchedule', 'NoExecute']),
});

const authentication = z.strictObject({
  x509: z.strictObject({ clientCAFile: str().optional() }).optional(),
  webhook: z.strictObject({ enabled: bool().optional(), cacheTTL: duration().optional() }).optional(),
  anonymous: z.strictObject({ enabled: bool().optional() }).optional(),
});

const authorization = z.strictObject({
  mode: oneOf(['AlwaysAllow', 'Webhook']).optional(),
  webhook: z
    .strictObject({ cacheAuthorizedTTL: duration().optional(), cacheUnauthorizedTTL: duration().optional() })
    .optional(),
});

const logging = z.strictObject({
  format: oneOf(['text', 'json']).optional(),
  verbosity: intRange(0, 10).optional(),
  flushFrequency: z.union([duration(), z.number()]).optional(),
  options: z.record(z.string(), z.unknown()).optional(),
});

/** The strict KubeletConfiguration schema. */
export const kubeletConfigurationSchema = z.strictObject({
  apiVersion: z.literal(KUBELET_API_VERSION, { error: `allowed values: "${KUBELET_API_VERSION}"` }),
  kind: z.literal(KUBELET_KIND, { error: `allowed values: "${KUBELET_KIND}"` }),
  enableServer: bool().optional(),
  staticPodPath: str().optional(),
  staticPodURL: str().optional(),
  staticPodURLHeader: z.record(z.string(), z.array(str(), { error: 'expected a list of strings' })).optional(),
  syncFrequency: duration().optional(),
  fileCheckFrequency: duration().optional(),
  httpCheckFrequency: duration().optional(),
  address: ipAddress().optional(),
  port: port(false).optional(),
  readOnlyPort: port(true).optional(),
  healthzPort: port(true).optional(),
  healthzBindAddress: ipAddress().optional(),
  tlsCertFile: str().optional(),
  tlsPrivateKeyFile: str().optional(),
  tlsMinVersion: oneOf(['VersionTLS10', 'VersionTLS11', 'VersionTLS12', 'VersionTLS13']).optional(),
  tlsCipherSuites: z.array(str(), { error: 'expected a list of cipher suite names' }).optional(),
  enableSystemLogHandler: bool().optional(),
  rotateCertificates: bool().optional(),
  serverTLSBootstrap: bool().optional(),
  authentication: authentication.optional(),
  authorization: authorization.optional(),
  registryPullQPS: intRange(0, 10000).optional(),
  registryBurst: intRange(0, 10000).optional(),
  eventRecordQPS: intRange(0, 10000).optional(),
  eventBurst: intRange(0, 10000).optional(),
  enableDebuggingHandlers: bool().optional(),
  clusterDomain: str().optional(),
  clusterDNS: z.array(ipAddress(), { error: 'expected a list of IP addresses' }).optional(),
  streamingConnectionIdleTimeout: duration().optional(),
  nodeStatusUpdateFrequency: duration().optional(),
  nodeStatusReportFrequency: duration().optional(),
  nodeLeaseDurationSeconds: intRange(1, 3600).optional(),
  imageMinimumGCAge: duration().optional(),
  imageMaximumGCAge: duration().optional(),
  imageGCHighThresholdPercent: intRange(0, 100).optional(),
  imageGCLowThresholdPercent: intRange(0, 100).optional(),
  volumeStatsAggPeriod: duration().optional(),
  cgroupsPerQOS: bool().optional(),
  cgroupDriver: oneOf(['cgroupfs', 'systemd']).optional(),
  cgroupRoot: str().optional(),
  runtimeRequestTimeout: duration().optional(),
  hairpinMode: oneOf(['promiscuous-bridge', 'hairpin-veth', 'none']).optional(),
  maxPods: intRange(1, 10000).optional(),
  podPidsLimit: intRange(-1, 4194304).optional(),
  allowedUnsafeSysctls: z.array(str(), { error: 'expected a list of sysctl names or patterns' }).optional(),
  resolvConf: str().optional(),
  cpuCFSQuota: bool().optional(),
  maxOpenFiles: intRange(1, 1 << 30).optional(),
  contentType: str().optional(),
  kubeAPIQPS: intRange(0, 10000).optional(),
  kubeAPIBurst: intRange(0, 10000).optional(),
  serializeImagePulls: bool().optional(),
  maxParallelImagePulls: intRange(1, 100).optional(),
  evictionHard: evictionMap().optional(),
  evictionSoft: evictionMap().optional(),
  evictionPressureTransitionPeriod: duration().optional(),
  evictionSoftGracePeriod: z.partialRecord(z.enum(EVICTION_SIGNALS), duration()).optional(),
  evictionMinimumReclaim: evictionMap().optional(),
  evictionMaxPodGracePeriod: intRange(0, 86400).optional(),
  protectKernelDefaults: bool().optional(),
  makeIPTablesUtilChains: bool().optional(),
  featureGates: boolMap().optional(),
  failSwapOn: bool().optional(),
  containerLogMaxSize: str().optional(),
  containerLogMaxFiles: intRange(2, 1000).optional(),
  containerLogMonitorInterval: duration().optional(),
  // Checked at resolve time (absolute, normalized, ASCII), as upstream's validation.
  podLogsDir: str().optional(),
  systemReserved: resourceList().optional(),
  kubeReserved: resourceList().optional(),
  enforceNodeAllocatable: z.array(oneOf(['pods', 'system-reserved', 'kube-reserved', 'none'])).optional(),
  // Parsed so it can be refused by name at start (resolve.ts): alpha upstream, behind the QOSReserved gate.
  qosReserved: z.record(z.string(), z.string()).optional(),
  shutdownGracePeriod: duration().optional(),
  shutdownGracePeriodCriticalPods: duration().optional(),
  shutdownGracePeriodByPodPriority: z
    .array(z.strictObject({ priority: z.number().int(), shutdownGracePeriodSeconds: z.number().int().min(0) }))
    .optional(),
  logging: logging.optional(),
  registerNode: bool().optional(),
  registerWithTaints: z.array(taint, { error: 'expected a list of taints' }).optional(),
  containerRuntimeEndpoint: str().optional(),
  nodeStatusMaxImages: intRange(-1, 1000).optional(),
  // Written by kubeadm (/var/lib/kubelet/config.yaml); accepted without effect.
  cpuManagerReconcilePeriod: duration().optional(),
  crashLoopBackOff: z.strictObject({ maxContainerRestartPeriod: duration().optional() }).optional(),
  memorySwap: z.strictObject({ swapBehavior: oneOf(['NoSwap', 'LimitedSwap']).optional() }).optional(),
});

/** A validated (not yet defaulted) KubeletConfiguration document. */
export type KubeletConfigurationDoc = z.infer<typeof kubeletConfigurationSchema>;

/** Fields accepted for compatibility that nodelet does not act on (startup logs a warning when they are set). */
export const KUBELET_FIELDS_WITHOUT_EFFECT: readonly (keyof KubeletConfigurationDoc)[] = [
  'cpuManagerReconcilePeriod',
  'crashLoopBackOff',
  'memorySwap',
  'volumeStatsAggPeriod',
  'hairpinMode',
  'cpuCFSQuota',
  'maxOpenFiles',
  'contentType',
  'protectKernelDefaults',
  'makeIPTablesUtilChains',
  'nodeStatusMaxImages',
  'kubeAPIQPS',
  'kubeAPIBurst',
  'registryPullQPS',
  'registryBurst',
  'eventRecordQPS',
  'eventBurst',
  'serializeImagePulls',
  'maxParallelImagePulls',
  'featureGates',
];
