/**
 * Delivering a source's pod set to the kubelet's handler, the same way for every source (API, file, URL): the
 * handler runs synchronously; if it throws, the failure is logged with its stable code, field and cause, counted, and
 * the latest set is delivered again after a back-off (1 s doubling to 30 s) unless a newer set arrives first. A
 * throwing handler therefore neither ends the agent (API source: an uncaught exception in a microtask) nor stops a
 * source's periodic rescan (file), nor is mistaken for a bad manifest (URL).
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../../util/clock.js';
import { errorFields } from '../../util/errors.js';
import type { PodSetListener, SourceName } from './types.js';

/** Options shared by the sources for delivering their sets. */
export interface DeliveryOptions {
  logger: Logger;
  clock: Clock;
  /** Counts a handler failure (nodelet_pod_source_handler_errors_total{source}). */
  onHandlerError?: (source: SourceName) => void;
  /** First retry delay (default 1000 ms); doubles up to `retryMaxMs` (default 30 000 ms). */
  retryInitialMs?: number;
  retryMaxMs?: number;
}

/** One source's delivery to its handler (see module comment). Not for concurrent owners. */
export class PodSetDelivery {
  readonly #source: SourceName;
  readonly #onPods: PodSetListener;
  readonly #o: DeliveryOptions;
  #timer: TimerHandle | undefined;
  #delay = 0;
  #stopped = false;

  constructor(source: SourceName, onPods: PodSetListener, options: DeliveryOptions) {
    this.#source = source;
    this.#onPods = onPods;
    this.#o = options;
  }

  /** Delivers `pods` now (cancelling a pending retry of an older set). Never throws; returns whether the handler succeeded. */
  deliver(pods: V1Pod[]): boolean {
    if (this.#stopped) return false;
    if (this.#timer !== undefined) this.#o.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    try {
      this.#onPods(this.#source, pods);
      this.#delay = 0;
      return true;
    } catch (err) {
      const initial = this.#o.retryInitialMs ?? 1000;
      this.#delay = this.#delay === 0 ? initial : Math.min(this.#delay * 2, this.#o.retryMaxMs ?? 30_000);
      this.#o.onHandlerError?.(this.#source);
      this.#o.logger.error({ source: this.#source, ...errorFields(err), retryInMs: this.#delay }, 'pod source handler failed; retrying with the latest set');
      this.#timer = this.#o.clock.setTimeout(() => {
        this.#timer = undefined;
        this.deliver(pods);
      }, this.#delay);
      return false;
    }
  }

  /** Cancels a pending retry; later deliveries are ignored. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) this.#o.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
