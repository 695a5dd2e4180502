/**
 * A timer loop around one step function: the step runs, returns the delay until the next run, and never overlaps
 * itself. Tests call the step directly or advance a FakeClock; the loop only schedules.
 */
import type { Clock, TimerHandle } from '../../util/clock.js';
import { errorMessage } from '../../util/errors.js';
import type { Logger } from '../../util/logger.js';

/** Runs `step` repeatedly on `clock`. `step` returns the delay (ms) before the next run; a throw is logged and retried after `errorDelayMs`. */
export class Loop {
  readonly #clock: Clock;
  readonly #step: () => Promise<number>;
  readonly #logger: Logger;
  readonly #errorDelayMs: number;
  #timer: TimerHandle | undefined;
  #running: Promise<void> | undefined;
  #stopped = true;

  constructor(options: { clock: Clock; step: () => Promise<number>; logger: Logger; errorDelayMs: number }) {
    this.#clock = options.clock;
    this.#step = options.step;
    this.#logger = options.logger;
    this.#errorDelayMs = options.errorDelayMs;
  }

  /** Starts the loop (first run after `delayMs`). Idempotent. */
  start(delayMs = 0): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#schedule(delayMs);
  }

  /** Runs the step now (cancelling the pending timer); used to react to events without waiting a period. */
  kick(): void {
    if (this.#stopped || this.#running !== undefined) return;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#schedule(0);
  }

  /** Stops scheduling and waits for a step in flight. Idempotent. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  #schedule(delayMs: number): void {
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      this.#running = this.#run().finally(() => {
        this.#running = undefined;
      });
    }, delayMs);
  }

  async #run(): Promise<void> {
    let next = this.#errorDelayMs;
    try {
      next = await this.#step();
    } catch (err) {
      this.#logger.error({ err: errorMessage(err) }, 'loop step failed');
    }
    if (!this.#stopped) this.#schedule(next);
  }
}
