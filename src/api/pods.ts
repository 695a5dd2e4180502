/**
 * Pod (and secret) calls the kubelet role needs, over {@link ApiClient} (or any {@link ApiTransport}): status
 * patches (strategic merge patch with an explicit Content-Type), deletion with grace 0 and a uid precondition, mirror
 * pod create/delete, secret reads for imagePullSecrets. Errors are the transport's ApiStatusErrors, so the nodelet
 * predicates work: 404 → isNotFound, 409 → isConflict (isAlreadyExists for creates), 422 → INVALID, else API_ERROR.
 */
import type { V1Pod, V1Secret } from '@kubernetes/client-node';
import { isNotFound } from '../util/errors.js';
import type { ApiTransport } from './client.js';
import { PATCH_CONTENT_TYPE } from './patch.js';

/** What PodApi and the event recorder need from a client: plain JSON requests ({@link ApiClient}; fakes in tests). */
export type RestClient = Pick<ApiTransport, 'request'>;

const podPath = (ns: string, name: string): string =>
  `/api/v1/namespaces/${encodeURIComponent(ns)}/pods/${encodeURIComponent(name)}`;

/**
 * The pod calls of the kubelet role. Implemented over REST by {@link createPodApi}; tests use an in-memory fake.
 * All methods may be called concurrently.
 */
export interface PodApi {
  getPod(namespace: string, name: string): Promise<V1Pod>;
  /** Strategic-merge-patches `/status`; returns the updated pod. */
  patchPodStatus(namespace: string, name: string, patch: Record<string, unknown>): Promise<V1Pod>;
  /** Deletes with grace 0 and a uid precondition; a missing pod is success, a different uid is CONFLICT. */
  deletePod(namespace: string, name: string, uid: string): Promise<void>;
  /** Creates a pod (mirror pods); ALREADY_EXISTS when the name is taken. */
  createPod(pod: V1Pod): Promise<V1Pod>;
  getSecret(namespace: string, name: string): Promise<V1Secret>;
}

/** The REST implementation of {@link PodApi} over `client` (usually an {@link ApiClient}). */
export function createPodApi(client: RestClient): PodApi {
  return {
    getPod: (ns, name) => client.request<V1Pod>({ method: 'GET', path: podPath(ns, name) }),
    patchPodStatus: (ns, name, patch) =>
      client.request<V1Pod>({
        method: 'PATCH',
        path: `${podPath(ns, name)}/status`,
        body: patch,
        contentType: PATCH_CONTENT_TYPE.strategic,
      }),
    async deletePod(ns, name, uid) {
      try {
        await client.request({
          method: 'DELETE',
          path: podPath(ns, name),
          body: { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 0, preconditions: { uid } },
        });
      } catch (err) {
        if (isNotFound(err)) return;
        throw err;
      }
    },
    createPod: (pod) =>
      client.request<V1Pod>({
        method: 'POST',
        path: `/api/v1/namespaces/${encodeURIComponent(pod.metadata?.namespace ?? 'default')}/pods`,
        body: pod,
      }),
    getSecret: (ns, name) =>
      client.request<V1Secret>({
        method: 'GET',
        path: `/api/v1/namespaces/${encodeURIComponent(ns)}/secrets/${encodeURIComponent(name)}`,
      }),
  };
}
