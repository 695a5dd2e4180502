/**
 * How a pod is named in messages and logs, shared by every area (kubelet, probes) so the text stays identical.
 * A pod without a namespace counts as `default` (as the API server and the static-pod loader default it).
 */
import type { V1Pod } from '@kubernetes/client-node';

/** `name_namespace(uid)` as upstream format.Pod. */
export function podFullName(pod: V1Pod): string {
  const m = pod.metadata;
  return `${m?.name ?? ''}_${m?.namespace ?? 'default'}(${m?.uid ?? ''})`;
}
