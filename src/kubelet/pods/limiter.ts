/**
 * A counting semaphore with first-come-first-served waiters. The pod workers use one to bound how many sandboxes
 * start at the same time: a burst of pods otherwise asks the engine for all sandbox starts at once, every start
 * slows down, and the app containers of the first sandboxes wait behind the rest.
 */

/** See module comment. Safe for any number of concurrent callers. */
export class Limiter {
  readonly #limit: number;
  readonly #waiters: (() => void)[] = [];
  #active = 0;

  /** `limit` ≥ 1 concurrent holders (Infinity: no limit). */
  constructor(limit: number) {
    if (!(limit >= 1)) throw new RangeError(`limit must be ≥ 1, got ${limit}`);
    this.#limit = limit;
  }

  /** Holders right now. */
  get active(): number {
    return this.#active;
  }

  /** Callers waiting for a slot. */
  get waiting(): number {
    return this.#waiters.length;
  }

  /** Runs `fn` once a slot is free (in arrival order) and frees the slot when it settles. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#active >= this.#limit) await new Promise<void>((resolve) => this.#waiters.push(resolve));
    else this.#active++;
    try {
      return await fn();
    } finally {
      const next = this.#waiters.shift();
      // The slot passes straight to the next waiter, so a newcomer cannot overtake it.
      if (next === undefined) this.#active--;
      else next();
    }
  }
}
