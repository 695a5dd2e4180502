import { sendJson, parseObject, type Request } from '../http.js';
import { isObject, meta, str, type JsonObject } from '../json.js';
import type { Registry } from '../registry.js';
import type { Target } from '../router.js';
import { ApiError, invalid, invalidValue, methodNotAllowed } from '../status.js';
import { bindPod } from '../controllers/scheduler.js';
import { decodeToken, issueToken } from '../tokens.js';
import { accessReview, admitNodeRestriction } from '../authz/index.js';

/** Answers for TokenReview and SubjectAccessReview (configurable per server). */
export interface ReviewHooks {
  /** Returns the TokenReview status for a token; default: authenticated when it is a token this server issued or the admin token. */
  tokenReview?: (token: string, audiences: string[]) => JsonObject;
  /** Returns the SubjectAccessReview status; default `{ allowed: true }`. */
  subjectAccessReview?: (spec: JsonObject) => JsonObject;
}

function binding(r: Request, t: Target, reg: Registry): void {
  const b = parseObject(r.body, 'Binding');
  const target = isObject(b.target) ? b.target : {};
  bindPod(reg, t.namespace!, t.name!, str(target, 'name') ?? '');
  sendJson(r.res, 201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
}

function tokenRequest(r: Request, t: Target, reg: Registry, now: Date, serverMinor: number | undefined): void {
  const sa = reg.get(t.def, t.namespace, t.name!);
  const body = parseObject(r.body, 'TokenRequest');
  admitNodeRestriction(reg.store, { user: r.user, operation: 'create', def: t.def, namespace: t.namespace, name: t.name!, subresource: 'token', object: body, serverMinor }, undefined);
  const spec = isObject(body.spec) ? body.spec : {};
  const exp = typeof spec.expirationSeconds === 'number' ? spec.expirationSeconds : 3600;
  if (exp < 600) {
    throw invalid('TokenRequest', t.name!, [invalidValue('spec.expirationSeconds', exp, 'may not specify a duration less than 10 minutes')], 'authentication.k8s.io');
  }
  const audiences = Array.isArray(spec.audiences) && spec.audiences.length > 0 ? spec.audiences.map(String) : ['https://kubernetes.default.svc.cluster.local'];
  const bound = isObject(spec.boundObjectRef) ? spec.boundObjectRef : null;
  const { token, exp: expAt } = issueToken({
    namespace: t.namespace!,
    serviceAccount: t.name!,
    serviceAccountUid: String(meta(sa).uid),
    audiences,
    expirationSeconds: exp,
    now: Math.floor(now.getTime() / 1000),
    pod: bound && bound.kind === 'Pod' ? { name: String(bound.name ?? ''), uid: String(bound.uid ?? '') } : undefined,
  });
  sendJson(r.res, 201, {
    kind: 'TokenRequest',
    apiVersion: 'authentication.k8s.io/v1',
    metadata: { name: t.name!, namespace: t.namespace!, creationTimestamp: null },
    spec: { audiences, expirationSeconds: exp, boundObjectRef: bound },
    status: { token, expirationTimestamp: new Date(expAt * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z') },
  });
}

const API_AUDIENCES = ['https://kubernetes.default.svc.cluster.local'];
const goStrings = (l: string[]): string => `[${l.map((a) => JSON.stringify(a)).join(' ')}]`;

/**
 * TokenReview of a service-account token this server issued, as kube-apiserver v1.33 answers it (recorded): the
 * audiences asked for must meet the token's, and the user carries the SA's uid, the
 * groups system:serviceaccounts, system:serviceaccounts:<ns>, system:authenticated and pod extras for bound tokens.
 */
function serviceAccountReview(claims: Record<string, unknown>, asked: string[]): JsonObject {
  const aud = Array.isArray(claims.aud) ? claims.aud.map(String) : [];
  // Without spec.audiences the real server checks its API audiences; tokens for other audiences are accepted here
  // (a documented leniency other tests rely on), and the token's own audiences are returned.
  const target = asked.length > 0 ? asked : API_AUDIENCES;
  const matched = asked.length > 0 ? target.filter((a) => aud.includes(a)) : aud;
  if (matched.length === 0) return { user: {}, error: `[invalid bearer token, token audiences ${goStrings(aud)} is invalid for the target audiences ${goStrings(target)}]` };
  const k = isObject(claims['kubernetes.io']) ? claims['kubernetes.io'] : {};
  const ns = str(k, 'namespace') ?? '';
  const sa = isObject(k.serviceaccount) ? k.serviceaccount : {};
  const pod = isObject(k.pod) ? k.pod : undefined;
  const user: JsonObject = { username: String(claims.sub), uid: str(sa, 'uid') ?? '', groups: ['system:serviceaccounts', `system:serviceaccounts:${ns}`, 'system:authenticated'] };
  if (pod !== undefined) user.extra = { 'authentication.kubernetes.io/pod-name': [str(pod, 'name') ?? ''], 'authentication.kubernetes.io/pod-uid': [str(pod, 'uid') ?? ''] };
  return { authenticated: true, user, audiences: matched };
}

function tokenReview(r: Request, hooks: ReviewHooks, adminToken: string, now: Date): void {
  const body = parseObject(r.body, 'TokenReview');
  const spec = isObject(body.spec) ? body.spec : {};
  const token = str(spec, 'token') ?? '';
  const audiences = Array.isArray(spec.audiences) ? spec.audiences.map(String) : [];
  let status: JsonObject;
  if (hooks.tokenReview) status = hooks.tokenReview(token, audiences);
  else if (token === adminToken) status = { authenticated: true, user: { username: 'admin', groups: ['system:masters', 'system:authenticated'] } };
  else {
    const claims = decodeToken(token);
    const exp = typeof claims?.exp === 'number' ? claims.exp : 0;
    status =
      claims && exp > now.getTime() / 1000 ? serviceAccountReview(claims, audiences) : { authenticated: false, error: '[invalid bearer token, token lookup failed]' };
  }
  sendJson(r.res, 201, { kind: 'TokenReview', apiVersion: 'authentication.k8s.io/v1', metadata: { creationTimestamp: null }, spec, status });
}

function subjectAccessReview(r: Request, reg: Registry, hooks: ReviewHooks, kind: string, serverMinor: number | undefined): void {
  const body = parseObject(r.body, kind);
  const spec = isObject(body.spec) ? body.spec : {};
  const self = kind === 'SelfSubjectAccessReview';
  const asked = self ? { ...spec, user: r.user?.username ?? 'admin', groups: r.user?.groups ?? ['system:masters', 'system:authenticated'] } : spec;
  // Node and kube-proxy identities are answered by this server's authorizer; other users by the hook (default allowed).
  const who = { username: str(asked, 'user') ?? '', groups: Array.isArray(asked.groups) ? asked.groups.map(String) : [] };
  const status = hooks.subjectAccessReview ? hooks.subjectAccessReview(asked) : (accessReview(reg.store, who, asked, serverMinor) ?? { allowed: true });
  sendJson(r.res, 201, { kind, apiVersion: 'authorization.k8s.io/v1', metadata: { creationTimestamp: null }, spec, status });
}

/**
 * Serves pods/binding, serviceaccounts/token, tokenreviews and subjectaccessreviews; false when `t` is none of them.
 * `serverMinor`: minor version of an emulated older server (NodeRestriction of token requests depends on it).
 */
export function serveSpecial(r: Request, t: Target, reg: Registry, hooks: ReviewHooks, adminToken: string, now: Date, serverMinor?: number): boolean {
  const sub = t.subresource;
  const special = sub === 'binding' || sub === 'token' || t.def.virtual === true;
  if (!special) return false;
  if (r.method !== 'POST') throw methodNotAllowed();
  if (sub === 'binding') binding(r, t, reg);
  else if (sub === 'token') tokenRequest(r, t, reg, now, serverMinor);
  else if (t.def.plural === 'tokenreviews') tokenReview(r, hooks, adminToken, now);
  else if (t.def.plural === 'subjectaccessreviews' || t.def.plural === 'selfsubjectaccessreviews') subjectAccessReview(r, reg, hooks, t.def.kind, serverMinor);
  else throw new ApiError(404, 'NotFound', 'the server could not find the requested resource', {});
  return true;
}
