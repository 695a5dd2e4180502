/**
 * Fetching the ConfigMaps and Secrets a pod refers to, with the kubelet's error wording, shared by env and volumes.
 */
import type { V1ConfigMap, V1Pod, V1Secret } from '@kubernetes/client-node';
import type { PodObjectSource } from '../../api/objects.js';
import { NodeletError, errorMessage, type ErrorCode } from '../../util/errors.js';
import { podFullName } from '../../util/pod-names.js';

/** Annotation naming where a pod came from (`api`, `file`, `http`). */
export const CONFIG_SOURCE_ANNOTATION = 'kubernetes.io/config.source';

/** True for pods that did not come from the API server (manifest file or URL). */
export function isStaticPod(pod: V1Pod): boolean {
  const src = pod.metadata?.annotations?.[CONFIG_SOURCE_ANNOTATION];
  return src !== undefined && src !== 'api';
}

/** The kind of object a pod refers to, as upstream names it in messages. */
export type RefKind = 'configmap' | 'secret';

/**
 * Resolves a ConfigMap or Secret for a pod. Returns undefined when it does not exist (the caller decides whether that
 * is fine, i.e. `optional`). Throws NodeletError with `code`:
 * - static pods may not reference API objects;
 * - without an API connection (standalone) nothing can be read (upstream "no kubeClient defined");
 * - API failures carry the cause.
 */
export async function fetchObject(
  kind: 'configmap',
  pod: V1Pod,
  name: string,
  objects: PodObjectSource | undefined,
  code: ErrorCode,
  prefix?: string,
): Promise<V1ConfigMap | undefined>;
export async function fetchObject(
  kind: 'secret',
  pod: V1Pod,
  name: string,
  objects: PodObjectSource | undefined,
  code: ErrorCode,
  prefix?: string,
): Promise<V1Secret | undefined>;
export async function fetchObject(
  kind: RefKind,
  pod: V1Pod,
  name: string,
  objects: PodObjectSource | undefined,
  code: ErrorCode,
  prefix = '',
): Promise<V1ConfigMap | V1Secret | undefined> {
  const ns = pod.metadata?.namespace ?? '';
  if (isStaticPod(pod)) {
    const src = pod.metadata?.annotations?.[CONFIG_SOURCE_ANNOTATION] ?? '';
    throw new NodeletError(
      code,
      `${prefix}static pod "${podFullName(pod)}" (source ${src}) may not reference ${kind} "${name}": static pods cannot use API objects`,
    );
  }
  if (objects === undefined) {
    const what = kind === 'configmap' ? 'configMap' : 'secret';
    throw new NodeletError(code, `${prefix}couldn't get ${what} ${ns}/${name}, no kubeClient defined`);
  }
  try {
    return kind === 'configmap' ? await objects.getConfigMap(ns, name) : await objects.getSecret(ns, name);
  } catch (err) {
    throw new NodeletError(code, `${prefix}${errorMessage(err)}`, { cause: err });
  }
}

/** Upstream not-found wording: `configmap "x" not found` / `secret "x" not found`. */
export function notFoundMessage(kind: RefKind, name: string): string {
  return `${kind} "${name}" not found`;
}

/** Decodes a Secret's base64 `data` values. */
export function secretData(secret: V1Secret): Map<string, Buffer> {
  return new Map(Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')]));
}
