/**
 * Labels and annotations the kubelet puts on sandboxes and containers (upstream kuberuntime/labels.go), and the
 * container hash the pod workers compare to decide whether a running container still matches its spec.
 */
import { createHash } from 'node:crypto';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { ANNOTATIONS, LABELS } from '../../cri/types.js';

/** Upstream key of the termination message policy annotation. */
export const TERMINATION_MESSAGE_POLICY_ANNOTATION = 'io.kubernetes.container.terminationMessagePolicy';
/** Default terminationMessagePath (API defaulting). */
export const DEFAULT_TERMINATION_MESSAGE_PATH = '/dev/termination-log';

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v instanceof Date) return v.toISOString();
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const x = (v as Record<string, unknown>)[k];
      if (x !== undefined && x !== null) out[k] = canonical(x);
    }
    return out;
  }
  return v;
}

/** JSON with object keys sorted and undefined/null fields dropped, so equal specs serialize equally. */
export function canonicalJSON(value: unknown): string {
  return JSON.stringify(canonical(value)) ?? 'null';
}

/**
 * Stable hash of a container spec as 8 hex digits (the `io.kubernetes.container.hash` annotation). Pure.
 * `resources` is left out (as upstream does since in-place resize) so a resize never restarts a container;
 * any other change to the spec changes the hash. Same value as src/kubelet/pods hashContainer.
 */
export function containerHash(container: V1Container): string {
  const { resources: _resources, ...rest } = container;
  return createHash('sha256').update(canonicalJSON(rest)).digest('hex').slice(0, 8);
}

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

/** Annotations of a container: hash, restart count, termination message path/policy, grace periods, preStop, ports. */
export function containerAnnotations(pod: V1Pod, c: V1Container, restartCount: number): Record<string, string> {
  const a: Record<string, string> = {
    [ANNOTATIONS.containerHash]: containerHash(c),
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
