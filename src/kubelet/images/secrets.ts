/** Registry credentials from `kubernetes.io/dockerconfigjson` (and legacy `.dockercfg`) secrets. Pure. */
import type { V1Secret } from '@kubernetes/client-node';
import type { AuthConfig } from '../../cri/types.js';
import { registryHost } from './policy.js';

interface DockerAuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
  registrytoken?: string;
}

function normalizeKey(key: string): string {
  const host = key.replace(/^https?:\/\//, '').split('/')[0] ?? key;
  return host === 'index.docker.io' || host === 'registry-1.docker.io' ? 'docker.io' : host;
}

/** Parses the auth entries of a secret; malformed secrets give an empty list. */
export function authsFromSecret(secret: V1Secret): Map<string, AuthConfig> {
  const out = new Map<string, AuthConfig>();
  const raw = secret.data?.['.dockerconfigjson'] ?? secret.data?.['.dockercfg'];
  if (raw === undefined) return out;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(raw, 'base64').toString('utf8'));
  } catch {
    return out;
  }
  const root = parsed as { auths?: Record<string, DockerAuthEntry> } & Record<string, DockerAuthEntry>;
  const auths = root.auths ?? root;
  for (const [key, e] of Object.entries(auths)) {
    if (e === null || typeof e !== 'object') continue;
    let { username, password } = e;
    if ((username === undefined || password === undefined) && typeof e.auth === 'string') {
      const dec = Buffer.from(e.auth, 'base64').toString('utf8');
      const i = dec.indexOf(':');
      if (i > 0) {
        username = dec.slice(0, i);
        password = dec.slice(i + 1);
      }
    }
    out.set(normalizeKey(key), {
      username,
      password,
      auth: e.auth,
      serverAddress: key,
      identityToken: e.identitytoken,
      registryToken: e.registrytoken,
    });
  }
  return out;
}

/** Credentials matching the image's registry, in secret order. */
export function credentialsFor(image: string, secrets: V1Secret[]): AuthConfig[] {
  const host = registryHost(image);
  const out: AuthConfig[] = [];
  for (const s of secrets) {
    const a = authsFromSecret(s).get(host);
    if (a !== undefined) out.push(a);
  }
  return out;
}
