/** Pure mapping of a sandbox's settings to CNI runtimeConfig capabilities and CNI_ARGS (as cri-dockerd sets them). */
import { isIP } from 'node:net';
import type { PortMapping } from '../cri/types.js';
import { CniError } from './errors.js';
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

/**
 * Pod annotation asking for specific pod IPs (the `ips` capability). Neither cri-dockerd nor containerd's CRI plugin
 * sets `ips` (they pass portMappings, bandwidth, dns and ipRanges/cgroupPath only); Multus fills it from the `ips` of
 * a `k8s.v1.cni.cncf.io/networks` selection, for additional networks. This annotation is nodelet's own, for the
 * default network. Value: a JSON array (`["10.1.2.3/24", "fd00::3/64"]`) or a comma-separated list.
 */
export const IPS_ANNOTATION = 'cni.nodelet.io/ips';

function validAddress(entry: string): boolean {
  const [addr = '', prefix, extra] = entry.split('/');
  const fam = isIP(addr);
  if (fam === 0 || extra !== undefined) return false;
  if (prefix === undefined) return true;
  const n = Number(prefix);
  return /^[0-9]{1,3}$/.test(prefix) && n <= (fam === 4 ? 32 : 128);
}

/**
 * The `ips` capability (CNI conventions: `runtimeConfig.ips`, addresses in CIDR notation; host-local also accepts a
 * bare address) from the pod's {@link IPS_ANNOTATION}; undefined without it (or when it lists nothing).
 * Throws CniError('bad-config') naming the annotation when it is neither a JSON string array nor a list of addresses,
 * or holds more than one address of a family (a pod has one IP per family).
 */
export function ipsCapability(annotations: Readonly<Record<string, string>>): string[] | undefined {
  const raw = annotations[IPS_ANNOTATION];
  if (raw === undefined) return undefined;
  const field = `metadata.annotations[${IPS_ANNOTATION}]`;
  const bad = (why: string): CniError => new CniError('bad-config', `pod annotation ${IPS_ANNOTATION}=${JSON.stringify(raw)}: ${why}`, { field });
  let entries: unknown[];
  if (raw.trim().startsWith('[')) {
    try {
      entries = JSON.parse(raw) as unknown[];
    } catch {
      throw bad('not a JSON array');
    }
    if (!Array.isArray(entries)) throw bad('not a JSON array');
  } else {
    entries = raw.split(',');
  }
  const ips: string[] = [];
  for (const e of entries) {
    if (typeof e !== 'string') throw bad('entries must be strings');
    const t = e.trim();
    if (t === '') continue;
    if (!validAddress(t)) throw bad(`"${t}" is not an IP address or address/prefix`);
    ips.push(t);
  }
  const families = ips.map((ip) => isIP(ip.split('/')[0] ?? ''));
  if (new Set(families).size !== families.length) throw bad('at most one IPv4 and one IPv6 address');
  return ips.length === 0 ? undefined : ips;
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
