/**
 * Lease API access (coordination.k8s.io/v1) for node heartbeats. `renewTime` must be a V1MicroTime (six fractional
 * digits) or the API server rejects the object; use {@link microTime}.
 */
import { CoordinationV1Api, V1MicroTime, type KubeConfig, type V1Lease } from '@kubernetes/client-node';
import { wrapApiCall } from './nodes.js';

/** Reads and writes Leases. None retries; errors are classified (`isNotFound`, `isConflict`, `isAlreadyExists`). */
export interface LeaseApi {
  /** The Lease; throws NotFoundError when missing. */
  get(namespace: string, name: string): Promise<V1Lease>;
  /** Creates the Lease; throws AlreadyExistsError when it exists. */
  create(namespace: string, lease: V1Lease): Promise<V1Lease>;
  /** Replaces the Lease (optimistic: metadata.resourceVersion must be current, else ConflictError). */
  replace(namespace: string, name: string, lease: V1Lease): Promise<V1Lease>;
}

/** A MicroTime for `ms` since the epoch; serializes with six fractional digits (`…:51.123000Z`). */
export function microTime(ms: number): V1MicroTime {
  return new V1MicroTime(ms);
}

/** The LeaseApi over @kubernetes/client-node. */
export function createLeaseApi(kc: KubeConfig, fieldManager = 'nodelet'): LeaseApi {
  const api = kc.makeApiClient(CoordinationV1Api);
  return {
    get: (namespace, name) => wrapApiCall(`lease ${namespace}/${name}`, () => api.readNamespacedLease({ name, namespace })),
    create: (namespace, body) =>
      wrapApiCall(`lease ${namespace}/${body.metadata?.name ?? ''}`, () =>
        api.createNamespacedLease({ namespace, body, fieldManager }),
      ),
    replace: (namespace, name, body) =>
      wrapApiCall(`lease ${namespace}/${name}`, () => api.replaceNamespacedLease({ name, namespace, body, fieldManager })),
  };
}
