/**
 * How CRI metadata, labels and annotations are stored as Docker labels (after dockershim): the CRI labels as given,
 * annotations as `annotation.<key>`, plus internal labels that let a restarted agent list and understand its
 * containers. Internal labels are stripped again when labels are returned.
 */
import type { ContainerMetadata, NamespaceOptions, PodSandboxMetadata } from '../types.js';

/** Docker label keys the backend sets (upstream dockershim names where there is one). */
export const DOCKER_LABELS = {
  /** 'podsandbox' | 'container'. */
  type: 'io.kubernetes.docker.type',
  sandboxId: 'io.kubernetes.sandbox.id',
  logPath: 'io.kubernetes.container.logpath',
  /** Internal (prefix io.nodelet.cri.): metadata, image as given, namespace options. */
  podName: 'io.nodelet.cri.pod-name',
  podNamespace: 'io.nodelet.cri.pod-namespace',
  podUID: 'io.nodelet.cri.pod-uid',
  podAttempt: 'io.nodelet.cri.pod-attempt',
  containerName: 'io.nodelet.cri.container-name',
  containerAttempt: 'io.nodelet.cri.container-attempt',
  image: 'io.nodelet.cri.image',
  namespaces: 'io.nodelet.cri.namespaces',
} as const;

/** Value of {@link DOCKER_LABELS.type}. */
export type DockerObjectType = 'podsandbox' | 'container';

const ANNOTATION_PREFIX = 'annotation.';
const INTERNAL_PREFIX = 'io.nodelet.cri.';
const INTERNAL_KEYS = new Set<string>([DOCKER_LABELS.type, DOCKER_LABELS.sandboxId, DOCKER_LABELS.logPath]);

/** Merges CRI labels, annotations (prefixed) and internal labels into one Docker label map. */
export function toDockerLabels(
  labels: Record<string, string>,
  annotations: Record<string, string>,
  internal: Record<string, string>,
): Record<string, string> {
  const out: Record<string, string> = { ...labels };
  for (const [k, v] of Object.entries(annotations)) out[ANNOTATION_PREFIX + k] = v;
  return { ...out, ...internal };
}

/** Splits Docker labels back into the CRI labels and annotations given at creation. */
export function fromDockerLabels(docker: Record<string, string> | undefined): {
  labels: Record<string, string>;
  annotations: Record<string, string>;
} {
  const labels: Record<string, string> = {};
  const annotations: Record<string, string> = {};
  for (const [k, v] of Object.entries(docker ?? {})) {
    if (k.startsWith(ANNOTATION_PREFIX)) annotations[k.slice(ANNOTATION_PREFIX.length)] = v;
    else if (!k.startsWith(INTERNAL_PREFIX) && !INTERNAL_KEYS.has(k)) labels[k] = v;
  }
  return { labels, annotations };
}

/** Internal labels of a sandbox. */
export function sandboxInternalLabels(
  m: PodSandboxMetadata,
  image: string,
  ns: NamespaceOptions,
): Record<string, string> {
  return {
    [DOCKER_LABELS.type]: 'podsandbox',
    [DOCKER_LABELS.podName]: m.name,
    [DOCKER_LABELS.podNamespace]: m.namespace,
    [DOCKER_LABELS.podUID]: m.uid,
    [DOCKER_LABELS.podAttempt]: String(m.attempt),
    [DOCKER_LABELS.image]: image,
    [DOCKER_LABELS.namespaces]: `network=${ns.network},pid=${ns.pid},ipc=${ns.ipc}`,
  };
}

/** Internal labels of an app container. */
export function containerInternalLabels(
  sandboxId: string,
  pod: PodSandboxMetadata,
  m: ContainerMetadata,
  image: string,
  logPath: string,
): Record<string, string> {
  const out: Record<string, string> = {
    [DOCKER_LABELS.type]: 'container',
    [DOCKER_LABELS.sandboxId]: sandboxId,
    [DOCKER_LABELS.podName]: pod.name,
    [DOCKER_LABELS.podNamespace]: pod.namespace,
    [DOCKER_LABELS.podUID]: pod.uid,
    [DOCKER_LABELS.containerName]: m.name,
    [DOCKER_LABELS.containerAttempt]: String(m.attempt),
    [DOCKER_LABELS.image]: image,
  };
  if (logPath !== '') out[DOCKER_LABELS.logPath] = logPath;
  return out;
}

const MODES = new Set(['pod', 'container', 'node']);

/** Namespace options stored on a sandbox (defaults to a normal pod when the label is missing or bad). */
export function namespacesFromLabels(docker: Record<string, string> | undefined): NamespaceOptions {
  const out: NamespaceOptions = { network: 'pod', pid: 'container', ipc: 'pod' };
  for (const part of (docker?.[DOCKER_LABELS.namespaces] ?? '').split(',')) {
    const [k, v] = part.split('=');
    if ((k === 'network' || k === 'pid' || k === 'ipc') && v !== undefined && MODES.has(v)) {
      out[k] = v as NamespaceOptions['network'];
    }
  }
  return out;
}

/** Sandbox metadata from labels (falls back to parsing the k8s_POD_… name). */
export function sandboxMetadata(docker: Record<string, string> | undefined, name: string): PodSandboxMetadata {
  const parts = name.replace(/^\//, '').split('_');
  return {
    name: docker?.[DOCKER_LABELS.podName] ?? parts[2] ?? '',
    namespace: docker?.[DOCKER_LABELS.podNamespace] ?? parts[3] ?? '',
    uid: docker?.[DOCKER_LABELS.podUID] ?? parts[4] ?? '',
    attempt: Number(docker?.[DOCKER_LABELS.podAttempt] ?? parts[5] ?? 0) || 0,
  };
}

/** Container metadata from labels (falls back to parsing the k8s_<name>_… name). */
export function containerMetadata(docker: Record<string, string> | undefined, name: string): ContainerMetadata {
  const parts = name.replace(/^\//, '').split('_');
  return {
    name: docker?.[DOCKER_LABELS.containerName] ?? parts[1] ?? '',
    attempt: Number(docker?.[DOCKER_LABELS.containerAttempt] ?? parts[5] ?? 0) || 0,
  };
}

/** Docker name of a sandbox: `k8s_POD_<pod>_<ns>_<uid>_<attempt>`. */
export function sandboxName(m: PodSandboxMetadata): string {
  return `k8s_POD_${m.name}_${m.namespace}_${m.uid}_${m.attempt}`;
}

/** Docker name of a container: `k8s_<container>_<pod>_<ns>_<uid>_<attempt>`. */
export function containerName(pod: PodSandboxMetadata, m: ContainerMetadata): string {
  return `k8s_${m.name}_${pod.name}_${pod.namespace}_${pod.uid}_${m.attempt}`;
}
