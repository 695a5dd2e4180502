/**
 * Labels and annotations the kubelet puts on sandboxes and containers (upstream kuberuntime/labels.go). The container
 * hash annotation is not among them: the pod workers write it (src/kubelet/pods/hash.ts), since they are the ones
 * that compare it to decide whether a running container still matches its spec.
 */
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { ANNOTATIONS, LABELS } from '../../cri/types.js';

/** Upstream key of the termination message policy annotation. */
export const TERMINATION_MESSAGE_POLICY_ANNOTATION = 'io.kubernetes.container.terminationMessagePolicy';
/** Default terminationMessagePath (API defaulting). */
export const DEFAULT_TERMINATION_MESSAGE_PATH = '/dev/termination-log';

/** Labels of a pod sandbox: the pod's labels plus the kubelet's identity labels. */
export function sandboxLabels(pod: V1Pod): Record<string, string> {
  return {
    ...(pod.metadata?.labels ?? {}),
    [LABELS.podName]: pod.metadata?.name ?? '',
    [LABELS.podNamespace]: pod.metadata?.namespace ?? '',
    [LABELS.podUID]: pod.metadata?.uid ?? '',
    [LABELS.managedBy]: 'true',
  };
}

/** Labels of a container (identity only; user labels stay on the sandbox). */
export function containerLabels(pod: V1Pod, c: V1Container): Record<string, string> {
  return {
    [LABELS.podName]: pod.metadata?.name ?? '',
    [LABELS.podNamespace]: pod.metadata?.namespace ?? '',
    [LABELS.podUID]: pod.metadata?.uid ?? '',
    [LABELS.containerName]: c.name,
    [LABELS.managedBy]: 'true',
  };
}

/**
 * Annotations of a container: restart count, termination message path/policy, grace periods, preStop, ports. The
 * pod workers add the container hash (io.kubernetes.container.hash) when they create the container.
 */
export function containerAnnotations(pod: V1Pod, c: V1Container, restartCount: number): Record<string, string> {
  const a: Record<string, string> = {
    [ANNOTATIONS.restartCount]: String(restartCount),
    [ANNOTATIONS.terminationMessagePath]: c.terminationMessagePath ?? DEFAULT_TERMINATION_MESSAGE_PATH,
    [TERMINATION_MESSAGE_POLICY_ANNOTATION]: c.terminationMessagePolicy ?? 'File',
  };
  if (pod.metadata?.deletionGracePeriodSeconds !== undefined) {
    a[ANNOTATIONS.podDeletionGracePeriod] = String(pod.metadata.deletionGracePeriodSeconds);
  }
  a[ANNOTATIONS.terminationGracePeriod] = String(pod.spec?.terminationGracePeriodSeconds ?? 30);
  if (c.lifecycle?.preStop !== undefined) a[ANNOTATIONS.preStopHandler] = JSON.stringify(c.lifecycle.preStop);
  if (c.ports !== undefined && c.ports.length > 0) a[ANNOTATIONS.containerPorts] = JSON.stringify(c.ports);
  return a;
}
