/**
 * Pod admission on the node (upstream pkg/kubelet/lifecycle/predicate.go GeneralPredicates, the parts that apply to
 * one node), checked in upstream order and reporting the first failure: OS, resources (pods, cpu, memory,
 * ephemeral-storage against the node's allocatable minus the requests of the admitted pods), node selector /
 * required node affinity, host port conflicts, untolerated NoExecute taints (not for static pods). A rejected pod is
 * never run; it gets phase Failed with reason = the predicate (`OutOfcpu`, `NodeAffinity`, …) and message
 * `Pod was rejected: <message>`. Pure.
 */
import type { V1NodeSelectorRequirement, V1Pod, V1Taint } from '@kubernetes/client-node';
import { errorMessage } from '../../util/errors.js';
import { isTerminalPhase } from '../status/phase.js';
import { isStaticPod } from '../sources/static-pod.js';
import { podSysctls } from '../security/sysctls.js';
import { insufficientResources, untoleratedNoExecuteTaint } from './admission-fit.js';
import { rejectedFields } from '../podfields/index.js';

/** Why a pod was rejected. */
export interface Rejection {
  /**
   * `PodOSNotSupported`, `OutOfpods`, `OutOfcpu`, `OutOfmemory`, `OutOfephemeral-storage`, `NodeAffinity`,
   * `NodePorts`, `TaintToleration`, `UnexpectedAdmissionError` (an unparsable quantity).
   */
  reason: string;
  message: string;
}

/** What admission knows about the node. */
export interface AdmissionContext {
  nodeLabels: Record<string, string>;
  /** Pods already admitted and not terminal (the candidate excluded). */
  activePods: V1Pod[];
  /** maxPods; the node's allocatable `pods`, when given, wins. */
  maxPods: number;
  /** The Node's status.allocatable; undefined (no Node yet, standalone) = cpu/memory/storage are not checked. */
  allocatable?: Record<string, string>;
  /** The Node's spec.taints; only NoExecute ones matter to the kubelet. */
  taints?: V1Taint[];
  /** allowedUnsafeSysctls (names or `prefix*` patterns) besides the safe set. */
  allowedUnsafeSysctls?: readonly string[];
}

/** Upstream InsufficientResourceError.Error(). */
function insufficientMessage(resource: string, requested: number, used: number, capacity: number): string {
  return `Node didn't have enough resource: ${resource}, requested: ${requested}, used: ${used}, capacity: ${capacity}`;
}

/** Upstream PredicateFailureError: reason = predicate name, message `Predicate <name> failed: <desc>`. */
function predicateFailure(name: string, desc: string): Rejection {
  return { reason: name, message: `Predicate ${name} failed: ${desc}` };
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

function resourceRejection(pod: V1Pod, active: V1Pod[], ctx: AdmissionContext): Rejection | undefined {
  const podsCap = Number(ctx.allocatable?.pods ?? ctx.maxPods);
  const maxPods = Number.isFinite(podsCap) ? podsCap : ctx.maxPods;
  if (active.length + 1 > maxPods) return { reason: 'OutOfpods', message: insufficientMessage('pods', 1, active.length, maxPods) };
  if (ctx.allocatable === undefined) return undefined;
  let short;
  try {
    short = insufficientResources(pod, active, ctx.allocatable);
  } catch (err) {
    return { reason: 'UnexpectedAdmissionError', message: `Failed to compute the pod's resource requests: ${errorMessage(err)}` };
  }
  const first = short[0];
  if (first === undefined) return undefined;
  return { reason: `OutOf${first.resource}`, message: insufficientMessage(first.resource, first.requested, first.used, first.capacity) };
}

/**
 * The sysctl allowlist admission handler (upstream pkg/kubelet/sysctl/allowlist.go, which runs before the
 * predicates): reason `SysctlForbidden`, message `forbidden sysctl: "<name>" not allowlisted` (or `… not allowed
 * with host net/ipc enabled`).
 */
function sysctlRejection(pod: V1Pod, allowedUnsafe: readonly string[]): Rejection | undefined {
  try {
    podSysctls(pod, allowedUnsafe);
    return undefined;
  } catch (err) {
    const m = errorMessage(err);
    return { reason: 'SysctlForbidden', message: m.startsWith('forbidden sysctl: ') ? m : `forbidden sysctl: ${m.replace(/^sysctl /, '')}` };
  }
}

/** Pure: undefined when the pod can run here, else the first failing predicate (upstream order). */
export function admitPod(pod: V1Pod, ctx: AdmissionContext): Rejection | undefined {
  // Fields of v1.33 nodelet does not implement (src/kubelet/podfields): refused, never run as if absent.
  const field = rejectedFields(pod)[0];
  if (field !== undefined) return { reason: field.reason, message: field.message };
  const sysctl = sysctlRejection(pod, ctx.allowedUnsafeSysctls ?? []);
  if (sysctl !== undefined) return sysctl;
  const active = ctx.activePods.filter((p) => !isTerminalPhase(p.status?.phase));
  const os = pod.spec?.os?.name;
  if (os !== undefined && os !== 'linux') {
    return { reason: 'PodOSNotSupported', message: `Failed to admit pod as the OS field doesn't match node OS` };
  }
  const resources = resourceRejection(pod, active, ctx);
  if (resources !== undefined) return resources;
  if (!matchesNode(pod, ctx.nodeLabels)) return predicateFailure('NodeAffinity', "node(s) didn't match Pod's node affinity/selector");
  const mine = hostPorts(pod);
  if (mine.length > 0) {
    const used = active.flatMap(hostPorts);
    if (mine.some((m) => used.some((u) => conflicts(m, u)))) {
      return predicateFailure('NodePorts', "node(s) didn't have free ports for the requested pod ports");
    }
  }
  if (!isStaticPod(pod) && untoleratedNoExecuteTaint(pod, ctx.taints ?? []) !== undefined) {
    return predicateFailure('TaintToleration', "node(s) had taints that the pod didn't tolerate");
  }
  return undefined;
}
