/** A small expiring cache keyed by string, on an injected clock (webhook authentication/authorization results). */
import type { Clock } from '../../../util/clock.js';

/** Entries expire `ttlMs` after they were set; the size is bounded (oldest entries are evicted first). */
export class TtlCache<V> {
  readonly #entries = new Map<string, { value: V; expiresAt: number }>();

  constructor(
    private readonly clock: Pick<Clock, 'monotonic'>,
    private readonly maxEntries = 4096,
  ) {}

  /** The value, or undefined when absent or expired. */
  get(key: string): V | undefined {
    const e = this.#entries.get(key);
    if (e === undefined) return undefined;
    if (this.clock.monotonic() >= e.expiresAt) {
      this.#entries.delete(key);
      return undefined;
    }
    return e.value;
  }

  /** Stores `value` for `ttlMs` (a TTL ≤ 0 stores nothing). */
  set(key: string, value: V, ttlMs: number): void {
    if (ttlMs <= 0) return;
    this.#entries.delete(key);
    if (this.#entries.size >= this.maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, { value, expiresAt: this.clock.monotonic() + ttlMs });
  }

  get size(): number {
    return this.#entries.size;
  }
}
