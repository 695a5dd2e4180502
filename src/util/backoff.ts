/**
 * Per-key exponential backoff with the kubelet's shape: start at `initialMs`, double on every failure, cap at
 * `maxMs`; an entry untouched for `resetAfterMs` starts over. Crash-loop and image-pull backoff use it with
 * 10 s → 300 s; the entry state is plain data so status can show it.
 */

/** Options for {@link Backoff}. */
export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** An entry whose last failure is older than this is forgotten (upstream: 2 × max). */
  resetAfterMs?: number;
}

interface Entry {
  delayMs: number;
  lastUpdate: number;
}

/** Exponential backoff keyed by string (e.g. `podUID/containerName`). Not thread-safe; one owner per instance. */
export class Backoff {
  readonly #opts: Required<BackoffOptions>;
  readonly #entries = new Map<string, Entry>();

  constructor(options: BackoffOptions) {
    this.#opts = { resetAfterMs: options.maxMs * 2, ...options };
  }

  /** Records a failure at `now` and returns the new delay. */
  next(key: string, now: number): number {
    const e = this.#entries.get(key);
    if (e === undefined || now - e.lastUpdate > this.#opts.resetAfterMs) {
      this.#entries.set(key, { delayMs: this.#opts.initialMs, lastUpdate: now });
      return this.#opts.initialMs;
    }
    e.delayMs = Math.min(e.delayMs * 2, this.#opts.maxMs);
    e.lastUpdate = now;
    return e.delayMs;
  }

  /** Current delay for `key` (0 when none). */
  get(key: string): number {
    return this.#entries.get(key)?.delayMs ?? 0;
  }

  /** True when `key` is still backing off at `now` relative to `since` (the time the last attempt ended). */
  isInBackoffSince(key: string, since: number, now: number): boolean {
    const e = this.#entries.get(key);
    if (e === undefined) return false;
    if (now - e.lastUpdate > this.#opts.resetAfterMs) return false;
    return now - since < e.delayMs;
  }

  /** Forgets `key`. */
  reset(key: string): void {
    this.#entries.delete(key);
  }

  /** Number of entries (diagnostics). */
  get size(): number {
    return this.#entries.size;
  }

  /** Drops entries idle for longer than resetAfterMs. */
  gc(now: number): void {
    for (const [k, e] of this.#entries) {
      if (now - e.lastUpdate > this.#opts.resetAfterMs) this.#entries.delete(k);
    }
  }
}
