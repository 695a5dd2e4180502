/**
 * The Node authorizer of kube-apiserver v1.33 (plugin/pkg/auth/authorizer/node/node_authorizer.go, with
 * AuthorizeNodeWithSelectors on): requests of `system:node:<name>` in group `system:nodes`. Secrets and configmaps
 * only when related to the node through a pod bound to it (get, or list/watch of one named object); PVCs get only;
 * service-account tokens only for service accounts of its pods; leases only its own in kube-node-lease; Node objects:
 * reads of its own only (list/watch with `fieldSelector=metadata.name=<own>`), writes left to NodeRestriction; pods:
 * get of its own pods, list/watch with `fieldSelector=spec.nodeName=<own>`, create/delete (mirror pods), status
 * update/patch and eviction; everything else by the static node rules. A denial carries upstream's reason text.
 */
import type { Store } from '../store.js';
import type { Attributes } from './attributes.js';
import { relatedToNode, type VertexType } from './graph.js';
import { NODE_RULES, rulesAllow } from './rules.js';

/** An authorizer's answer: allowed, or no opinion with a reason (possibly empty). */
export interface Decision {
  allowed: boolean;
  reason: string;
}

const ALLOW: Decision = { allowed: true, reason: '' };
const deny = (reason = ''): Decision => ({ allowed: false, reason });

/** The node name of a node identity (`system:node:<name>` in `system:nodes`), else undefined (nodeidentifier). */
export function nodeIdentity(a: Pick<Attributes, 'user'>): string | undefined {
  if (!a.user.groups.includes('system:nodes') || !a.user.username.startsWith('system:node:')) return undefined;
  return a.user.username.slice('system:node:'.length);
}

function related(store: Store, node: string, type: VertexType, a: Attributes): Decision {
  if (a.name === '') return deny('No Object name found');
  return relatedToNode(store, node, type, a.namespace, a.name) ? ALLOW : deny(`no relationship found between node '${node}' and this object`);
}

function getOnly(store: Store, node: string, type: VertexType, a: Attributes): Decision {
  if (a.verb !== 'get') return deny('can only get individual resources of this type');
  if (a.subresource !== '') return deny('cannot get subresource');
  return related(store, node, type, a);
}

function readNamespaced(store: Store, node: string, type: VertexType, a: Attributes): Decision {
  if (!['get', 'list', 'watch'].includes(a.verb)) return deny('can only read resources of this type');
  if (a.subresource !== '') return deny('cannot read subresource');
  if (a.namespace === '') return deny('can only read namespaced object of this type');
  return related(store, node, type, a);
}

function serviceAccount(store: Store, node: string, a: Attributes, selectors: boolean): Decision {
  if (selectors && a.verb === 'get' && a.subresource === '') return deny('not allowed to get service accounts');
  if (a.verb !== 'create' || a.name === '') return deny('can only create tokens for individual service accounts');
  if (a.subresource !== 'token') return deny('can only create token subresource of serviceaccount');
  return related(store, node, 'serviceaccount', a);
}

function lease(node: string, a: Attributes): Decision {
  if (!['get', 'create', 'update', 'patch', 'delete'].includes(a.verb)) return deny('can only get, create, update, patch, or delete a node lease');
  if (a.namespace !== 'kube-node-lease') return deny('can only access leases in the "kube-node-lease" system namespace');
  if (a.verb !== 'create' && a.name !== node) return deny('can only access node lease with the same name as the requesting node');
  return ALLOW;
}

function nodeObject(node: string, a: Attributes): Decision {
  if (a.subresource === '') {
    if (['create', 'update', 'patch'].includes(a.verb)) return ALLOW;
    if (['get', 'list', 'watch'].includes(a.verb)) {
      if (a.name === node) return ALLOW;
      return deny(a.name === '' ? `node '${node}' cannot read all nodes, only its own Node object` : `node '${node}' cannot read '${a.name}', only its own Node object`);
    }
  } else if (a.subresource === 'status' && (a.verb === 'update' || a.verb === 'patch')) return ALLOW;
  return deny();
}

function pod(store: Store, node: string, a: Attributes): Decision {
  if (a.subresource === '') {
    if (a.verb === 'get') return getOnly(store, node, 'pod', a);
    if (a.verb === 'list' || a.verb === 'watch') {
      if (a.fieldSelector.some((t) => t.field === 'spec.nodeName' && t.op === '=' && t.value === node)) return ALLOW;
      if (a.name !== '') return related(store, node, 'pod', a);
      return deny('can only list/watch pods with spec.nodeName field selector');
    }
    if (a.verb === 'create' || a.verb === 'delete') return ALLOW;
  } else if (a.subresource === 'status' && (a.verb === 'update' || a.verb === 'patch')) return ALLOW;
  else if (a.subresource === 'eviction' && a.verb === 'create') return ALLOW;
  return deny();
}

/**
 * The Node authorizer's decision for a request of node `node` (see the file comment). `serverMinor` below 32 (an
 * emulated older server) drops what v1.32 added: AuthorizeNodeWithSelectors (nodes and pods by the static rules
 * alone) and the refusal of service-account gets.
 */
export function authorizeNode(store: Store, node: string, a: Attributes, serverMinor?: number): Decision {
  const selectors = serverMinor === undefined || serverMinor >= 32;
  if (a.resourceRequest) {
    const core = a.apiGroup === '';
    if (core && a.resource === 'secrets') return readNamespaced(store, node, 'secret', a);
    if (core && a.resource === 'configmaps') return readNamespaced(store, node, 'configmap', a);
    if (core && a.resource === 'persistentvolumeclaims') {
      if (a.subresource === 'status') return a.verb === 'update' || a.verb === 'patch' ? related(store, node, 'pvc', a) : deny('can only get/update/patch this type');
      return getOnly(store, node, 'pvc', a);
    }
    if (core && a.resource === 'serviceaccounts') return serviceAccount(store, node, a, selectors);
    if (selectors && core && a.resource === 'nodes') return nodeObject(node, a);
    if (selectors && core && a.resource === 'pods') return pod(store, node, a);
    if (a.apiGroup === 'coordination.k8s.io' && a.resource === 'leases') return lease(node, a);
  }
  return rulesAllow(a, NODE_RULES) ? ALLOW : deny();
}
