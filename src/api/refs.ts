/**
 * Object references to a pod and its containers for events (upstream ref.GetReference / GetPartialReference), shared
 * by the kubelet and the prober so every event names its involved object the same way.
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { ObjectReference } from './types.js';

/** The Pod as an event's involved object (a pod without a namespace counts as `default`). */
export function podRef(pod: V1Pod): ObjectReference {
  return {
    kind: 'Pod',
    apiVersion: 'v1',
    namespace: pod.metadata?.namespace ?? 'default',
    name: pod.metadata?.name ?? '',
    uid: pod.metadata?.uid,
    resourceVersion: pod.metadata?.resourceVersion,
  };
}

/** A container of the pod as an event's involved object (`spec.containers{name}` / `spec.initContainers{name}`). */
export function containerRef(pod: V1Pod, containerName: string, isInit = false): ObjectReference {
  return { ...podRef(pod), fieldPath: `spec.${isInit ? 'initContainers' : 'containers'}{${containerName}}` };
}
