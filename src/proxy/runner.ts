/**
 * BoundedFrequencyRunner (upstream pkg/util/async): runs `fn` when asked, but never more often than a token bucket
 * of `burst` tokens refilled every `minIntervalMs` allows, and at least every `maxIntervalMs`. Never runs `fn`
 * concurrently: a request during a run schedules one more run after it. Time comes from the injected Clock.
 */
import type { Clock, TimerHandle } from '../util/index.js';

/** Options of {@link BoundedFrequencyRunner}. */
export interface RunnerOptions {
  fn: () => Promise<void>;
  minIntervalMs: number;
  maxIntervalMs: number;
  burst: number;
  clock: Clock;
}

/** See the file comment. `start()` arms the periodic run; `stop()` cancels timers (a run in flight completes). */
export class BoundedFrequencyRunner {
  readonly #o: RunnerOptions;
  #tokens: number;
  #lastRefill: number;
  #timer: TimerHandle | undefined;
  #timerAt = Infinity;
  #running = false;
  #pending = false;
  #stopped = true;

  constructor(options: RunnerOptions) {
    this.#o = options;
    this.#tokens = options.burst;
    this.#lastRefill = options.clock.monotonic();
  }

  /** Starts the periodic schedule (first run after maxInterval unless `run()` is called). */
  start(): void {
    this.#stopped = false;
    this.#schedule(this.#o.maxIntervalMs);
  }

  /** Stops all timers. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) this.#o.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
  }

  /** Requests a run as soon as the rate limit allows. */
  run(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#pending = true;
      return;
    }
    this.#refill();
    if (this.#tokens >= 1) this.#schedule(0);
    else this.#schedule(Math.ceil((1 - this.#tokens) * this.#o.minIntervalMs));
  }

  /** Requests a run after `ms` at the latest (upstream RetryAfter). */
  retryAfter(ms: number): void {
    if (!this.#stopped) this.#schedule(Math.max(ms, 0));
  }

  #refill(): void {
    const now = this.#o.clock.monotonic();
    const min = this.#o.minIntervalMs;
    this.#tokens = min <= 0 ? this.#o.burst : Math.min(this.#o.burst, this.#tokens + (now - this.#lastRefill) / min);
    this.#lastRefill = now;
  }

  #schedule(delay: number): void {
    const at = this.#o.clock.monotonic() + delay;
    if (this.#timer !== undefined && this.#timerAt <= at) return;
    if (this.#timer !== undefined) this.#o.clock.clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = this.#o.clock.setTimeout(() => {
      this.#timer = undefined;
      this.#timerAt = Infinity;
      void this.#tick();
    }, delay);
  }

  async #tick(): Promise<void> {
    if (this.#stopped) return;
    if (this.#running) {
      this.#pending = true;
      return;
    }
    this.#refill();
    this.#tokens = Math.max(0, this.#tokens - 1);
    this.#running = true;
    try {
      await this.#o.fn();
    } finally {
      this.#running = false;
    }
    if (this.#stopped) return;
    this.#schedule(this.#o.maxIntervalMs);
    if (this.#pending) {
      this.#pending = false;
      this.run();
    }
  }
}
