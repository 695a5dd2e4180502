/**
 * Verification of a client's certificate chain against the current client CA bundle, per request, for connections
 * whose TLS handshake did not verify it: Node verifies only at the handshake, against the bundle of that moment, so
 * a certificate of a CA added since would be refused until the client reconnects. Upstream verifies every request
 * (x509.Verify with the current pool and ExtKeyUsageClientAuth); this does the same checks: each link's issuer and
 * signature, validity dates, CA flag of the issuers, and the leaf's extended key usage.
 */
import { X509Certificate } from 'node:crypto';
import type { DetailedPeerCertificate } from 'node:tls';
import type { ClientCABundle } from './types.js';

const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const ANY_EXTENDED_KEY_USAGE = '2.5.29.37.0';
/** Longest chain followed (leaf, intermediates, anchor). */
const MAX_DEPTH = 8;

const anchorsOf = new WeakMap<ClientCABundle, X509Certificate[]>();

/** The bundle's certificates, parsed once per bundle. */
function anchors(bundle: ClientCABundle): X509Certificate[] {
  let parsed = anchorsOf.get(bundle);
  if (parsed === undefined) {
    parsed = bundle.certificates.map((pem) => new X509Certificate(pem));
    anchorsOf.set(bundle, parsed);
  }
  return parsed;
}

function validAt(c: X509Certificate, now: Date): boolean {
  return new Date(c.validFrom) <= now && now <= new Date(c.validTo);
}

/** `issuer` issued and signed `child`. */
function issued(issuer: X509Certificate, child: X509Certificate): boolean {
  return child.checkIssued(issuer) && child.verify(issuer.publicKey);
}

/** The certificates the peer presented, leaf first (as `getPeerCertificate(true)` links them). */
function presented(leaf: DetailedPeerCertificate): X509Certificate[] {
  const out: X509Certificate[] = [];
  const seen = new Set<string>();
  for (let c: DetailedPeerCertificate | undefined = leaf; c?.raw !== undefined && !seen.has(c.fingerprint256) && out.length < MAX_DEPTH; c = c.issuerCertificate) {
    seen.add(c.fingerprint256);
    out.push(new X509Certificate(c.raw));
  }
  return out;
}

/**
 * True when `leaf` (with the intermediates the peer sent) chains up to a certificate of `bundle`, every certificate
 * on the way valid at `now`, every issuer a CA, and the leaf usable for client authentication. Never throws (an
 * unparsable certificate is not trusted).
 */
export function peerChainVerifies(leaf: DetailedPeerCertificate, bundle: ClientCABundle, now: Date): boolean {
  try {
    const chain = presented(leaf);
    const first = chain[0];
    if (first === undefined) return false;
    const eku = first.keyUsage as string[] | undefined;
    if (eku !== undefined && eku.length > 0 && !eku.includes(CLIENT_AUTH) && !eku.includes(ANY_EXTENDED_KEY_USAGE)) return false;
    const roots = anchors(bundle);
    let current = first;
    const intermediates = chain.slice(1);
    for (let depth = 0; depth < MAX_DEPTH; depth++) {
      if (!validAt(current, now)) return false;
      if (roots.some((r) => validAt(r, now) && (r.fingerprint256 === current.fingerprint256 || (r.ca && issued(r, current))))) return true;
      const next = intermediates.find((i) => i.ca && issued(i, current));
      if (next === undefined) return false;
      current = next;
    }
    return false;
  } catch {
    return false;
  }
}
