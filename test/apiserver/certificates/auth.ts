/**
 * The two ways a node authenticates besides the admin token: an X.509 client certificate signed by the server's CA
 * (user = CN, groups = O, as kube-apiserver's x509 authenticator) and a bootstrap token `<id>.<secret>` backed by the
 * Secret `kube-system/bootstrap-token-<id>` (user `system:bootstrap:<id>`, groups `system:bootstrappers` plus
 * `auth-extra-groups`). Node and kube-proxy users are then authorized by ../authz; others may do anything.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { findResource } from '../resources.js';
import { isObject, type JsonObject } from '../json.js';
import type { Registry } from '../registry.js';

/** An authenticated user. */
export interface UserInfo {
  username: string;
  groups: string[];
}

const TOKEN = /^([a-z0-9]{6})\.([a-z0-9]{16})$/;

function decoded(data: JsonObject, key: string): string | undefined {
  const v = data[key];
  return typeof v === 'string' ? Buffer.from(v, 'base64').toString('utf8') : undefined;
}

/** The user of a bootstrap token, when `token` is a valid one. */
export function bootstrapTokenUser(reg: Registry, token: string, nowMs: number): UserInfo | undefined {
  const m = TOKEN.exec(token);
  if (m === null) return undefined;
  const secret = reg.store.get('secrets', `kube-system/bootstrap-token-${m[1]!}`);
  if (secret === undefined || secret.type !== 'bootstrap.kubernetes.io/token' || !isObject(secret.data)) return undefined;
  const d = secret.data;
  if (decoded(d, 'token-id') !== m[1] || decoded(d, 'token-secret') !== m[2] || decoded(d, 'usage-bootstrap-authentication') !== 'true') return undefined;
  const exp = decoded(d, 'expiration');
  if (exp !== undefined && Date.parse(exp) <= nowMs) return undefined;
  const extra = (decoded(d, 'auth-extra-groups') ?? '').split(',').filter((g) => g.startsWith('system:bootstrappers:'));
  return { username: `system:bootstrap:${m[1]!}`, groups: ['system:bootstrappers', ...extra, 'system:authenticated'] };
}

/**
 * Serial numbers (upper-case hex) of every verified client certificate a request was authenticated with, and when it
 * was last seen: lets tests show that a rotated certificate is the one in use. Global to the process (serials are
 * random, so servers do not collide).
 */
export const seenClientCertSerials = new Map<string, number>();

/** The user of a verified client certificate on the request's TLS connection, if any. */
export function clientCertUser(req: IncomingMessage): UserInfo | undefined {
  const sock = req.socket as TLSSocket;
  if (typeof sock.getPeerCertificate !== 'function' || !sock.authorized) return undefined;
  const cert = sock.getPeerCertificate();
  const cn = cert.subject?.CN;
  if (cn === undefined || cn === '') return undefined;
  seenClientCertSerials.set(cert.serialNumber.toUpperCase(), Date.now());
  const o = cert.subject.O;
  const groups = o === undefined ? [] : Array.isArray(o) ? o : [o];
  return { username: Array.isArray(cn) ? String(cn[0]) : cn, groups: [...groups, 'system:authenticated'] };
}

/** Creates a bootstrap token Secret (as `kubeadm token create`) and returns the token. */
export function createBootstrapToken(reg: Registry, ttlMs = 3600_000): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const pick = (n: number): string => [...randomBytes(n)].map((b) => alphabet[b % alphabet.length]).join('');
  const id = pick(6);
  const secret = pick(16);
  const b64 = (s: string): string => Buffer.from(s).toString('base64');
  reg.create(findResource('', 'v1', 'secrets')!, 'kube-system', {
    metadata: { name: `bootstrap-token-${id}` },
    type: 'bootstrap.kubernetes.io/token',
    data: {
      'token-id': b64(id),
      'token-secret': b64(secret),
      'usage-bootstrap-authentication': b64('true'),
      'usage-bootstrap-signing': b64('true'),
      'auth-extra-groups': b64('system:bootstrappers:kubeadm:default-node-token'),
      expiration: b64(new Date(Date.now() + ttlMs).toISOString().replace(/\.\d+Z$/, 'Z')),
    },
  });
  return `${id}.${secret}`;
}

/**
 * On a CSR create, sets `spec.username`/`groups` to the requester (the API server ignores what the client sent).
 * `body` is the JSON request body; returns it unchanged for other requests.
 */
export function stampCsrRequester(method: string, path: string, body: Buffer, user: UserInfo | undefined): Buffer {
  if (method !== 'POST' || !/^\/apis\/certificates\.k8s\.io\/v1\/certificatesigningrequests\/?$/.test(path) || body.length === 0) return body;
  try {
    const o = JSON.parse(body.toString('utf8')) as JsonObject;
    const spec = isObject(o.spec) ? o.spec : {};
    spec.username = user?.username ?? 'admin';
    spec.groups = user?.groups ?? ['system:masters', 'system:authenticated'];
    o.spec = spec;
    return Buffer.from(JSON.stringify(o));
  } catch {
    return body;
  }
}
