import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';

let key: { privateKey: KeyObject; kid: string } | undefined;

function signingKey(): { privateKey: KeyObject; kid: string } {
  if (key === undefined) {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const der = publicKey.export({ type: 'spki', format: 'der' });
    key = { privateKey, kid: createHash('sha256').update(der).digest('base64url') };
  }
  return key;
}

const b64 = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url');

/** Claims of a bound service-account token. */
export interface TokenClaims {
  namespace: string;
  serviceAccount: string;
  serviceAccountUid: string;
  audiences: string[];
  expirationSeconds: number;
  /** Seconds since the epoch. */
  now: number;
  pod?: { name: string; uid: string };
}

/** Issues a JWT shaped like a kube-apiserver service-account token (ES256 here; upstream usually RS256). */
export function issueToken(c: TokenClaims): { token: string; exp: number } {
  const k = signingKey();
  const exp = c.now + c.expirationSeconds;
  const ns: Record<string, unknown> = {
    namespace: c.namespace,
    serviceaccount: { name: c.serviceAccount, uid: c.serviceAccountUid },
  };
  if (c.pod !== undefined) ns.pod = c.pod;
  const payload = {
    aud: c.audiences,
    exp,
    iat: c.now,
    iss: 'https://kubernetes.default.svc.cluster.local',
    'kubernetes.io': ns,
    nbf: c.now,
    sub: `system:serviceaccount:${c.namespace}:${c.serviceAccount}`,
  };
  const input = `${b64({ alg: 'ES256', kid: k.kid })}.${b64(payload)}`;
  const sig = sign('sha256', Buffer.from(input), { key: k.privateKey, dsaEncoding: 'ieee-p1363' });
  return { token: `${input}.${sig.toString('base64url')}`, exp };
}

/** Decodes the payload of a token issued by {@link issueToken} (no signature check; for TokenReview). */
export function decodeToken(token: string): Record<string, unknown> | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const v: unknown = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'));
    return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
