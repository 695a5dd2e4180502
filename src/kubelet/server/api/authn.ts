/**
 * Request authentication of the kubelet API, as upstream's delegating authenticator: an x509 client certificate
 * verified against the client CA (user = CN, groups = O; with a reloadable CA against the current bundle at every
 * request, as upstream does — see {@link certificateUser}), else a bearer token through TokenReview (cached for
 * cacheTTL, successes and failures alike), else — only when enabled — the anonymous user. Authenticated (non-anonymous)
 * users get the `system:authenticated` group.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { DetailedPeerCertificate, TLSSocket } from 'node:tls';
import type { Clock } from '../../../util/clock.js';
import type { Logger } from '../../../util/logger.js';
import type { UserInfo } from './attributes.js';
import type { ReviewClient } from './reviews.js';
import { peerChainVerifies } from './peer-chain.js';
import { TtlCache } from './ttl-cache.js';
import type { ClientCABundle, ClientCASource } from './types.js';

/** Identifies the user of a request; undefined = not authenticated (401). Never throws. */
export interface RequestAuthenticator {
  authenticate(req: IncomingMessage): Promise<UserInfo | undefined>;
}

/** Options of {@link createAuthenticator}. */
export interface AuthenticatorOptions {
  /** Client certificates are trusted (the TLS server was given a client CA and verified the chain). */
  x509: boolean;
  /**
   * The client CA the TLS server verifies against. When given, a verified certificate counts only while its chain
   * reaches a certificate of the current bundle: a connection opened before the CA was rotated out is not trusted.
   */
  clientCA?: Pick<ClientCASource, 'current'>;
  /** TokenReview client; undefined = bearer tokens are not accepted. */
  tokenReviews: ReviewClient | undefined;
  cacheTTLMs: number;
  anonymous: boolean;
  clock: Pick<Clock, 'monotonic'>;
  logger: Logger;
}

const ANONYMOUS: UserInfo = { name: 'system:anonymous', groups: ['system:unauthenticated'] };

function withAuthenticatedGroup(u: UserInfo): UserInfo {
  return u.groups.includes('system:authenticated') ? u : { ...u, groups: [...u.groups, 'system:authenticated'] };
}

/** True when the verified chain (leaf up to the trust anchor OpenSSL found) holds a certificate of `bundle`. */
function chainInBundle(leaf: DetailedPeerCertificate, bundle: ClientCABundle): boolean {
  const seen = new Set<string>();
  for (let c: DetailedPeerCertificate | undefined = leaf; c?.fingerprint256 !== undefined && !seen.has(c.fingerprint256); c = c.issuerCertificate) {
    if (bundle.fingerprints.has(c.fingerprint256)) return true;
    seen.add(c.fingerprint256);
  }
  return false;
}

/**
 * The user of a verified client certificate, or undefined when there is none or it does not verify. Without `bundle`
 * only the handshake's verdict counts; with it the chain must reach a certificate of the bundle now — a chain the
 * handshake verified against an older bundle must still reach it, and one the handshake could not verify (its CA
 * was added since) is verified per request (peer-chain.ts).
 */
export function certificateUser(req: IncomingMessage, bundle?: ClientCABundle): UserInfo | undefined {
  const socket = req.socket as Partial<TLSSocket>;
  if (typeof socket.getPeerCertificate !== 'function') return undefined;
  if (socket.authorized !== true && bundle === undefined) return undefined;
  const cert = socket.getPeerCertificate(bundle !== undefined) as DetailedPeerCertificate | null | undefined;
  if (cert === null || cert === undefined) return undefined;
  if (bundle !== undefined) {
    // Verified at the handshake: still trusted while the chain reaches the current bundle. Not verified then (the
    // bundle of that moment did not hold its CA): verified now against the current bundle, as upstream does.
    const trusted = socket.authorized === true ? chainInBundle(cert, bundle) : peerChainVerifies(cert, bundle, new Date());
    if (!trusted) return undefined;
  }
  const subject = (cert as { subject?: Record<string, string | string[] | undefined> } | undefined)?.subject;
  const cn = subject?.['CN'];
  const name = Array.isArray(cn) ? cn[0] : cn;
  if (name === undefined || name === '') return undefined;
  const o = subject?.['O'];
  const groups = o === undefined ? [] : Array.isArray(o) ? o : [o];
  return { name, groups };
}

/** The bearer token of a request, if any. */
export function bearerToken(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  if (h === undefined) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  return m?.[1];
}

/** Builds the authenticator chain. */
export function createAuthenticator(o: AuthenticatorOptions): RequestAuthenticator {
  const cache = new TtlCache<UserInfo | null>(o.clock);
  const reviewToken = async (token: string): Promise<UserInfo | undefined> => {
    const key = createHash('sha256').update(token).digest('hex');
    const hit = cache.get(key);
    if (hit !== undefined) return hit ?? undefined;
    if (o.tokenReviews === undefined) return undefined;
    try {
      const user = await o.tokenReviews.reviewToken(token);
      cache.set(key, user ?? null, o.cacheTTLMs);
      return user;
    } catch (err) {
      // An unreachable API server is not a verdict: not cached, the request is unauthenticated.
      o.logger.warn({ err: String(err) }, 'TokenReview failed');
      return undefined;
    }
  };
  return {
    async authenticate(req) {
      if (o.x509) {
        const bundle = o.clientCA?.current();
        // A reloadable CA that has no bundle (never loaded) trusts nothing.
        const u = o.clientCA !== undefined && bundle === undefined ? undefined : certificateUser(req, bundle);
        if (u !== undefined) return withAuthenticatedGroup(u);
      }
      const token = bearerToken(req);
      if (token !== undefined && o.tokenReviews !== undefined) {
        const u = await reviewToken(token);
        if (u !== undefined) return withAuthenticatedGroup(u);
      }
      return o.anonymous ? ANONYMOUS : undefined;
    },
  };
}
