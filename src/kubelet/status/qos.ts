/**
 * QoS class of a pod, as upstream `GetPodQOS` (pkg/apis/core/v1/helper/qos): only cpu and memory count.
 * - BestEffort: no container (init or app) sets any cpu/memory request or limit.
 * - Guaranteed: every container sets cpu and memory limits, and requests (defaulting to limits) equal them.
 * - Burstable: everything else.
 */
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { parseQuantity } from './quantity.js';

/** The three QoS classes. */
export type QosClass = 'Guaranteed' | 'Burstable' | 'BestEffort';

const RESOURCES = ['cpu', 'memory'] as const;

function positive(v: string | undefined): boolean {
  const n = parseQuantity(v);
  return n !== undefined && n > 0;
}

/** Pure: the QoS class of `pod` from its containers' resources. */
export function computeQosClass(pod: V1Pod): QosClass {
  const containers: V1Container[] = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  let any = false;
  let guaranteed = true;
  for (const c of containers) {
    const req = c.resources?.requests ?? {};
    const lim = c.resources?.limits ?? {};
    for (const r of RESOURCES) {
      if (positive(req[r]) || positive(lim[r])) any = true;
      if (!positive(lim[r])) {
        guaranteed = false;
        continue;
      }
      const request = req[r] === undefined ? lim[r] : req[r];
      if (parseQuantity(request) !== parseQuantity(lim[r])) guaranteed = false;
    }
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}
