/**
 * Lease API access (coordination.k8s.io/v1) for node heartbeats. `renewTime` must be a MicroTime (six fractional
 * digits) or the API server rejects the object; use {@link microTime}.
 */
import type { V1Lease, V1MicroTime } from '@kubernetes/client-node';
import type { ApiTransport } from './client.js';
import type { KubeConfig } from './kubeconfig.js';
import { transportOf, wrapApiCall } from './nodes.js';

/** Reads and writes Leases. None retries; errors are classified (`isNotFound`, `isConflict`, `isAlreadyExists`). */
export interface LeaseApi {
  /** The Lease; throws NotFoundError when missing. */
  get(namespace: string, name: string): Promise<V1Lease>;
  /** Creates the Lease; throws AlreadyExistsError when it exists. */
  create(namespace: string, lease: V1Lease): Promise<V1Lease>;
  /** Replaces the Lease (optimistic: metadata.resourceVersion must be current, else ConflictError). */
  replace(namespace: string, name: string, lease: V1Lease): Promise<V1Lease>;
}

/** A Date that serializes (toISOString / JSON) with six fractional digits, as metav1.MicroTime. */
class MicroTime extends Date {
  override toISOString(): string {
    return `${super.toISOString().slice(0, -1)}000Z`;
  }
}

/** A MicroTime for `ms` since the epoch; serializes with six fractional digits (`…:51.123000Z`). */
export function microTime(ms: number): V1MicroTime {
  return new MicroTime(ms);
}

const leasePath = (ns: string, name?: string): string =>
  `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(ns)}/leases${name === undefined ? '' : `/${encodeURIComponent(name)}`}`;

/** The LeaseApi over REST (`kc` or an existing client/transport). */
export function createLeaseApi(kc: KubeConfig | ApiTransport, fieldManager = 'nodelet'): LeaseApi {
  const api = transportOf(kc);
  return {
    get: (namespace, name) => wrapApiCall(`lease ${namespace}/${name}`, () => api.request<V1Lease>({ path: leasePath(namespace, name) })),
    create: (namespace, body) =>
      wrapApiCall(`lease ${namespace}/${body.metadata?.name ?? ''}`, () =>
        api.request<V1Lease>({ method: 'POST', path: leasePath(namespace), query: { fieldManager }, body }),
      ),
    replace: (namespace, name, body) =>
      wrapApiCall(`lease ${namespace}/${name}`, () =>
        api.request<V1Lease>({ method: 'PUT', path: leasePath(namespace, name), query: { fieldManager }, body }),
      ),
  };
}
