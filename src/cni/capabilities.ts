/** Pure mapping of a sandbox's settings to CNI runtimeConfig capabilities and CNI_ARGS (as cri-dockerd sets them). */
import type { PortMapping } from '../cri/types.js';
import type { SandboxNetworkRef } from './pod-network.js';
import type { CniBandwidth, CniPortMapping } from './types.js';

/** Pod annotations of the bandwidth plugin (upstream kubelet names). */
export const INGRESS_BANDWIDTH_ANNOTATION = 'kubernetes.io/ingress-bandwidth';
export const EGRESS_BANDWIDTH_ANNOTATION = 'kubernetes.io/egress-bandwidth';

/** The `portMappings` capability: only mappings with a host port. */
export function portMappingsCapability(mappings: readonly PortMapping[]): CniPortMapping[] {
  return mappings
    .filter((m) => m.hostPort > 0)
    .map((m) => ({
      hostPort: m.hostPort,
      containerPort: m.containerPort,
      protocol: m.protocol.toLowerCase() as CniPortMapping['protocol'],
      ...(m.hostIp !== undefined && m.hostIp !== '' ? { hostIP: m.hostIp } : {}),
    }));
}

const SUFFIX: Record<string, number> = { '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };

/** A Kubernetes quantity (`10M`, `1Gi`, `500k`) as a number; undefined when not one. */
export function parseRate(q: string): number | undefined {
  const m = /^([0-9]+(?:\.[0-9]+)?)(k|M|G|T|Ki|Mi|Gi|Ti)?$/.exec(q.trim());
  if (m === null) return undefined;
  return Math.round(Number(m[1]) * (SUFFIX[m[2] ?? ''] ?? 1));
}

/** The `bandwidth` capability from the pod's annotations (burst unlimited, as upstream); undefined without them. */
export function bandwidthCapability(annotations: Readonly<Record<string, string>>): CniBandwidth | undefined {
  const out: CniBandwidth = {};
  const ingress = annotations[INGRESS_BANDWIDTH_ANNOTATION];
  const egress = annotations[EGRESS_BANDWIDTH_ANNOTATION];
  const i = ingress === undefined ? undefined : parseRate(ingress);
  const e = egress === undefined ? undefined : parseRate(egress);
  if (i !== undefined) Object.assign(out, { ingressRate: i, ingressBurst: 2 ** 31 - 1 });
  if (e !== undefined) Object.assign(out, { egressRate: e, egressBurst: 2 ** 31 - 1 });
  return Object.keys(out).length === 0 ? undefined : out;
}

/** CNI_ARGS of a pod sandbox, as cri-dockerd passes them. */
export function podCniArgs(s: SandboxNetworkRef): [string, string][] {
  return [
    ['IgnoreUnknown', '1'],
    ['K8S_POD_NAMESPACE', s.namespace],
    ['K8S_POD_NAME', s.name],
    ['K8S_POD_INFRA_CONTAINER_ID', s.id],
    ['K8S_POD_UID', s.uid],
  ];
}
