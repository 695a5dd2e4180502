/**
 * Authorization of the test API server: the Node authorizer, then RBAC with the default v1.33 bindings, for the two
 * identities nodelet runs with on a real cluster — nodes (`system:node:<name>`, group `system:nodes`) and kube-proxy
 * (`system:kube-proxy`). Every other authenticated user (the admin token, service-account and bootstrap tokens, other
 * client certificates) is allowed everything, as before. A refusal is the real server's 403 Status.
 */
import type { UserInfo } from '../certificates/auth.js';
import { ApiError } from '../status.js';
import type { Store } from '../store.js';
import { fieldTerms, type Attributes } from './attributes.js';
import { authorizeNode, nodeIdentity, type Decision } from './node-authorizer.js';
import { AUTHENTICATED_RULES, NODE_PROXIER_RULES, NODES_GROUP_RULES, rulesAllow } from './rules.js';

/** True for the users this server authorizes (the others may do anything). */
export function isRestrictedUser(user: UserInfo | undefined): user is UserInfo {
  return user !== undefined && (nodeIdentity({ user }) !== undefined || user.username === 'system:kube-proxy');
}

function rbac(a: Attributes): boolean {
  if (rulesAllow(a, AUTHENTICATED_RULES)) return true;
  if (a.user.groups.includes('system:nodes') && rulesAllow(a, NODES_GROUP_RULES)) return true;
  return a.user.username === 'system:kube-proxy' && rulesAllow(a, NODE_PROXIER_RULES);
}

/** The union of the Node authorizer and RBAC (`--authorization-mode=Node,RBAC`); `serverMinor` as in authorizeNode. */
export function decide(store: Store, a: Attributes, serverMinor?: number): Decision {
  const node = nodeIdentity(a);
  const byNode = node === undefined ? { allowed: false, reason: '' } : authorizeNode(store, node, a, serverMinor);
  if (byNode.allowed) return byNode;
  return rbac(a) ? { allowed: true, reason: '' } : byNode;
}

/** The 403 kube-apiserver answers for a denied request (responsewriters.ForbiddenStatusError). */
export function forbiddenError(a: Attributes, reason: string): ApiError {
  const who = JSON.stringify(a.user.username);
  if (!a.resourceRequest) {
    const msg = `User ${who} cannot ${a.verb} path ${JSON.stringify(a.path)}`;
    return new ApiError(403, 'Forbidden', `forbidden: ${reason === '' ? msg : `${msg}: ${reason}`}`, {});
  }
  const res = a.subresource === '' ? a.resource : `${a.resource}/${a.subresource}`;
  const scope = a.namespace === '' ? 'at the cluster scope' : `in the namespace ${JSON.stringify(a.namespace)}`;
  let msg = `User ${who} cannot ${a.verb} resource ${JSON.stringify(res)} in API group ${JSON.stringify(a.apiGroup)} ${scope}`;
  if (reason !== '') msg = `${msg}: ${reason}`;
  const qualified = a.apiGroup === '' ? a.resource : `${a.resource}.${a.apiGroup}`;
  const details: Record<string, string> = {};
  if (a.name !== '') details.name = a.name;
  if (a.apiGroup !== '') details.group = a.apiGroup;
  details.kind = a.resource;
  return new ApiError(403, 'Forbidden', a.name === '' ? `${qualified} is forbidden: ${msg}` : `${qualified} ${JSON.stringify(a.name)} is forbidden: ${msg}`, details);
}

/** Throws the 403 when a restricted user may not make the request; other users pass. */
export function authorize(store: Store, a: Attributes, serverMinor?: number): void {
  if (!isRestrictedUser(a.user)) return;
  const d = decide(store, a, serverMinor);
  if (!d.allowed) throw forbiddenError(a, d.reason);
}

/**
 * The status of a (Self)SubjectAccessReview asking about `user` (spec.resourceAttributes or nonResourceAttributes,
 * field selector as `rawSelector`), or undefined when `user` is not one this server restricts (the caller's default
 * applies). As the real server: `{ allowed: true }`, or `{ allowed: false, reason }` (no reason when there is none).
 */
export function accessReview(store: Store, user: UserInfo, spec: Record<string, unknown>, serverMinor?: number): { allowed: boolean; reason?: string } | undefined {
  if (!isRestrictedUser(user)) return undefined;
  const str = (o: unknown, k: string): string => (typeof o === 'object' && o !== null && typeof (o as Record<string, unknown>)[k] === 'string' ? String((o as Record<string, unknown>)[k]) : '');
  const ra = spec.resourceAttributes;
  const nra = spec.nonResourceAttributes;
  const fs = typeof ra === 'object' && ra !== null ? (ra as Record<string, unknown>).fieldSelector : undefined;
  const a: Attributes =
    ra !== undefined
      ? { user, verb: str(ra, 'verb'), resourceRequest: true, path: '', apiGroup: str(ra, 'group'), resource: str(ra, 'resource'), subresource: str(ra, 'subresource'), namespace: str(ra, 'namespace'), name: str(ra, 'name'), fieldSelector: fieldTerms(str(fs, 'rawSelector')) }
      : { user, verb: str(nra, 'verb'), resourceRequest: false, path: str(nra, 'path'), apiGroup: '', resource: '', subresource: '', namespace: '', name: '', fieldSelector: [] };
  const d = decide(store, a, serverMinor);
  return d.allowed ? { allowed: true } : d.reason === '' ? { allowed: false } : { allowed: false, reason: d.reason };
}
