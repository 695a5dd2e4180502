/**
 * usageNanoCores needs two readings of a cumulative counter. This keeps the previous reading per key (a cgroup) and
 * derives the rate between readings at least `minIntervalMs` apart, as cAdvisor derives it between housekeeping
 * samples. Bounded: least recently read keys are dropped beyond `maxEntries`.
 */

interface Entry {
  atMs: number;
  usageNanos: number;
  /** Rate between the last two accepted readings (nanocores), when there were two. */
  nanoCores: number | undefined;
}

/** Options of {@link CpuRateCache}. */
export interface CpuRateCacheOptions {
  /** Readings closer than this to the kept one do not replace it; the last rate is returned (default 1000 ms). */
  minIntervalMs?: number;
  /** Keys kept at most (default 4096). */
  maxEntries?: number;
}

/** Per-cgroup previous CPU readings and the rate between them. */
export class CpuRateCache {
  readonly #entries = new Map<string, Entry>();
  readonly #minIntervalMs: number;
  readonly #maxEntries: number;

  constructor(opts: CpuRateCacheOptions = {}) {
    this.#minIntervalMs = opts.minIntervalMs ?? 1000;
    this.#maxEntries = opts.maxEntries ?? 4096;
  }

  /**
   * Records a reading of `key` taken at `atMs` and returns the CPU rate in nanocores, or undefined while there is no
   * earlier reading (or the counter went backwards: a new cgroup under the same key).
   */
  observe(key: string, atMs: number, usageNanos: number): number | undefined {
    const prev = this.#entries.get(key);
    if (prev !== undefined) {
      this.#entries.delete(key); // re-insert below: Map order is the LRU order
      if (atMs - prev.atMs < this.#minIntervalMs && usageNanos >= prev.usageNanos) {
        this.#entries.set(key, prev);
        return prev.nanoCores;
      }
    }
    let nanoCores: number | undefined;
    if (prev !== undefined && usageNanos >= prev.usageNanos && atMs > prev.atMs) {
      nanoCores = Math.round(((usageNanos - prev.usageNanos) / ((atMs - prev.atMs) * 1e6)) * 1e9);
    }
    this.#entries.set(key, { atMs, usageNanos, nanoCores });
    while (this.#entries.size > this.#maxEntries) this.#entries.delete(this.#entries.keys().next().value!);
    return nanoCores;
  }

  /** Forgets keys not in `live` (containers that are gone). */
  retain(live: Set<string>): void {
    for (const k of [...this.#entries.keys()]) if (!live.has(k)) this.#entries.delete(k);
  }

  /** Number of keys kept. */
  get size(): number {
    return this.#entries.size;
  }
}
