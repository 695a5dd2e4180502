/**
 * Service account tokens for projected volumes (upstream pkg/kubelet/token): one cached token per
 * (namespace, service account, audiences, expiration, bound pod). A token is fetched again once 80 % of its lifetime
 * has passed or it is 24 h old; if the refresh fails, the old token is kept while it is still valid.
 * Tokens are never logged.
 */
import type { IssuedToken, PodObjectSource, TokenRequestSpec } from '../../api/objects.js';
import type { Clock } from '../../util/clock.js';

const MAX_TTL_MS = 24 * 3600 * 1000;

interface Cached extends IssuedToken {
  expirationSeconds: number;
  podUID: string;
}

/** Caches and refreshes bound service account tokens. One instance per agent. */
export class TokenManager {
  readonly #cache = new Map<string, Cached>();
  readonly #clock: Clock;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** True when the token should be fetched again at `now` (≥ 80 % of its lifetime, or 24 h old). */
  static requiresRefresh(t: Cached | undefined, now: number): boolean {
    if (t === undefined) return true;
    const ttl = t.expirationSeconds * 1000;
    const issuedAt = t.expiresAt - ttl;
    if (now >= issuedAt + MAX_TTL_MS) return true;
    return now >= t.expiresAt - ttl * 0.2;
  }

  /** The token for `spec`, fetched through `objects` when missing or due. Throws the source's error on failure. */
  async get(objects: PodObjectSource, namespace: string, sa: string, spec: TokenRequestSpec): Promise<string> {
    const key = JSON.stringify([namespace, sa, spec.audiences, spec.expirationSeconds, spec.boundObjectRef.uid]);
    const cached = this.#cache.get(key);
    const now = this.#clock.now();
    if (!TokenManager.requiresRefresh(cached, now) && cached !== undefined) return cached.token;
    try {
      const t = await objects.requestToken(namespace, sa, spec);
      this.#cache.set(key, { ...t, expirationSeconds: spec.expirationSeconds, podUID: spec.boundObjectRef.uid });
      return t.token;
    } catch (err) {
      if (cached !== undefined && now < cached.expiresAt) return cached.token;
      throw err;
    }
  }

  /** Forgets every token bound to the pod. */
  deletePod(podUID: string): void {
    for (const [k, v] of this.#cache) if (v.podUID === podUID) this.#cache.delete(k);
  }
}
