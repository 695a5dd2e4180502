/**
 * Labels and annotations the kubelet puts on sandboxes and containers (upstream kuberuntime/labels.go), and the
 * container hash the pod workers compare to decide whether a running container still matches its spec.
 */
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { ANNOTATIONS, LABELS } from '../../cri/types.js';

/** Upstream key of the termination message policy annotation. */
export const TERMINATION_MESSAGE_POLICY_ANNOTATION = 'io.kubernetes.container.terminationMessagePolicy';
/** Default terminationMessagePath (API defaulting). */
export const DEFAULT_TERMINATION_MESSAGE_PATH = '/dev/termination-log';

/** JSON with object keys sorted and undefined dropped, so equal specs hash equally whatever their key order. */
export function canonicalJSON(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJSON(v))).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJSON(v)}`).join(',')}}`;
}

/** 32-bit FNV-1a over the UTF-8 bytes of `s`. */
export function fnv32a(s: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(s, 'utf8')) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * Stable hash of a container spec as a hex string (the `io.kubernetes.container.hash` annotation). Pure.
 * `resources` is left out (as upstream does since in-place resize) so a resize never restarts a container;
 * any other change to the spec changes the hash.
 */
export function containerHash(container: V1Container): string {
  const { resources: _resources, ...rest } = container;
  return fnv32a(canonicalJSON(rest)).toString(16);
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
