/**
 * Mirror pods (upstream pkg/kubelet/pod/mirror_client.go + kubelet.go syncPod): every static pod has a copy in the API
 * with the same name, annotation kubernetes.io/config.mirror = the static pod's config hash and an ownerReference to
 * the Node. A missing, stale or deleting mirror is (re)created; a mirror without a static pod is deleted. Mirror pods
 * are never run.
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { PodApi } from '../../api/pods.js';
import { isAlreadyExists, errorFields } from '../../util/errors.js';
import { CONFIG_ANNOTATIONS } from '../sources/static-pod.js';

/** The Node the mirror pods point to. */
export interface NodeIdentity {
  name: string;
  uid: string;
}

/** The mirror pod object for a static pod. Pure. */
export function buildMirrorPod(pod: V1Pod, node: NodeIdentity): V1Pod {
  const annotations = { ...pod.metadata?.annotations };
  annotations[CONFIG_ANNOTATIONS.mirror] = annotations[CONFIG_ANNOTATIONS.hash] ?? pod.metadata?.uid ?? '';
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: pod.metadata?.name,
      namespace: pod.metadata?.namespace ?? 'default',
      labels: pod.metadata?.labels,
      annotations,
      ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: node.name, uid: node.uid, controller: true }],
    },
    spec: pod.spec,
  };
}

/** True when `mirror` is the current mirror of `pod`. */
export function isMirrorOf(mirror: V1Pod, pod: V1Pod): boolean {
  const want = pod.metadata?.annotations?.[CONFIG_ANNOTATIONS.hash] ?? pod.metadata?.uid;
  return mirror.metadata?.annotations?.[CONFIG_ANNOTATIONS.mirror] === want;
}

/** Options for {@link reconcileMirrors}. */
export interface MirrorOptions {
  api: PodApi;
  logger: Logger;
  node: NodeIdentity | undefined;
}

/**
 * One reconcile pass: creates missing mirrors, replaces stale/deleting ones, deletes orphaned ones. Errors are logged;
 * the next pass retries. `staticPods` are the running (not terminated) static pods. Returns the number of API calls.
 */
export async function reconcileMirrors(opts: MirrorOptions, staticPods: V1Pod[], mirrors: V1Pod[]): Promise<number> {
  const { api, logger, node } = opts;
  let calls = 0;
  const key = (p: V1Pod): string => `${p.metadata?.namespace ?? 'default'}/${p.metadata?.name ?? ''}`;
  const byName = new Map(mirrors.map((m) => [key(m), m]));
  const wanted = new Set(staticPods.map(key));
  for (const m of mirrors) {
    if (wanted.has(key(m))) continue;
    try {
      calls++;
      await api.deletePod(m.metadata?.namespace ?? 'default', m.metadata?.name ?? '', m.metadata?.uid ?? '');
      logger.info({ pod: key(m) }, 'deleted orphaned mirror pod');
    } catch (err) {
      logger.warn({ pod: key(m), ...errorFields(err) }, 'failed to delete orphaned mirror pod');
    }
  }
  if (node === undefined) return calls;
  for (const p of staticPods) {
    const m = byName.get(key(p));
    const deleting = m?.metadata?.deletionTimestamp !== undefined && m.metadata.deletionTimestamp !== null;
    if (m !== undefined && !deleting && isMirrorOf(m, p)) continue;
    try {
      if (m !== undefined) {
        calls++;
        await api.deletePod(m.metadata?.namespace ?? 'default', m.metadata?.name ?? '', m.metadata?.uid ?? '');
      }
      calls++;
      await api.createPod(buildMirrorPod(p, node));
      logger.info({ pod: key(p) }, 'created mirror pod');
    } catch (err) {
      if (!isAlreadyExists(err)) logger.warn({ pod: key(p), ...errorFields(err) }, 'failed to create mirror pod');
    }
  }
  return calls;
}
