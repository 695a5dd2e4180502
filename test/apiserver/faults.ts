import type { ServerResponse } from 'node:http';
import { ApiError } from './status.js';
import type { Store } from './store.js';

/** Which requests a fault applies to. */
export interface FaultMatch {
  /** HTTP method (upper case); any when omitted. */
  method?: string;
  /** Substring or regexp the path must match; any when omitted. */
  path?: string | RegExp;
  /** Only watch requests (true) / only non-watch requests (false). */
  watch?: boolean;
}

interface Rule extends FaultMatch {
  remaining: number;
  until: number;
  status?: number;
  delayMs?: number;
}

/** Options of {@link Faults.failRequests}. */
export interface FailOptions extends FaultMatch {
  /** HTTP status to answer (default 500; 503 and 429 carry Retry-After: 1). */
  status?: number;
  /** How many requests to fail (default unlimited within `forMs`). */
  count?: number;
  /** For how long (default until cleared). */
  forMs?: number;
}

/** Options of {@link Faults.delayRequests}. */
export interface DelayOptions extends FaultMatch {
  ms: number;
  count?: number;
  forMs?: number;
}

const REASONS: Record<number, string> = { 403: 'Forbidden', 429: 'TooManyRequests', 500: 'InternalError', 503: 'ServiceUnavailable', 504: 'Timeout' };

/**
 * Fault injection for the test API server: drop watch connections, answer 410 on watches, fail or delay requests.
 * Every method is safe to call at any time; `clear()` removes request rules.
 */
export class Faults {
  readonly #store: Store;
  readonly #watches: Set<ServerResponse>;
  #rules: Rule[] = [];
  #goneWatches = 0;
  #resetReused = 0;

  constructor(store: Store, watches: Set<ServerResponse>) {
    this.#store = store;
    this.#watches = watches;
  }

  /** Abruptly closes every open watch connection (clients see the stream end / reset). Returns how many. */
  dropWatches(): number {
    const n = this.#watches.size;
    for (const res of [...this.#watches]) res.destroy();
    this.#watches.clear();
    return n;
  }

  /** Compacts the event history: every watch resuming from an older resourceVersion gets 410 Expired. */
  expireHistory(): void {
    this.#store.compact();
  }

  /** The next `n` watch requests get an ERROR 410 Expired event (then the stream ends). */
  goneOnNextWatches(n = 1): void {
    this.#goneWatches += n;
  }

  /** Answers matching requests with a 5xx/429 Status. */
  failRequests(o: FailOptions = {}): void {
    this.#rules.push({ ...o, status: o.status ?? 500, remaining: o.count ?? Infinity, until: o.forMs === undefined ? Infinity : Date.now() + o.forMs });
  }

  /** Delays matching requests by `ms` before they are served. */
  delayRequests(o: DelayOptions): void {
    this.#rules.push({ ...o, delayMs: o.ms, remaining: o.count ?? Infinity, until: o.forMs === undefined ? Infinity : Date.now() + o.forMs });
  }

  /**
   * The next `n` requests that arrive on an already used (kept-alive) connection find it closed: the socket is
   * destroyed before an answer, as when a server closes an idle connection just as the client reuses it.
   */
  resetReusedConnections(n = 1): void {
    this.#resetReused = n;
  }

  /** Removes all request rules and pending 410s and resets. */
  clear(): void {
    this.#rules = [];
    this.#goneWatches = 0;
    this.#resetReused = 0;
  }

  /** @internal Consumes one pending reset for a request on a reused connection. */
  takeResetReused(): boolean {
    if (this.#resetReused <= 0) return false;
    this.#resetReused--;
    return true;
  }

  /** @internal Consumes one pending forced 410 for a watch request. */
  takeGone(): boolean {
    if (this.#goneWatches <= 0) return false;
    this.#goneWatches--;
    return true;
  }

  /** @internal What to do with a request: total delay and an optional error to answer with. */
  check(method: string, path: string, isWatch: boolean): { delayMs: number; error?: ApiError; retryAfter?: boolean } {
    const now = Date.now();
    this.#rules = this.#rules.filter((r) => r.remaining > 0 && r.until > now);
    let delayMs = 0;
    for (const r of this.#rules) {
      if (r.method !== undefined && r.method !== method) continue;
      if (r.watch !== undefined && r.watch !== isWatch) continue;
      if (r.path !== undefined && !(typeof r.path === 'string' ? path.includes(r.path) : r.path.test(path))) continue;
      r.remaining--;
      if (r.delayMs !== undefined) delayMs += r.delayMs;
      else if (r.status !== undefined) {
        const reason = REASONS[r.status] ?? 'InternalError';
        return {
          delayMs,
          error: new ApiError(r.status, reason, `injected fault: ${reason}`),
          retryAfter: r.status === 503 || r.status === 429,
        };
      }
    }
    return { delayMs };
  }
}
