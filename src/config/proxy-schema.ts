/**
 * KubeProxyConfiguration (kubeproxy.config.k8s.io/v1alpha1) as a STRICT zod schema (see kubelet-schema.ts for the
 * conventions). Only the iptables mode exists in nodelet; other modes are rejected with the allowed values.
 */
import * as z from 'zod';
import { bool, boolMap, duration, hostPort, intRange, ipAddress, isCidr, oneOf, str } from './fields.js';

/** apiVersion of the proxy document. */
export const PROXY_API_VERSION = 'kubeproxy.config.k8s.io/v1alpha1';
/** kind of the proxy document. */
export const PROXY_KIND = 'KubeProxyConfiguration';

/** Modes nodelet's proxy implements ('' = default = iptables). */
export const PROXY_MODES = ['', 'iptables', 'nftables'] as const;

const cidrList = (what: string) =>
  z
    .string({ error: `expected ${what}` })
    .refine((s) => s === '' || s.split(',').every((c) => isCidr(c.trim())), { message: `expected ${what}` });

const nodePortAddress = z
  .string({ error: 'expected a CIDR such as "127.0.0.0/8" or "primary"' })
  .refine((s) => s === 'primary' || isCidr(s), { message: 'expected a CIDR such as "127.0.0.0/8" or "primary"' });

/** The strict KubeProxyConfiguration schema. */
export const kubeProxyConfigurationSchema = z.strictObject({
  apiVersion: z.literal(PROXY_API_VERSION, { error: `allowed values: "${PROXY_API_VERSION}"` }),
  kind: z.literal(PROXY_KIND, { error: `allowed values: "${PROXY_KIND}"` }),
  featureGates: boolMap().optional(),
  clientConnection: z
    .strictObject({
      kubeconfig: str().optional(),
      acceptContentTypes: str().optional(),
      contentType: str().optional(),
      qps: z.number({ error: 'expected a number' }).min(0).optional(),
      burst: intRange(0, 10000).optional(),
    })
    .optional(),
  hostnameOverride: str().optional(),
  bindAddress: ipAddress().optional(),
  healthzBindAddress: hostPort().optional(),
  metricsBindAddress: hostPort().optional(),
  bindAddressHardFail: bool().optional(),
  enableProfiling: bool().optional(),
  showHiddenMetricsForVersion: str().optional(),
  mode: z.enum(PROXY_MODES, { error: 'allowed values: "iptables", "nftables" (or "" for the default, iptables)' }).optional(),
  nftables: z
    .strictObject({
      masqueradeBit: intRange(0, 31).optional(),
      masqueradeAll: bool().optional(),
      syncPeriod: duration().optional(),
      minSyncPeriod: duration().optional(),
    })
    .optional(),
  iptables: z
    .strictObject({
      masqueradeBit: intRange(0, 31).optional(),
      masqueradeAll: bool().optional(),
      localhostNodePorts: bool().optional(),
      syncPeriod: duration().optional(),
      minSyncPeriod: duration().optional(),
    })
    .optional(),
  detectLocalMode: oneOf(['', 'ClusterCIDR', 'NodeCIDR', 'BridgeInterface', 'InterfaceNamePrefix']).optional(),
  detectLocal: z
    .strictObject({ bridgeInterface: str().optional(), interfaceNamePrefix: str().optional() })
    .optional(),
  clusterCIDR: cidrList('a CIDR such as "10.244.0.0/16" (comma-separated for dual-stack)').optional(),
  nodePortAddresses: z.array(nodePortAddress, { error: 'expected a list of CIDRs' }).optional(),
  oomScoreAdj: intRange(-1000, 1000).optional(),
  conntrack: z
    .strictObject({
      maxPerCore: intRange(0, 1 << 30).optional(),
      min: intRange(0, 1 << 30).optional(),
      tcpEstablishedTimeout: duration().optional(),
      tcpCloseWaitTimeout: duration().optional(),
      tcpBeLiberal: bool().optional(),
      udpTimeout: duration().optional(),
      udpStreamTimeout: duration().optional(),
    })
    .optional(),
  configSyncPeriod: duration().optional(),
  portRange: str().optional(),
  logging: z
    .strictObject({
      format: oneOf(['text', 'json']).optional(),
      verbosity: intRange(0, 10).optional(),
      flushFrequency: z.union([duration(), z.number()]).optional(),
      options: z.record(z.string(), z.unknown()).optional(),
    })
    .optional(),
});

/** A validated (not yet defaulted) KubeProxyConfiguration document. */
export type KubeProxyConfigurationDoc = z.infer<typeof kubeProxyConfigurationSchema>;

/** Fields accepted for compatibility that nodelet does not act on. */
export const PROXY_FIELDS_WITHOUT_EFFECT: readonly (keyof KubeProxyConfigurationDoc)[] = [
  'bindAddress',
  'enableProfiling',
  'showHiddenMetricsForVersion',
  'detectLocal',
  'oomScoreAdj',
  'configSyncPeriod',
  'portRange',
  'featureGates',
  'logging',
];
