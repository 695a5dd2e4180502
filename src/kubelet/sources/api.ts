/**
 * The API server source (upstream config/apiserver.go): an informer over `/api/v1/pods` with fieldSelector
 * `spec.nodeName=<node>`. Every change delivers the complete cached set (coalesced per tick); the informer contract
 * (relist on 410, resume on dropped watches, retry forever) gives resilience.
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { Informer } from '../../api/types.js';
import { PodSetDelivery, type DeliveryOptions } from './deliver.js';
import type { PodSetListener, PodSource } from './types.js';

/** The list+watch options for the pods bound to `nodeName`. */
export function podInformerOptions(nodeName: string): { path: string; fieldSelector: string } {
  return { path: '/api/v1/pods', fieldSelector: `spec.nodeName=${nodeName}` };
}

/** See module comment. */
export class ApiSource implements PodSource {
  readonly #informer: Informer<V1Pod>;
  readonly #delivery: PodSetDelivery;
  #remove: (() => void) | undefined;
  #scheduled = false;
  #synced = false;

  /** `delivery`: how a throwing handler is logged, counted and retried (deliver.ts). */
  constructor(informer: Informer<V1Pod>, onPods: PodSetListener, delivery: DeliveryOptions) {
    this.#informer = informer;
    this.#delivery = new PodSetDelivery('api', onPods, delivery);
  }

  start(): void {
    const changed = (): void => this.#deliverSoon();
    this.#remove = this.#informer.addHandlers({
      onAdd: changed,
      onUpdate: changed,
      onDelete: changed,
      onSynced: () => {
        this.#synced = true;
        this.#deliverSoon();
      },
    });
    this.#informer.start();
    if (this.#informer.hasSynced()) {
      this.#synced = true;
      this.#deliverSoon();
    }
  }

  stop(): void {
    this.#delivery.stop();
    this.#remove?.();
    this.#informer.stop();
  }

  hasSynced(): boolean {
    return this.#synced;
  }

  /** The pod object the informer has under `namespace/name`. */
  get(key: string): V1Pod | undefined {
    return this.#informer.get(key);
  }

  #deliverSoon(): void {
    if (this.#scheduled || !this.#synced) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      this.#delivery.deliver(this.#informer.list());
    });
  }
}
