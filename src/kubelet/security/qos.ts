/**
 * Pod QoS class, computed exactly like upstream `GetPodQOS` (pkg/apis/core/v1/helper/qos): only cpu and memory count;
 * a pod is Guaranteed when every container (init containers included) has cpu and memory limits and the summed
 * requests equal the summed limits; BestEffort when no container has any cpu/memory request or limit.
 */
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { parseQuantity } from '../../util/quantity.js';

/** The three QoS classes. */
export type QOSClass = 'Guaranteed' | 'Burstable' | 'BestEffort';

const QOS_RESOURCES = ['cpu', 'memory'];

/**
 * Requests of a container as the API server would default them: a resource with a limit and no request requests
 * its limit (static pods from files never went through API defaulting).
 */
export function effectiveRequests(c: V1Container): Record<string, string> {
  const out: Record<string, string> = { ...(c.resources?.requests ?? {}) };
  for (const [k, v] of Object.entries(c.resources?.limits ?? {})) {
    if (out[k] === undefined) out[k] = v;
  }
  return out;
}

/** The pod's QoS class (pure; never throws: unparsable quantities count as zero). */
export function qosClass(pod: V1Pod): QOSClass {
  const requests = new Map<string, number>();
  const limits = new Map<string, number>();
  let guaranteed = true;
  const all = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])];
  for (const c of all) {
    for (const [name, q] of Object.entries(effectiveRequests(c))) {
      const v = safeParse(q);
      if (QOS_RESOURCES.includes(name) && v > 0) requests.set(name, (requests.get(name) ?? 0) + v);
    }
    const found = new Set<string>();
    for (const [name, q] of Object.entries(c.resources?.limits ?? {})) {
      const v = safeParse(q);
      if (QOS_RESOURCES.includes(name) && v > 0) {
        found.add(name);
        limits.set(name, (limits.get(name) ?? 0) + v);
      }
    }
    if (!found.has('cpu') || !found.has('memory')) guaranteed = false;
  }
  if (requests.size === 0 && limits.size === 0) return 'BestEffort';
  if (guaranteed) {
    for (const [name, req] of requests) {
      const lim = limits.get(name);
      if (lim === undefined || Math.abs(lim - req) > 1e-9) {
        guaranteed = false;
        break;
      }
    }
  }
  return guaranteed && requests.size === limits.size ? 'Guaranteed' : 'Burstable';
}

function safeParse(q: string): number {
  return parseQuantity(q) ?? 0;
}
