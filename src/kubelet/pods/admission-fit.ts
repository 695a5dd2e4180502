/**
 * Resource fit and NoExecute taints for pod admission (upstream scheduler noderesources.Fits as called from
 * pkg/kubelet/lifecycle/predicate.go, and corev1 FindMatchingUntoleratedTaint). Pure.
 */
import type { V1Container, V1Pod, V1Taint, V1Toleration } from '@kubernetes/client-node';
import { quantityMilliValue, quantityValue } from '../../util/quantity.js';
import { isSidecar } from './policy.js';

/** The resources admission checks, in upstream order; cpu in millicores, the others in bytes. */
export const FIT_RESOURCES = ['cpu', 'memory', 'ephemeral-storage'] as const;
/** One of {@link FIT_RESOURCES}. */
export type FitResource = (typeof FIT_RESOURCES)[number];
/** Requests as integers: cpu millicores, memory and ephemeral-storage bytes. */
export type Requests = Record<FitResource, number>;

/** A resource the node does not have enough of (upstream InsufficientResourceError). */
export interface Insufficient {
  resource: string;
  requested: number;
  used: number;
  capacity: number;
}

const zero = (): Requests => ({ cpu: 0, memory: 0, 'ephemeral-storage': 0 });

function value(resource: FitResource, q: string | number | undefined, field: string): number {
  return resource === 'cpu' ? quantityMilliValue(q, field) : quantityValue(q, field);
}

function containerRequests(c: V1Container, field: string): Requests {
  const out = zero();
  const req = (c.resources?.requests ?? {}) as Record<string, string | number | undefined>;
  for (const r of FIT_RESOURCES) out[r] = value(r, req[r], `${field}.resources.requests.${r}`);
  return out;
}

function add(a: Requests, b: Requests): Requests {
  return { cpu: a.cpu + b.cpu, memory: a.memory + b.memory, 'ephemeral-storage': a['ephemeral-storage'] + b['ephemeral-storage'] };
}

function max(a: Requests, b: Requests): Requests {
  return {
    cpu: Math.max(a.cpu, b.cpu),
    memory: Math.max(a.memory, b.memory),
    'ephemeral-storage': Math.max(a['ephemeral-storage'], b['ephemeral-storage']),
  };
}

/**
 * The pod's effective requests (upstream resourcehelper.PodRequests): the sum of the app containers and the
 * sidecars, or the largest init step (a regular init container plus the sidecars started before it) if larger,
 * plus spec.overhead. Throws InvalidError naming the field for an unparsable quantity.
 */
export function podRequests(pod: V1Pod): Requests {
  let reqs = zero();
  (pod.spec?.containers ?? []).forEach((c, i) => {
    reqs = add(reqs, containerRequests(c, `spec.containers[${i}]`));
  });
  let sidecars = zero();
  let initMax = zero();
  (pod.spec?.initContainers ?? []).forEach((c, i) => {
    const r = containerRequests(c, `spec.initContainers[${i}]`);
    if (isSidecar(c)) {
      reqs = add(reqs, r);
      sidecars = add(sidecars, r);
      initMax = max(initMax, sidecars);
    } else initMax = max(initMax, add(r, sidecars));
  });
  reqs = max(reqs, initMax);
  const overhead = (pod.spec?.overhead ?? {}) as Record<string, string | number | undefined>;
  for (const r of FIT_RESOURCES) reqs[r] += value(r, overhead[r], `spec.overhead.${r}`);
  return reqs;
}

/**
 * Upstream noderesources.Fits for cpu, memory and ephemeral-storage: every resource whose request does not fit in
 * allocatable − used, in upstream order. A pod requesting nothing always fits; a resource the node does not report
 * is not checked. `allocatable` is the Node's status.allocatable; `others` the admitted, non-terminal pods.
 */
export function insufficientResources(pod: V1Pod, others: V1Pod[], allocatable: Record<string, string>): Insufficient[] {
  const want = podRequests(pod);
  if (FIT_RESOURCES.every((r) => want[r] === 0)) return [];
  let used = zero();
  for (const p of others) used = add(used, podRequests(p));
  const out: Insufficient[] = [];
  for (const r of FIT_RESOURCES) {
    const cap = allocatable[r];
    if (cap === undefined || want[r] === 0) continue;
    const capacity = value(r, cap, `node.status.allocatable.${r}`);
    if (want[r] > capacity - used[r]) out.push({ resource: r, requested: want[r], used: used[r], capacity });
  }
  return out;
}

/** Upstream Toleration.ToleratesTaint. */
export function toleratesTaint(t: V1Toleration, taint: V1Taint): boolean {
  if (t.effect !== undefined && t.effect !== '' && t.effect !== taint.effect) return false;
  if (t.key !== undefined && t.key !== '' && t.key !== taint.key) return false;
  switch (t.operator ?? '') {
    case '':
    case 'Equal':
      return (t.value ?? '') === (taint.value ?? '');
    case 'Exists':
      return true;
    default:
      return false;
  }
}

/** The first NoExecute taint of the node no toleration of the pod tolerates (the only effect the kubelet checks). */
export function untoleratedNoExecuteTaint(pod: V1Pod, taints: V1Taint[]): V1Taint | undefined {
  const tolerations = pod.spec?.tolerations ?? [];
  return taints.find((taint) => taint.effect === 'NoExecute' && !tolerations.some((t) => toleratesTaint(t, taint)));
}
