/**
 * The NodeRestriction admission plugin of kube-apiserver v1.33 (plugin/pkg/admission/noderestriction), for writes
 * of node identities that the Node authorizer let through: a node may create/update only its own Node (no taint
 * changes after creation, no labels outside the kubelet's set — kubernetes.io/k8s.io labels other than the well-known
 * ones and the kubelet.kubernetes.io / node.kubernetes.io namespaces, never node-restriction.kubernetes.io), create
 * only mirror pods bound to itself and owned by its Node, delete and update the status of only pods bound to itself
 * (not their labels), request service-account tokens only bound to its own pods and for audiences their projected
 * volumes name, and touch only its own Lease in kube-node-lease. Refusals carry upstream's messages.
 */
import { isObject, jsonEqual, meta, str, type JsonObject } from '../json.js';
import type { ResourceDef } from '../resources.js';
import { ApiError, notFound } from '../status.js';
import type { Store } from '../store.js';
import type { UserInfo } from '../certificates/auth.js';
import { podReferences } from './graph.js';
import { nodeIdentity } from './node-authorizer.js';

/** One write as admission sees it. */
export interface AdmissionRequest {
  user: UserInfo | undefined;
  operation: 'create' | 'update' | 'delete';
  def: ResourceDef;
  namespace?: string;
  /** The name in the path (for a create: the object's). */
  name: string;
  subresource?: string;
  /** The new object (create/update), before the server's own defaulting and admission. */
  object?: JsonObject;
  /** Minor version of an emulated older server: below 32 there is no ServiceAccountNodeAudienceRestriction. */
  serverMinor?: number;
}

/** A 403 naming the object as admission.NewForbidden does. */
function refuse(def: ResourceDef, name: string, why: string): ApiError {
  const qualified = def.group === '' ? def.plural : `${def.plural}.${def.group}`;
  const details: Record<string, string> = {};
  if (name !== '') details.name = name;
  if (def.group !== '') details.group = def.group;
  details.kind = def.plural;
  return new ApiError(403, 'Forbidden', name === '' ? `${qualified} is forbidden: ${why}` : `${qualified} ${JSON.stringify(name)} is forbidden: ${why}`, details);
}

const KUBELET_LABELS = new Set([
  'kubernetes.io/hostname', 'topology.kubernetes.io/zone', 'topology.kubernetes.io/region', 'failure-domain.beta.kubernetes.io/zone',
  'failure-domain.beta.kubernetes.io/region', 'beta.kubernetes.io/instance-type', 'node.kubernetes.io/instance-type', 'kubernetes.io/os',
  'kubernetes.io/arch', 'beta.kubernetes.io/os', 'beta.kubernetes.io/arch',
]);
const inNamespace = (ns: string, suffix: string): boolean => ns === suffix || ns.endsWith(`.${suffix}`);
const labelNamespace = (key: string): string => (key.includes('/') ? key.slice(0, key.indexOf('/')) : '');

/** Label keys a node may not set or change (getForbiddenLabels), sorted. */
export function forbiddenNodeLabels(modified: string[]): string[] {
  return modified
    .filter((k) => {
      const ns = labelNamespace(k);
      if (inNamespace(ns, 'node-restriction.kubernetes.io')) return true;
      const kubernetesLabel = inNamespace(ns, 'kubernetes.io') || inNamespace(ns, 'k8s.io');
      const kubeletLabel = KUBELET_LABELS.has(k) || inNamespace(ns, 'kubelet.kubernetes.io') || inNamespace(ns, 'node.kubernetes.io');
      return kubernetesLabel && !kubeletLabel;
    })
    .sort();
}

const labelsOf = (o: JsonObject | undefined): Record<string, unknown> => (o !== undefined && isObject(meta(o).labels) ? (meta(o).labels as JsonObject) : {});

function modifiedLabels(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => a[k] !== b[k]);
}

const specOf = (o: JsonObject | undefined): JsonObject => (o !== undefined && isObject(o.spec) ? o.spec : {});
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

function admitNode(node: string, r: AdmissionRequest, old: JsonObject | undefined): void {
  if (r.name !== node) throw refuse(r.def, r.name, `node "${node}" is not allowed to modify node "${r.name}"`);
  const spec = specOf(r.object);
  if (r.operation === 'create') {
    if (spec.configSource !== undefined && spec.configSource !== null) throw refuse(r.def, r.name, `node "${node}" is not allowed to create pods with a non-nil configSource`);
    const bad = forbiddenNodeLabels(Object.keys(labelsOf(r.object)));
    if (bad.length > 0) throw refuse(r.def, r.name, `node "${node}" is not allowed to set the following labels: ${bad.join(', ')}`);
  }
  if (r.operation === 'update' && old !== undefined) {
    const before = specOf(old);
    if (spec.configSource !== undefined && spec.configSource !== null && !jsonEqual(spec.configSource, before.configSource)) {
      throw refuse(r.def, r.name, `node "${node}" is not allowed to update configSource to a new non-nil configSource`);
    }
    if (!jsonEqual(list(spec.taints), list(before.taints))) throw refuse(r.def, r.name, `node "${node}" is not allowed to modify taints`);
    const bad = forbiddenNodeLabels(modifiedLabels(labelsOf(r.object), labelsOf(old)));
    if (bad.length > 0) throw refuse(r.def, r.name, `is not allowed to modify labels: ${bad.join(', ')}`);
  }
}

function admitMirrorPod(store: Store, node: string, r: AdmissionRequest): void {
  const pod = r.object ?? {};
  const m = meta(pod);
  const no = (why: string): ApiError => refuse(r.def, r.name, why);
  if (!isObject(m.annotations) || !('kubernetes.io/config.mirror' in m.annotations)) {
    throw no(`pod does not have "kubernetes.io/config.mirror" annotation, node "${node}" can only create mirror pods`);
  }
  const spec = specOf(pod);
  if (spec.nodeName !== node) throw no(`node "${node}" can only create pods with spec.nodeName set to itself`);
  const owners = list(m.ownerReferences).filter(isObject);
  if (owners.length > 1) throw no(`node "${node}" can only create pods with a single owner reference set to itself`);
  const owner = owners[0];
  if (owner === undefined || owner.apiVersion !== 'v1' || owner.kind !== 'Node' || owner.name !== node) throw no(`node "${node}" can only create pods with an owner reference set to itself`);
  if (owner.controller !== true) throw no(`node "${node}" can only create pods with a controller owner reference set to itself`);
  if (owner.blockOwnerDeletion === true) throw no(`node "${node}" must not set blockOwnerDeletion on an owner reference`);
  const nodeObj = store.get('nodes', node);
  if (nodeObj === undefined) throw notFound('nodes', node);
  if (owner.uid !== meta(nodeObj).uid) throw no(`node ${node} UID mismatch: expected ${String(owner.uid ?? '')} got ${String(meta(nodeObj).uid)}`);
  if (str(spec, 'serviceAccountName')) throw no(`node "${node}" can not create pods that reference a service account`);
  if (podReferences(pod, 'secret').length > 0) throw no(`node "${node}" can not create pods that reference secrets`);
  if (podReferences(pod, 'configmap').length > 0) throw no(`node "${node}" can not create pods that reference configmaps`);
  const volumes = list(spec.volumes).filter(isObject);
  const projected = volumes.flatMap((v) => (isObject(v.projected) ? list(v.projected.sources).filter(isObject) : []));
  if (projected.some((s) => s.clusterTrustBundle !== undefined)) throw no(`node "${node}" can not create pods that reference clustertrustbundles`);
  if (volumes.some((v) => v.persistentVolumeClaim !== undefined)) throw no(`node "${node}" can not create pods that reference persistentvolumeclaims`);
}

function admitPod(store: Store, node: string, r: AdmissionRequest, old: JsonObject | undefined): void {
  const sub = r.subresource ?? '';
  if (sub === '') {
    if (r.operation === 'create') return admitMirrorPod(store, node, r);
    if (r.operation === 'delete') {
      if (old === undefined) throw notFound('pods', r.name);
      if (specOf(old).nodeName !== node) throw refuse(r.def, r.name, `node "${node}" can only delete pods with spec.nodeName set to itself`);
      return;
    }
    throw refuse(r.def, r.name, `unexpected operation "UPDATE", node "${node}" can only create and delete mirror pods`);
  }
  if (sub === 'status') {
    if (r.operation !== 'update') throw refuse(r.def, r.name, `unexpected operation "${r.operation.toUpperCase()}"`);
    if (old === undefined || specOf(old).nodeName !== node) throw refuse(r.def, r.name, `node "${node}" can only update pod status for pods with spec.nodeName set to itself`);
    if (!jsonEqual(labelsOf(old), labelsOf(r.object))) throw refuse(r.def, r.name, `node "${node}" cannot update labels through pod status`);
    return;
  }
  if (sub !== 'eviction') throw refuse(r.def, r.name, `unexpected pod subresource "${sub}", only 'status' and 'eviction' are allowed`);
}

/** Audiences a pod's projected service-account token volumes name (CSI driver audiences are not modelled). */
function podAudiences(pod: JsonObject): string[] {
  const volumes = list(specOf(pod).volumes).filter(isObject);
  return volumes.flatMap((v) => (isObject(v.projected) ? list(v.projected.sources).filter(isObject) : [])).flatMap((s) => (isObject(s.serviceAccountToken) ? [str(s.serviceAccountToken, 'audience') ?? ''] : [])).filter((a) => a !== '');
}

function admitTokenRequest(store: Store, node: string, r: AdmissionRequest): void {
  const spec = specOf(r.object);
  const ref = isObject(spec.boundObjectRef) ? spec.boundObjectRef : undefined;
  const no = (why: string): ApiError => refuse(r.def, r.name, why);
  if (ref === undefined || ref.apiVersion !== 'v1' || ref.kind !== 'Pod' || !str(ref, 'name')) throw no('node requested token not bound to a pod');
  if (!str(ref, 'uid')) throw no('node requested token with a pod binding without a uid');
  const pod = store.get('pods', `${r.namespace ?? ''}/${String(ref.name)}`);
  if (pod === undefined) throw new ApiError(404, 'NotFound', `pod "${String(ref.name)}" not found`, { name: String(ref.name), kind: 'pod' });
  if (ref.uid !== meta(pod).uid) throw no(`the UID in the bound object reference (${String(ref.uid)}) does not match the UID in record. The object might have been deleted and then recreated`);
  if (specOf(pod).nodeName !== node) throw no('node requested token bound to a pod scheduled on a different node');
  const audiences = list(spec.audiences).map(String);
  if (r.serverMinor !== undefined && r.serverMinor < 32) return;
  if (audiences.length > 1) throw no('node may only request 0 or 1 audiences');
  const asked = audiences[0];
  if (asked !== undefined && !podAudiences(pod).includes(asked)) {
    throw no(`audience ${JSON.stringify(asked)} not found in pod spec volume, system:node:${node} is not authorized to request tokens for this audience`);
  }
}

function admitLease(node: string, r: AdmissionRequest): void {
  if (r.namespace !== 'kube-node-lease') throw refuse(r.def, r.name, 'can only access leases in the "kube-node-lease" system namespace');
  if (r.name !== node) throw refuse(r.def, r.name, 'can only access node lease with the same name as the requesting node');
}

/**
 * Runs NodeRestriction for a write; throws its 403 (or the 404 it meets looking up an object). No-op for users that
 * are not nodes. `old` is the stored object for updates and deletes.
 */
export function admitNodeRestriction(store: Store, r: AdmissionRequest, old: JsonObject | undefined): void {
  const node = r.user === undefined ? undefined : nodeIdentity({ user: r.user });
  if (node === undefined) return;
  const core = r.def.group === '';
  if (core && r.def.plural === 'pods') admitPod(store, node, r, old);
  else if (core && r.def.plural === 'nodes') admitNode(node, r, old);
  else if (core && r.def.plural === 'serviceaccounts' && r.operation === 'create' && r.subresource === 'token') admitTokenRequest(store, node, r);
  else if (r.def.group === 'coordination.k8s.io' && r.def.plural === 'leases') admitLease(node, r);
}
