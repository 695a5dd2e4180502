/**
 * Pod admission on the node (upstream pkg/kubelet/lifecycle/predicate.go, the parts that apply to one node):
 * node selector / required node affinity, host port conflicts, pod count, OS. A rejected pod is never run; it gets
 * phase Failed with reason = the predicate name and message `Pod was rejected: <message>`. Pure.
 */
import type { V1NodeSelectorRequirement, V1Pod } from '@kubernetes/client-node';
import { isTerminalPhase } from '../status/phase.js';

/** Why a pod was rejected. */
export interface Rejection {
  /** `NodeAffinity`, `NodePorts`, `OutOfpods`, `PodOSNotSupported`. */
  reason: string;
  message: string;
}

/** What admission knows about the node. */
export interface AdmissionContext {
  nodeLabels: Record<string, string>;
  /** Pods already admitted and not terminal (the candidate excluded). */
  activePods: V1Pod[];
  maxPods: number;
}

function matchExpr(labels: Record<string, string>, r: V1NodeSelectorRequirement): boolean {
  const v = labels[r.key];
  const values = r.values ?? [];
  switch (r.operator) {
    case 'In':
      return v !== undefined && values.includes(v);
    case 'NotIn':
      return v === undefined || !values.includes(v);
    case 'Exists':
      return v !== undefined;
    case 'DoesNotExist':
      return v === undefined;
    case 'Gt':
    case 'Lt': {
      const n = Number(v);
      const t = Number(values[0]);
      if (v === undefined || !Number.isInteger(n) || !Number.isInteger(t)) return false;
      return r.operator === 'Gt' ? n > t : n < t;
    }
    default:
      return false;
  }
}

/** True when the pod's nodeSelector and required node affinity match the node labels. */
export function matchesNode(pod: V1Pod, labels: Record<string, string>): boolean {
  for (const [k, v] of Object.entries(pod.spec?.nodeSelector ?? {})) if (labels[k] !== v) return false;
  const terms = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (terms === undefined || terms.length === 0) return true;
  return terms.some((t) => (t.matchExpressions ?? []).every((e) => matchExpr(labels, e)) &&
    (t.matchFields ?? []).every((e) => e.key !== 'metadata.name' || matchExpr({ 'metadata.name': labels['kubernetes.io/hostname'] ?? '' }, e)));
}

interface HostPort {
  ip: string;
  protocol: string;
  port: number;
}

function hostPorts(pod: V1Pod): HostPort[] {
  const out: HostPort[] = [];
  for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
    for (const p of c.ports ?? []) {
      if (p.hostPort === undefined || p.hostPort === 0) continue;
      out.push({ ip: p.hostIP ?? '0.0.0.0', protocol: p.protocol ?? 'TCP', port: p.hostPort });
    }
  }
  return out;
}

function conflicts(a: HostPort, b: HostPort): boolean {
  if (a.port !== b.port || a.protocol !== b.protocol) return false;
  return a.ip === b.ip || a.ip === '0.0.0.0' || b.ip === '0.0.0.0';
}

/** Pure: undefined when the pod can run here, else the rejection. */
export function admitPod(pod: V1Pod, ctx: AdmissionContext): Rejection | undefined {
  const active = ctx.activePods.filter((p) => !isTerminalPhase(p.status?.phase));
  if (active.length + 1 > ctx.maxPods) {
    return {
      reason: 'OutOfpods',
      message: `Node didn't have enough resource: pods, requested: 1, used: ${active.length}, capacity: ${ctx.maxPods}`,
    };
  }
  const os = pod.spec?.os?.name;
  if (os !== undefined && os !== 'linux') {
    return { reason: 'PodOSNotSupported', message: `Failed to admit pod as the OS field doesn't match node OS` };
  }
  if (!matchesNode(pod, ctx.nodeLabels)) return { reason: 'NodeAffinity', message: 'Predicate NodeAffinity failed' };
  const mine = hostPorts(pod);
  if (mine.length > 0) {
    const used = active.flatMap(hostPorts);
    if (mine.some((m) => used.some((u) => conflicts(m, u)))) return { reason: 'NodePorts', message: 'Predicate NodePorts failed' };
  }
  return undefined;
}
