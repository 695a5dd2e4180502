/**
 * The RBAC policy of a v1.33 cluster that matters for the identities nodelet uses, as `kubectl get clusterrole`
 * prints it on the real control plane (recorded from v1.33.3): the Node authorizer's static node rules (the
 * `system:node` ClusterRole, bound to nobody), `system:node-proxier` (bound to user `system:kube-proxy`), and what
 * every authenticated user gets (`system:basic-user`, `system:discovery`, `system:public-info-viewer`), plus
 * kubeadm's `selfnodeclient` binding for group `system:nodes`.
 */
import type { Attributes } from './attributes.js';

/** One PolicyRule: resource rules name groups/resources (`res/sub` for subresources), non-resource rules URLs. */
export interface Rule {
  verbs: string[];
  groups?: string[];
  resources?: string[];
  urls?: string[];
}

const READ = ['get', 'list', 'watch'];
const r = (verbs: string[], groups: string[], resources: string[]): Rule => ({ verbs, groups, resources });

/** `system:node` (NodeRules() in plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go, v1.33). */
export const NODE_RULES: readonly Rule[] = [
  r(['create'], ['authentication.k8s.io'], ['tokenreviews']),
  r(['create'], ['authorization.k8s.io'], ['localsubjectaccessreviews', 'subjectaccessreviews']),
  r(READ, [''], ['services']),
  r(['create', 'get', 'list', 'watch'], [''], ['nodes']),
  r(['patch', 'update'], [''], ['nodes/status']),
  r(['patch', 'update'], [''], ['nodes']),
  r(['create', 'patch', 'update'], [''], ['events']),
  r(READ, [''], ['pods']),
  r(['create', 'delete'], [''], ['pods']),
  r(['patch', 'update'], [''], ['pods/status']),
  r(['create'], [''], ['pods/eviction']),
  r(READ, [''], ['configmaps', 'secrets']),
  r(['get'], [''], ['persistentvolumeclaims', 'persistentvolumes']),
  r(['get'], [''], ['endpoints']),
  r(['create', 'get', 'list', 'watch'], ['certificates.k8s.io'], ['certificatesigningrequests']),
  r(['create', 'delete', 'get', 'patch', 'update'], ['coordination.k8s.io'], ['leases']),
  r(['get'], ['storage.k8s.io'], ['volumeattachments']),
  r(['create'], [''], ['serviceaccounts/token']),
  r(['get', 'patch', 'update'], [''], ['persistentvolumeclaims/status']),
  r(READ, ['storage.k8s.io'], ['csidrivers']),
  r(['create', 'delete', 'get', 'patch', 'update'], ['storage.k8s.io'], ['csinodes']),
  r(READ, ['node.k8s.io'], ['runtimeclasses']),
];

/** `system:node-proxier`. */
export const NODE_PROXIER_RULES: readonly Rule[] = [
  r(['list', 'watch'], [''], ['endpoints', 'services']),
  r(READ, [''], ['nodes']),
  r(['create', 'patch', 'update'], ['', 'events.k8s.io'], ['events']),
  r(['list', 'watch'], ['networking.k8s.io'], ['servicecidrs']),
  r(['list', 'watch'], ['discovery.k8s.io'], ['endpointslices']),
];

/** `system:basic-user`, `system:discovery` and `system:public-info-viewer` (bound to system:authenticated). */
export const AUTHENTICATED_RULES: readonly Rule[] = [
  r(['create'], ['authorization.k8s.io'], ['selfsubjectaccessreviews', 'selfsubjectrulesreviews']),
  r(['create'], ['authentication.k8s.io'], ['selfsubjectreviews']),
  { verbs: ['get'], urls: ['/api', '/api/*', '/apis', '/apis/*', '/healthz', '/livez', '/openapi', '/openapi/*', '/readyz', '/version', '/version/'] },
];

/** kubeadm's `kubeadm:node-autoapprove-certificate-rotation` (group system:nodes). */
export const NODES_GROUP_RULES: readonly Rule[] = [r(['create'], ['certificates.k8s.io'], ['certificatesigningrequests/selfnodeclient'])];

function ruleAllows(a: Attributes, rule: Rule): boolean {
  if (!rule.verbs.includes(a.verb) && !rule.verbs.includes('*')) return false;
  if (!a.resourceRequest) return (rule.urls ?? []).some((u) => u === a.path || (u.endsWith('*') && a.path.startsWith(u.slice(0, -1))));
  if (rule.resources === undefined || rule.groups === undefined || !rule.groups.includes(a.apiGroup)) return false;
  const res = a.subresource === '' ? a.resource : `${a.resource}/${a.subresource}`;
  return rule.resources.includes(res);
}

/** True when one of `rules` allows the request (rbac.RulesAllow). */
export function rulesAllow(a: Attributes, rules: readonly Rule[]): boolean {
  return rules.some((rule) => ruleAllows(a, rule));
}
