/**
 * The node Lease heartbeat (upstream component-helpers/apimachinery/lease/controller.go): a Lease named after the
 * node in kube-node-lease, holderIdentity = node name, leaseDurationSeconds 40, owned by the Node, renewTime (a
 * MicroTime) refreshed every renew interval (10 s). A failed renew is retried with backoff (200 ms doubling to 7 s)
 * before the next interval; a conflict or a missing Lease re-reads / re-creates it.
 */
import type { V1Lease, V1OwnerReference } from '@kubernetes/client-node';
import { microTime, type LeaseApi } from '../../api/leases.js';
import type { Clock } from '../../util/clock.js';
import { errorMessage, isAlreadyExists, isConflict, isNotFound } from '../../util/errors.js';
import type { Logger } from '../../util/logger.js';

/** Namespace of node leases. */
export const NODE_LEASE_NAMESPACE = 'kube-node-lease';

/** Options for {@link LeaseController}. */
export interface LeaseControllerOptions {
  nodeName: string;
  leaseDurationSeconds: number;
  /** Renew period (default 10 s = 0.25 × 40 s as upstream). */
  renewIntervalMs?: number;
  leases: LeaseApi;
  clock: Clock;
  logger: Logger;
}

/** The Lease object the kubelet wants (without resourceVersion). */
export function desiredLease(nodeName: string, durationSeconds: number, nowMs: number, owner?: V1OwnerReference): V1Lease {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      name: nodeName,
      namespace: NODE_LEASE_NAMESPACE,
      ...(owner === undefined ? {} : { ownerReferences: [owner] }),
    },
    spec: { holderIdentity: nodeName, leaseDurationSeconds: durationSeconds, renewTime: microTime(nowMs) },
  };
}

/** Renews the node Lease. One owner; `step()` is not called concurrently (the Loop guarantees it). */
export class LeaseController {
  readonly #o: LeaseControllerOptions;
  #lease: V1Lease | undefined;
  #owner: V1OwnerReference | undefined;
  #retryMs = 0;
  #lastRenewAt: number | undefined;

  constructor(options: LeaseControllerOptions) {
    this.#o = options;
  }

  /** Sets the Node that owns the Lease (once its uid is known). */
  setOwner(uid: string): void {
    this.#owner = { apiVersion: 'v1', kind: 'Node', name: this.#o.nodeName, uid };
  }

  /** Wall-clock ms of the last successful renew. */
  lastRenewAt(): number | undefined {
    return this.#lastRenewAt;
  }

  /** Renew period in ms. */
  get intervalMs(): number {
    return this.#o.renewIntervalMs ?? 10_000;
  }

  /** One renew attempt. Returns the delay until the next: the interval on success, a backoff delay on failure. */
  async step(): Promise<number> {
    try {
      await this.#renew();
      if (this.#retryMs > 0) this.#o.logger.info('node lease renewed again');
      this.#retryMs = 0;
      this.#lastRenewAt = this.#o.clock.now();
      return this.intervalMs;
    } catch (err) {
      this.#retryMs = this.#retryMs === 0 ? 200 : Math.min(this.#retryMs * 2, 7000);
      const log = { err: errorMessage(err), retryInMs: this.#retryMs };
      if (this.#retryMs === 200) this.#o.logger.warn(log, 'renewing node lease failed, will retry');
      else this.#o.logger.debug(log, 'renewing node lease failed, will retry');
      if (isConflict(err) || isNotFound(err)) this.#lease = undefined;
      return this.#retryMs;
    }
  }

  async #renew(): Promise<void> {
    const { leases, nodeName, leaseDurationSeconds, clock } = this.#o;
    if (this.#lease === undefined) {
      try {
        this.#lease = await leases.get(NODE_LEASE_NAMESPACE, nodeName);
      } catch (err) {
        if (!isNotFound(err)) throw err;
        try {
          this.#lease = await leases.create(NODE_LEASE_NAMESPACE, desiredLease(nodeName, leaseDurationSeconds, clock.now(), this.#owner));
          return;
        } catch (createErr) {
          if (!isAlreadyExists(createErr)) throw createErr;
          this.#lease = await leases.get(NODE_LEASE_NAMESPACE, nodeName);
        }
      }
    }
    const want = desiredLease(nodeName, leaseDurationSeconds, clock.now(), this.#owner);
    const next: V1Lease = {
      ...want,
      metadata: {
        ...this.#lease.metadata,
        ...want.metadata,
        resourceVersion: this.#lease.metadata?.resourceVersion,
        ownerReferences: want.metadata?.ownerReferences ?? this.#lease.metadata?.ownerReferences,
      },
      spec: { ...this.#lease.spec, ...want.spec },
    };
    this.#lease = await leases.replace(NODE_LEASE_NAMESPACE, nodeName, next);
  }
}
