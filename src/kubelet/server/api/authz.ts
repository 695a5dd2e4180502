/**
 * Authorization of kubelet API requests: `AlwaysAllow`, or `Webhook` (SubjectAccessReview per subresource, allowed
 * answers cached for authorizedTTL and denials for unauthorizedTTL, as upstream's webhook authorizer).
 */
import type { Clock } from '../../../util/clock.js';
import type { AuthorizationAttributes, RequestAttributes } from './attributes.js';
import type { ReviewClient } from './reviews.js';
import { TtlCache } from './ttl-cache.js';

/** A verdict; `error` set when the authorizer could not decide (upstream answers 500). */
export interface Decision {
  allowed: boolean;
  error?: string;
}

/** Decides whether a request may proceed. Never throws. */
export interface RequestAuthorizer {
  authorize(a: RequestAttributes): Promise<Decision>;
}

/** Allows everything (authorization.mode AlwaysAllow). */
export const alwaysAllow: RequestAuthorizer = { authorize: () => Promise.resolve({ allowed: true }) };

/** Options of {@link createWebhookAuthorizer}. */
export interface WebhookAuthorizerOptions {
  /** undefined = no API server (standalone): every request is denied. */
  reviews: ReviewClient | undefined;
  authorizedTTLMs: number;
  unauthorizedTTLMs: number;
  clock: Pick<Clock, 'monotonic'>;
}

function cacheKey(a: AuthorizationAttributes): string {
  return JSON.stringify([a.user.name, a.user.uid ?? '', [...a.user.groups].sort(), a.user.extra ?? {}, a.verb, a.resource, a.subresource, a.name]);
}

/** The SubjectAccessReview authorizer: the first allowed subresource wins; an unreachable API server is an error. */
export function createWebhookAuthorizer(o: WebhookAuthorizerOptions): RequestAuthorizer {
  const cache = new TtlCache<boolean>(o.clock);
  return {
    async authorize(req) {
      for (const subresource of req.subresources) {
        const a: AuthorizationAttributes = { user: req.user, verb: req.verb, resource: req.resource, subresource, name: req.name };
        const key = cacheKey(a);
        let allowed = cache.get(key);
        if (allowed === undefined) {
          if (o.reviews === undefined) return { allowed: false };
          try {
            allowed = (await o.reviews.reviewAccess(a)).allowed;
          } catch (err) {
            return { allowed: false, error: String(err) };
          }
          cache.set(key, allowed, allowed ? o.authorizedTTLMs : o.unauthorizedTTLMs);
        }
        if (allowed) return { allowed: true };
      }
      return { allowed: false };
    },
  };
}
