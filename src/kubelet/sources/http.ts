/**
 * The manifest URL source (upstream config/http.go): GET the URL (with the configured headers) every
 * httpCheckFrequency; the body is a Pod, several YAML documents or a PodList. On a fetch error the previous set is
 * kept; on a bad body the error is logged once per content and the previous set is kept too.
 */
import { createHash } from 'node:crypto';
import type { V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../../util/clock.js';
import { errorMessage, errorFields } from '../../util/errors.js';
import { ManifestError, staticPodsFromText } from './static-pod.js';
import { PodSetDelivery, type DeliveryOptions } from './deliver.js';
import type { PodSetListener, PodSource } from './types.js';

/** Options for {@link HttpSource}. */
export interface HttpSourceOptions {
  url: string;
  headers?: Record<string, string>;
  nodeName: string;
  /** Poll period (upstream httpCheckFrequency, default 20 s). */
  periodMs?: number;
  clock: Clock;
  logger: Logger;
  onPods: PodSetListener;
  /** How a throwing handler is counted and retried (deliver.ts); logged on `logger`. */
  onHandlerError?: DeliveryOptions['onHandlerError'];
}

/** See module comment. */
export class HttpSource implements PodSource {
  readonly #o: HttpSourceOptions;
  #timer: TimerHandle | undefined;
  #synced = false;
  #stopped = true;
  #digest = '';
  #reported = '';

  readonly #delivery: PodSetDelivery;

  constructor(options: HttpSourceOptions) {
    this.#o = options;
    this.#delivery = new PodSetDelivery('http', options.onPods, { logger: options.logger, clock: options.clock, onHandlerError: options.onHandlerError });
  }

  start(): void {
    this.#stopped = false;
    void this.poll();
  }

  stop(): void {
    this.#stopped = true;
    this.#delivery.stop();
    if (this.#timer !== undefined) this.#o.clock.clearTimeout(this.#timer);
  }

  hasSynced(): boolean {
    return this.#synced;
  }

  /** Fetches once and delivers the set when it changed. */
  async poll(): Promise<void> {
    const { url, logger } = this.#o;
    try {
      const res = await fetch(url, { headers: this.#o.headers, signal: AbortSignal.timeout(10_000) });
      if (res.status !== 200) throw new Error(`${url}: HTTP ${res.status}`);
      const text = await res.text();
      const digest = createHash('sha256').update(text).digest('hex');
      if (digest !== this.#digest || !this.#synced) {
        let pods: V1Pod[] | undefined;
        try {
          pods = staticPodsFromText(text, { kind: 'http', location: url, nodeName: this.#o.nodeName, seenAt: this.#o.clock.now() });
        } catch (err) {
          if (this.#reported !== digest) {
            this.#reported = digest;
            const problems = err instanceof ManifestError ? err.problems : [];
            logger.error({ url, problems, field: problems[0]?.field, code: 'MANIFEST_INVALID' }, `invalid pod manifest from URL: ${errorMessage(err)}`);
          }
        }
        if (pods !== undefined) {
          this.#digest = digest;
          this.#synced = true;
          // A throwing handler is the delivery's to log and retry, never "an invalid manifest".
          if (!this.#stopped) this.#delivery.deliver(pods);
        }
      }
    } catch (err) {
      logger.warn({ url, ...errorFields(err) }, 'failed to read pods from URL');
    }
    if (this.#stopped) return;
    if (this.#timer !== undefined) this.#o.clock.clearTimeout(this.#timer);
    this.#timer = this.#o.clock.setTimeout(() => void this.poll(), this.#o.periodMs ?? 20_000);
  }
}
