import { beforeAll, describe, expect, it } from 'vitest';
import { ServiceAllocator } from '../admission/index.js';
import { bootstrap } from '../bootstrap.js';
import { Registry } from '../registry.js';
import { findResource } from '../resources.js';
import { ApiError } from '../status.js';
import { Store } from '../store.js';
import type { Json, JsonObject } from '../json.js';
import { admitNodeRestriction, authorize, decide, forbiddenNodeLabels, requestAttributes, type AdmissionRequest } from './index.js';

// The Node authorizer + RBAC defaults of v1.33 for node and kube-proxy identities. Every expected message below was
// recorded from kube-apiserver v1.33.3 (shared/k8s/up.sh, Node,RBAC + NodeRestriction) with the client certificates
// of system:node:na-a and system:kube-proxy, against the same objects.
const nodeA = { username: 'system:node:na-a', groups: ['system:nodes', 'system:authenticated'] };
const proxy = { username: 'system:kube-proxy', groups: ['system:authenticated'] };
const admin = { username: 'admin', groups: ['system:masters', 'system:authenticated'] };
const def = (group: string, plural: string) => findResource(group, 'v1', plural)!;

let store: Store;
let reg: Registry;
let nodeUid: string;
let podAUid: string;
let podBUid: string;
let tokPodUid: string;

beforeAll(() => {
  store = new Store({});
  reg = new Registry(store, { store, now: () => new Date(), allocator: new ServiceAllocator() });
  bootstrap(reg, 443);
  reg.create(def('', 'namespaces'), undefined, { metadata: { name: 'na-ns' } });
  for (const sa of ['default', 'sa1']) reg.create(def('', 'serviceaccounts'), 'na-ns', { metadata: { name: sa } });
  for (const n of ['s1', 's2']) reg.create(def('', 'secrets'), 'na-ns', { metadata: { name: n }, data: {} });
  for (const n of ['cm1', 'cm2', 'kube-root-ca.crt']) reg.create(def('', 'configmaps'), 'na-ns', { metadata: { name: n }, data: {} });
  nodeUid = String((reg.create(def('', 'nodes'), undefined, { metadata: { name: 'na-a' } }).metadata as { uid: string }).uid);
  reg.create(def('', 'nodes'), undefined, { metadata: { name: 'na-b' } });
  const pod = (name: string, node: string | undefined, secret: string, cm: string, extra: { volumes?: Json[] } = {}) =>
    String(
      (
        reg.create(def('', 'pods'), 'na-ns', {
          metadata: { name },
          spec: {
            ...(node === undefined ? {} : { nodeName: node }),
            serviceAccountName: 'sa1',
            containers: [{ name: 'c', image: 'busybox', env: [{ name: 'X', valueFrom: { secretKeyRef: { name: secret, key: 'a' } } }] }],
            volumes: [{ name: 'v', configMap: { name: cm } }, ...(extra.volumes ?? [])],
          },
        }).metadata as { uid: string }
      ).uid,
    );
  podAUid = pod('p-a', 'na-a', 's1', 'cm1');
  podBUid = pod('p-b', 'na-b', 's2', 'cm2');
  pod('p-none', undefined, 's2', 'cm2');
  tokPodUid = pod('p-tok', 'na-a', 's1', 'cm1', { volumes: [{ name: 't', projected: { sources: [{ serviceAccountToken: { path: 't', audience: 'vault' } }] } }] });
});

/** The 403 message for `method path` by `user`, or 'allowed'. */
function check(user: typeof nodeA, method: string, path: string): string {
  const [p, q] = path.split('?');
  try {
    authorize(store, requestAttributes(user, method, p!, new URLSearchParams(q ?? '')));
    return 'allowed';
  } catch (e) {
    if (e instanceof ApiError && e.code === 403) return e.message;
    throw e;
  }
}

describe('Node authorizer + RBAC for system:node:na-a (v1.33.3 answers)', () => {
  it('reads only its own Node; list/watch only with fieldSelector metadata.name=<own>', () => {
    expect(check(nodeA, 'GET', '/api/v1/nodes/na-a')).toBe('allowed');
    expect(check(nodeA, 'GET', '/api/v1/nodes?fieldSelector=metadata.name%3Dna-a')).toBe('allowed');
    expect(check(nodeA, 'GET', '/api/v1/nodes?watch=true&fieldSelector=metadata.name%3Dna-a')).toBe('allowed');
    expect(check(nodeA, 'GET', '/api/v1/nodes/na-b')).toBe(
      `nodes "na-b" is forbidden: User "system:node:na-a" cannot get resource "nodes" in API group "" at the cluster scope: node 'na-a' cannot read 'na-b', only its own Node object`,
    );
    expect(check(nodeA, 'GET', '/api/v1/nodes')).toBe(
      `nodes is forbidden: User "system:node:na-a" cannot list resource "nodes" in API group "" at the cluster scope: node 'na-a' cannot read all nodes, only its own Node object`,
    );
    expect(check(nodeA, 'GET', '/api/v1/nodes?watch=true')).toBe(
      `nodes is forbidden: User "system:node:na-a" cannot watch resource "nodes" in API group "" at the cluster scope: node 'na-a' cannot read all nodes, only its own Node object`,
    );
    expect(check(nodeA, 'GET', '/api/v1/nodes?fieldSelector=metadata.name%3Dna-b')).toBe(
      `nodes "na-b" is forbidden: User "system:node:na-a" cannot list resource "nodes" in API group "" at the cluster scope: node 'na-a' cannot read 'na-b', only its own Node object`,
    );
    expect(check(nodeA, 'DELETE', '/api/v1/nodes/na-a')).toBe(`nodes "na-a" is forbidden: User "system:node:na-a" cannot delete resource "nodes" in API group "" at the cluster scope`);
    expect(check(nodeA, 'GET', '/api/v1/nodes/na-a/status')).toBe(`nodes "na-a" is forbidden: User "system:node:na-a" cannot get resource "nodes/status" in API group "" at the cluster scope`);
    expect(check(nodeA, 'GET', '/api/v1/nodes/na-a/proxy/healthz')).toBe(`nodes "na-a" is forbidden: User "system:node:na-a" cannot get resource "nodes/proxy" in API group "" at the cluster scope`);
    // Writes of any Node pass the authorizer; NodeRestriction decides.
    expect(check(nodeA, 'PATCH', '/api/v1/nodes/na-b')).toBe('allowed');
    expect(check(nodeA, 'PUT', '/api/v1/nodes/na-b/status')).toBe('allowed');
  });

  it('lists/watches pods only by spec.nodeName=<own>; gets only pods bound to it', () => {
    expect(check(nodeA, 'GET', '/api/v1/pods?fieldSelector=spec.nodeName%3Dna-a')).toBe('allowed');
    expect(check(nodeA, 'GET', '/api/v1/pods?watch=1&fieldSelector=spec.nodeName%3Dna-a%2Cstatus.phase%21%3DFailed')).toBe('allowed');
    expect(check(nodeA, 'GET', '/api/v1/namespaces/na-ns/pods/p-a')).toBe('allowed');
    expect(check(nodeA, 'GET', '/api/v1/namespaces/na-ns/pods?fieldSelector=metadata.name%3Dp-a')).toBe('allowed');
    expect(check(nodeA, 'GET', '/api/v1/pods')).toBe(
      `pods is forbidden: User "system:node:na-a" cannot list resource "pods" in API group "" at the cluster scope: can only list/watch pods with spec.nodeName field selector`,
    );
    expect(check(nodeA, 'GET', '/api/v1/namespaces/na-ns/pods')).toBe(
      `pods is forbidden: User "system:node:na-a" cannot list resource "pods" in API group "" in the namespace "na-ns": can only list/watch pods with spec.nodeName field selector`,
    );
    expect(check(nodeA, 'GET', '/api/v1/pods?fieldSelector=spec.nodeName%3Dna-b')).toContain('can only list/watch pods with spec.nodeName field selector');
    for (const p of ['p-b', 'p-none', 'missing']) {
      expect(check(nodeA, 'GET', `/api/v1/namespaces/na-ns/pods/${p}`)).toBe(
        `pods "${p}" is forbidden: User "system:node:na-a" cannot get resource "pods" in API group "" in the namespace "na-ns": no relationship found between node 'na-a' and this object`,
      );
    }
    expect(check(nodeA, 'PATCH', '/api/v1/namespaces/na-ns/pods/p-a')).toBe(`pods "p-a" is forbidden: User "system:node:na-a" cannot patch resource "pods" in API group "" in the namespace "na-ns"`);
    expect(check(nodeA, 'DELETE', '/api/v1/namespaces/na-ns/pods')).toBe(`pods is forbidden: User "system:node:na-a" cannot deletecollection resource "pods" in API group "" in the namespace "na-ns"`);
    expect(check(nodeA, 'POST', '/api/v1/namespaces/na-ns/pods/p-a/binding')).toBe(`pods "p-a" is forbidden: User "system:node:na-a" cannot create resource "pods/binding" in API group "" in the namespace "na-ns"`);
    expect(check(nodeA, 'GET', '/api/v1/namespaces/na-ns/pods/p-a/log')).toBe(`pods "p-a" is forbidden: User "system:node:na-a" cannot get resource "pods/log" in API group "" in the namespace "na-ns"`);
    for (const m of ['PATCH', 'PUT']) expect(check(nodeA, m, '/api/v1/namespaces/na-ns/pods/p-b/status')).toBe('allowed');
    expect(check(nodeA, 'POST', '/api/v1/namespaces/na-ns/pods')).toBe('allowed');
  });

  it('reads secrets and configmaps only when a pod bound to it references them, one by name', () => {
    expect(check(nodeA, 'GET', '/api/v1/namespaces/na-ns/secrets/s1')).toBe('allowed');
    expect(check(nodeA, 'GET', '/api/v1/namespaces/na-ns/secrets?fieldSelector=metadata.name%3Ds1&watch=true')).toBe('allowed');
    expect(check(nodeA, 'GET', '/api/v1/namespaces/na-ns/configmaps/cm1')).toBe('allowed');
    expect(check(nodeA, 'GET', '/api/v1/namespaces/na-ns/configmaps/kube-root-ca.crt')).toBe('allowed'); // the projected kube-api-access volume
    expect(check(nodeA, 'GET', '/api/v1/namespaces/na-ns/secrets/s2')).toBe(
      `secrets "s2" is forbidden: User "system:node:na-a" cannot get resource "secrets" in API group "" in the namespace "na-ns": no relationship found between node 'na-a' and this object`,
    );
    expect(check(nodeA, 'GET', '/api/v1/namespaces/na-ns/configmaps/cm2')).toBe(
      `configmaps "cm2" is forbidden: User "system:node:na-a" cannot get resource "configmaps" in API group "" in the namespace "na-ns": no relationship found between node 'na-a' and this object`,
    );
    expect(check(nodeA, 'GET', '/api/v1/namespaces/na-ns/secrets')).toBe(
      `secrets is forbidden: User "system:node:na-a" cannot list resource "secrets" in API group "" in the namespace "na-ns": No Object name found`,
    );
    expect(check(nodeA, 'GET', '/api/v1/secrets')).toBe(
      `secrets is forbidden: User "system:node:na-a" cannot list resource "secrets" in API group "" at the cluster scope: can only read namespaced object of this type`,
    );
    expect(check(nodeA, 'PUT', '/api/v1/namespaces/na-ns/secrets/s1')).toBe(
      `secrets "s1" is forbidden: User "system:node:na-a" cannot update resource "secrets" in API group "" in the namespace "na-ns": can only read resources of this type`,
    );
    expect(check(nodeA, 'GET', '/api/v1/namespaces/na-ns/persistentvolumeclaims/x')).toBe(
      `persistentvolumeclaims "x" is forbidden: User "system:node:na-a" cannot get resource "persistentvolumeclaims" in API group "" in the namespace "na-ns": no relationship found between node 'na-a' and this object`,
    );
  });

  it('service accounts: tokens only for those of its pods, never a get', () => {
    expect(check(nodeA, 'POST', '/api/v1/namespaces/na-ns/serviceaccounts/sa1/token')).toBe('allowed');
    expect(check(nodeA, 'POST', '/api/v1/namespaces/na-ns/serviceaccounts/default/token')).toBe(
      `serviceaccounts "default" is forbidden: User "system:node:na-a" cannot create resource "serviceaccounts/token" in API group "" in the namespace "na-ns": no relationship found between node 'na-a' and this object`,
    );
    expect(check(nodeA, 'GET', '/api/v1/namespaces/na-ns/serviceaccounts/sa1')).toBe(
      `serviceaccounts "sa1" is forbidden: User "system:node:na-a" cannot get resource "serviceaccounts" in API group "" in the namespace "na-ns": not allowed to get service accounts`,
    );
  });

  it('leases: its own in kube-node-lease, no list', () => {
    expect(check(nodeA, 'GET', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/na-a')).toBe('allowed');
    expect(check(nodeA, 'POST', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases')).toBe('allowed');
    expect(check(nodeA, 'GET', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/na-b')).toBe(
      `leases.coordination.k8s.io "na-b" is forbidden: User "system:node:na-a" cannot get resource "leases" in API group "coordination.k8s.io" in the namespace "kube-node-lease": can only access node lease with the same name as the requesting node`,
    );
    expect(check(nodeA, 'GET', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases')).toBe(
      `leases.coordination.k8s.io is forbidden: User "system:node:na-a" cannot list resource "leases" in API group "coordination.k8s.io" in the namespace "kube-node-lease": can only get, create, update, patch, or delete a node lease`,
    );
    expect(check(nodeA, 'POST', '/apis/coordination.k8s.io/v1/namespaces/default/leases')).toBe(
      `leases.coordination.k8s.io is forbidden: User "system:node:na-a" cannot create resource "leases" in API group "coordination.k8s.io" in the namespace "default": can only access leases in the "kube-node-lease" system namespace`,
    );
  });

  it('static rules: services, events, CSRs, reviews, discovery; not endpointslices, namespaces, events.k8s.io, /metrics', () => {
    for (const [m, p] of [
      ['GET', '/api/v1/services'],
      ['GET', '/api/v1/services?watch=true'],
      ['GET', '/api/v1/namespaces/default/endpoints/kubernetes'],
      ['POST', '/api/v1/namespaces/na-ns/events'],
      ['PATCH', '/api/v1/namespaces/na-ns/events/e1'],
      ['PUT', '/api/v1/namespaces/na-ns/events/e1'],
      ['GET', '/apis/certificates.k8s.io/v1/certificatesigningrequests'],
      ['POST', '/apis/certificates.k8s.io/v1/certificatesigningrequests'],
      ['POST', '/apis/authentication.k8s.io/v1/tokenreviews'],
      ['POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews'],
      ['POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews'],
      ['GET', '/api'],
      ['GET', '/apis/discovery.k8s.io/v1'],
      ['GET', '/version'],
      ['GET', '/healthz'],
      ['GET', '/openapi/v3'],
    ] as const) {
      expect(check(nodeA, m, p), `${m} ${p}`).toBe('allowed');
    }
    expect(check(nodeA, 'GET', '/apis/discovery.k8s.io/v1/endpointslices')).toBe(
      `endpointslices.discovery.k8s.io is forbidden: User "system:node:na-a" cannot list resource "endpointslices" in API group "discovery.k8s.io" at the cluster scope`,
    );
    expect(check(nodeA, 'GET', '/api/v1/endpoints')).toBe(`endpoints is forbidden: User "system:node:na-a" cannot list resource "endpoints" in API group "" at the cluster scope`);
    expect(check(nodeA, 'GET', '/api/v1/namespaces/na-ns')).toBe(`namespaces "na-ns" is forbidden: User "system:node:na-a" cannot get resource "namespaces" in API group "" in the namespace "na-ns"`);
    expect(check(nodeA, 'GET', '/api/v1/namespaces/na-ns/events')).toBe(`events is forbidden: User "system:node:na-a" cannot list resource "events" in API group "" in the namespace "na-ns"`);
    expect(check(nodeA, 'POST', '/apis/events.k8s.io/v1/namespaces/na-ns/events')).toBe(
      `events.events.k8s.io is forbidden: User "system:node:na-a" cannot create resource "events" in API group "events.k8s.io" in the namespace "na-ns"`,
    );
    expect(check(nodeA, 'DELETE', '/apis/certificates.k8s.io/v1/certificatesigningrequests/x')).toBe(
      `certificatesigningrequests.certificates.k8s.io "x" is forbidden: User "system:node:na-a" cannot delete resource "certificatesigningrequests" in API group "certificates.k8s.io" at the cluster scope`,
    );
    expect(check(nodeA, 'GET', '/api/v1/namespaces/na-ns/nope')).toBe(`nope is forbidden: User "system:node:na-a" cannot list resource "nope" in API group "" in the namespace "na-ns"`);
    expect(check(nodeA, 'GET', '/metrics')).toBe(`forbidden: User "system:node:na-a" cannot get path "/metrics"`);
  });

  it('the Status body has upstream details (name, group, kind)', () => {
    const attrs = requestAttributes(nodeA, 'GET', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/na-b', new URLSearchParams());
    expect(decide(store, attrs).allowed).toBe(false);
    try {
      authorize(store, attrs);
      expect.unreachable();
    } catch (e) {
      const s = (e as ApiError).toStatus();
      expect(s).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'Forbidden', code: 403, details: { name: 'na-b', group: 'coordination.k8s.io', kind: 'leases' } });
      expect(Object.keys(s.details as object)).toEqual(['name', 'group', 'kind']);
    }
    try {
      authorize(store, requestAttributes(nodeA, 'GET', '/metrics', new URLSearchParams()));
    } catch (e) {
      expect((e as ApiError).toStatus().details).toEqual({});
    }
  });
});

describe('RBAC system:node-proxier for system:kube-proxy (v1.33.3 answers)', () => {
  it('lists/watches services, endpointslices, endpoints; reads nodes; creates events', () => {
    for (const [m, p] of [
      ['GET', '/api/v1/services'],
      ['GET', '/api/v1/services?watch=true'],
      ['GET', '/apis/discovery.k8s.io/v1/endpointslices'],
      ['GET', '/api/v1/endpoints'],
      ['GET', '/api/v1/nodes'],
      ['GET', '/api/v1/nodes/na-b'],
      ['POST', '/api/v1/namespaces/na-ns/events'],
      ['POST', '/apis/events.k8s.io/v1/namespaces/na-ns/events'],
      ['GET', '/apis/networking.k8s.io/v1/servicecidrs'],
    ] as const) {
      expect(check(proxy, m, p), `${m} ${p}`).toBe('allowed');
    }
  });

  it('nothing else', () => {
    expect(check(proxy, 'GET', '/api/v1/namespaces/default/services/kubernetes')).toBe(
      `services "kubernetes" is forbidden: User "system:kube-proxy" cannot get resource "services" in API group "" in the namespace "default"`,
    );
    expect(check(proxy, 'GET', '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/kubernetes')).toBe(
      `endpointslices.discovery.k8s.io "kubernetes" is forbidden: User "system:kube-proxy" cannot get resource "endpointslices" in API group "discovery.k8s.io" in the namespace "default"`,
    );
    expect(check(proxy, 'PATCH', '/api/v1/nodes/na-b')).toBe(`nodes "na-b" is forbidden: User "system:kube-proxy" cannot patch resource "nodes" in API group "" at the cluster scope`);
    expect(check(proxy, 'GET', '/api/v1/pods')).toBe(`pods is forbidden: User "system:kube-proxy" cannot list resource "pods" in API group "" at the cluster scope`);
    expect(check(proxy, 'POST', '/apis/authentication.k8s.io/v1/tokenreviews')).toBe(
      `tokenreviews.authentication.k8s.io is forbidden: User "system:kube-proxy" cannot create resource "tokenreviews" in API group "authentication.k8s.io" at the cluster scope`,
    );
    expect(check(proxy, 'GET', '/api/v1/namespaces/default/configmaps/kube-root-ca.crt')).toBe(
      `configmaps "kube-root-ca.crt" is forbidden: User "system:kube-proxy" cannot get resource "configmaps" in API group "" in the namespace "default"`,
    );
  });

  it('other users are not restricted', () => {
    expect(check(admin, 'DELETE', '/api/v1/nodes/na-b')).toBe('allowed');
    expect(check({ username: 'system:node:na-a', groups: ['system:authenticated'] }, 'GET', '/api/v1/pods')).toBe('allowed'); // not in system:nodes
  });
});

describe('NodeRestriction for system:node:na-a (v1.33.3 answers)', () => {
  const admit = (r: Omit<AdmissionRequest, 'user'>, old?: JsonObject): string => {
    try {
      admitNodeRestriction(store, { user: nodeA, ...r }, old);
      return 'allowed';
    } catch (e) {
      if (e instanceof ApiError) return `${e.code} ${e.message}`;
      throw e;
    }
  };
  const nodes = def('', 'nodes');
  const pods = def('', 'pods');
  const node = (labels: Record<string, string> = {}, taints: Json[] = []): JsonObject => ({ metadata: { name: 'na-a', labels }, spec: { taints } });

  it('only its own Node; no taint changes; only kubelet labels', () => {
    expect(admit({ operation: 'create', def: nodes, name: 'na-x', object: { metadata: { name: 'na-x' } } })).toBe(`403 nodes "na-x" is forbidden: node "na-a" is not allowed to modify node "na-x"`);
    expect(admit({ operation: 'update', def: nodes, name: 'na-b', subresource: 'status', object: {} }, {})).toBe(`403 nodes "na-b" is forbidden: node "na-a" is not allowed to modify node "na-b"`);
    expect(admit({ operation: 'create', def: nodes, name: 'na-a', object: node({ 'kubernetes.io/hostname': 'na-a', 'node.kubernetes.io/x': '' }, [{ key: 'k', effect: 'NoSchedule' }]) })).toBe('allowed');
    expect(admit({ operation: 'update', def: nodes, name: 'na-a', object: node({}, [{ key: 'k', effect: 'NoSchedule' }]) }, node())).toBe(`403 nodes "na-a" is forbidden: node "na-a" is not allowed to modify taints`);
    expect(admit({ operation: 'update', def: nodes, name: 'na-a', subresource: 'status', object: node({}, [{ key: 'k2', effect: 'NoSchedule' }]) }, node())).toBe(
      `403 nodes "na-a" is forbidden: node "na-a" is not allowed to modify taints`,
    );
    expect(admit({ operation: 'update', def: nodes, name: 'na-a', object: node({ 'node-role.kubernetes.io/x': '' }) }, node())).toBe(
      `403 nodes "na-a" is forbidden: is not allowed to modify labels: node-role.kubernetes.io/x`,
    );
    expect(admit({ operation: 'update', def: nodes, name: 'na-a', object: node({ 'node-restriction.kubernetes.io/x': '1', 'other.example.com/y': '2' }) }, node())).toBe(
      `403 nodes "na-a" is forbidden: is not allowed to modify labels: node-restriction.kubernetes.io/x`,
    );
    expect(admit({ operation: 'update', def: nodes, name: 'na-a', object: node({ 'topology.kubernetes.io/zone': 'z', foo: 'bar' }) }, node())).toBe('allowed');
    expect(forbiddenNodeLabels(['b.k8s.io/x', 'a.kubernetes.io/y', 'kubelet.kubernetes.io/z', 'x.node.kubernetes.io/w', 'kubernetes.io/arch'])).toEqual(['a.kubernetes.io/y', 'b.k8s.io/x']);
  });

  it('pods: mirror pods bound to and owned by itself; status and delete of its own pods', () => {
    const mirror = { 'kubernetes.io/config.mirror': 'x' };
    const owner = { apiVersion: 'v1', kind: 'Node', name: 'na-a', uid: nodeUid, controller: true };
    const create = (metadata: JsonObject, spec: JsonObject) => admit({ operation: 'create', def: pods, namespace: 'na-ns', name: String(metadata.name), object: { metadata, spec } });
    const c = [{ name: 'c', image: 'x' }];
    expect(create({ name: 'm1' }, { nodeName: 'na-a', containers: c })).toBe(`403 pods "m1" is forbidden: pod does not have "kubernetes.io/config.mirror" annotation, node "na-a" can only create mirror pods`);
    expect(create({ name: 'm2', annotations: mirror }, { nodeName: 'na-b', containers: c })).toBe(`403 pods "m2" is forbidden: node "na-a" can only create pods with spec.nodeName set to itself`);
    expect(create({ name: 'm3', annotations: mirror }, { nodeName: 'na-a', containers: c })).toBe(`403 pods "m3" is forbidden: node "na-a" can only create pods with an owner reference set to itself`);
    expect(create({ name: 'm5', annotations: mirror, ownerReferences: [owner] }, { nodeName: 'na-a', containers: c })).toBe('allowed');
    expect(create({ name: 'm6', annotations: mirror, ownerReferences: [{ ...owner, uid: 'wrong' }] }, { nodeName: 'na-a', containers: c })).toBe(
      `403 pods "m6" is forbidden: node na-a UID mismatch: expected wrong got ${nodeUid}`,
    );
    expect(create({ name: 'm7', annotations: mirror, ownerReferences: [{ ...owner, controller: false }] }, { nodeName: 'na-a', containers: c })).toBe(
      `403 pods "m7" is forbidden: node "na-a" can only create pods with a controller owner reference set to itself`,
    );
    expect(create({ name: 'm8', annotations: mirror, ownerReferences: [owner] }, { nodeName: 'na-a', containers: c, volumes: [{ name: 'v', configMap: { name: 'cm1' } }] })).toBe(
      `403 pods "m8" is forbidden: node "na-a" can not create pods that reference configmaps`,
    );
    const pa = store.get('pods', 'na-ns/p-a')!;
    const pb = store.get('pods', 'na-ns/p-b')!;
    expect(admit({ operation: 'update', def: pods, namespace: 'na-ns', name: 'p-a', subresource: 'status', object: pa }, pa)).toBe('allowed');
    expect(admit({ operation: 'update', def: pods, namespace: 'na-ns', name: 'p-b', subresource: 'status', object: pb }, pb)).toBe(
      `403 pods "p-b" is forbidden: node "na-a" can only update pod status for pods with spec.nodeName set to itself`,
    );
    expect(admit({ operation: 'update', def: pods, namespace: 'na-ns', name: 'p-a', subresource: 'status', object: { ...pa, metadata: { ...(pa.metadata as object), labels: { l: 'v' } } } }, pa)).toBe(
      `403 pods "p-a" is forbidden: node "na-a" cannot update labels through pod status`,
    );
    expect(admit({ operation: 'delete', def: pods, namespace: 'na-ns', name: 'p-a' }, pa)).toBe('allowed');
    expect(admit({ operation: 'delete', def: pods, namespace: 'na-ns', name: 'p-b' }, pb)).toBe(`403 pods "p-b" is forbidden: node "na-a" can only delete pods with spec.nodeName set to itself`);
    expect(admit({ operation: 'delete', def: pods, namespace: 'na-ns', name: 'missing' })).toBe(`404 pods "missing" not found`);
  });

  it('service-account tokens: bound to its own pod, for an audience of the pod volumes', () => {
    const sa = def('', 'serviceaccounts');
    const token = (spec: JsonObject) => admit({ operation: 'create', def: sa, namespace: 'na-ns', name: 'sa1', subresource: 'token', object: { spec } });
    const ref = (name: string, uid: string | undefined): JsonObject => ({ apiVersion: 'v1', kind: 'Pod', name, ...(uid === undefined ? {} : { uid }) });
    expect(token({ boundObjectRef: ref('p-tok', tokPodUid) })).toBe('allowed');
    expect(token({ audiences: ['vault'], boundObjectRef: ref('p-tok', tokPodUid) })).toBe('allowed');
    expect(token({ audiences: ['a'] })).toBe(`403 serviceaccounts "sa1" is forbidden: node requested token not bound to a pod`);
    expect(token({ boundObjectRef: ref('p-a', undefined) })).toBe(`403 serviceaccounts "sa1" is forbidden: node requested token with a pod binding without a uid`);
    expect(token({ boundObjectRef: ref('p-a', 'bad') })).toBe(
      `403 serviceaccounts "sa1" is forbidden: the UID in the bound object reference (bad) does not match the UID in record. The object might have been deleted and then recreated`,
    );
    expect(token({ boundObjectRef: ref('p-b', podBUid) })).toBe(`403 serviceaccounts "sa1" is forbidden: node requested token bound to a pod scheduled on a different node`);
    expect(token({ boundObjectRef: ref('gone', 'x') })).toBe(`404 pod "gone" not found`);
    expect(token({ audiences: ['vault', 'x'], boundObjectRef: ref('p-tok', tokPodUid) })).toBe(`403 serviceaccounts "sa1" is forbidden: node may only request 0 or 1 audiences`);
    for (const aud of ['a', 'https://kubernetes.default.svc.cluster.local']) {
      expect(token({ audiences: [aud], boundObjectRef: ref('p-a', podAUid) })).toBe(
        `403 serviceaccounts "sa1" is forbidden: audience "${aud}" not found in pod spec volume, system:node:na-a is not authorized to request tokens for this audience`,
      );
    }
  });

  it('leases: only its own in kube-node-lease', () => {
    const leases = def('coordination.k8s.io', 'leases');
    expect(admit({ operation: 'create', def: leases, namespace: 'kube-node-lease', name: 'na-a', object: { metadata: { name: 'na-a' } } })).toBe('allowed');
    expect(admit({ operation: 'create', def: leases, namespace: 'kube-node-lease', name: 'na-b', object: { metadata: { name: 'na-b' } } })).toBe(
      `403 leases.coordination.k8s.io "na-b" is forbidden: can only access node lease with the same name as the requesting node`,
    );
  });

  it('does nothing for other users', () => {
    admitNodeRestriction(store, { user: admin, operation: 'create', def: nodes, name: 'na-x', object: { metadata: { name: 'na-x' } } }, undefined);
  });
});
