/** The resource types the test API server serves, with what discovery and field selectors need to know. */

/** One served resource type. */
export interface ResourceDef {
  /** API group; '' for core/v1. */
  group: string;
  version: string;
  plural: string;
  singular: string;
  kind: string;
  namespaced: boolean;
  shortNames?: string[];
  /** Subresources served (`status`, `binding`, `token`, …). */
  subresources: string[];
  /** Field selector labels accepted besides metadata.name / metadata.namespace. */
  fieldLabels: string[];
  /** Objects of this type carry metadata.generation (bumped on spec changes). */
  generation?: boolean;
  /** Create-only virtual resource (tokenreviews, subjectaccessreviews): not stored, no list/watch. */
  virtual?: boolean;
  /** A PUT of a missing object creates it (upstream AllowCreateOnUpdate: leases, events, endpoints). */
  createOnUpdate?: boolean;
  /** Discovery categories (`all` makes `kubectl get all` include the type). */
  categories?: string[];
  /** Field that status updates change (for resources with a status subresource). */
  statusField?: string;
}

const CRUD = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

/** Verbs advertised in discovery. */
export function verbsOf(r: ResourceDef): string[] {
  return r.virtual ? ['create'] : CRUD;
}

/** apiVersion string of a resource (`v1`, `coordination.k8s.io/v1`). */
export function apiVersionOf(r: ResourceDef): string {
  return r.group ? `${r.group}/${r.version}` : r.version;
}

const podFields = [
  'spec.nodeName',
  'spec.restartPolicy',
  'spec.schedulerName',
  'spec.serviceAccountName',
  'spec.hostNetwork',
  'status.phase',
  'status.podIP',
  'status.podIPs',
  'status.nominatedNodeName',
];
const eventFields = [
  'involvedObject.kind',
  'involvedObject.namespace',
  'involvedObject.name',
  'involvedObject.uid',
  'involvedObject.apiVersion',
  'involvedObject.resourceVersion',
  'involvedObject.fieldPath',
  'reason',
  'reportingComponent',
  'source',
  'type',
];

/** All resource types, core first (discovery order follows this list within a group version). */
export const RESOURCES: ResourceDef[] = [
  { group: '', version: 'v1', plural: 'configmaps', singular: 'configmap', kind: 'ConfigMap', namespaced: true, shortNames: ['cm'], subresources: [], fieldLabels: [] },
  { group: '', version: 'v1', plural: 'endpoints', singular: 'endpoints', kind: 'Endpoints', namespaced: true, shortNames: ['ep'], createOnUpdate: true, subresources: [], fieldLabels: [] },
  { group: '', version: 'v1', plural: 'events', singular: 'event', kind: 'Event', namespaced: true, shortNames: ['ev'], subresources: [], fieldLabels: eventFields, createOnUpdate: true },
  { group: '', version: 'v1', plural: 'namespaces', singular: 'namespace', kind: 'Namespace', namespaced: false, shortNames: ['ns'], subresources: ['status', 'finalize'], fieldLabels: ['status.phase'], statusField: 'status' },
  { group: '', version: 'v1', plural: 'nodes', singular: 'node', kind: 'Node', namespaced: false, shortNames: ['no'], subresources: ['status', 'proxy'], fieldLabels: ['spec.unschedulable'], statusField: 'status' },
  { group: '', version: 'v1', plural: 'pods', singular: 'pod', kind: 'Pod', namespaced: true, shortNames: ['po'], categories: ['all'], subresources: ['status', 'binding', 'attach', 'exec', 'log', 'portforward', 'ephemeralcontainers', 'resize'], fieldLabels: podFields, statusField: 'status' },
  { group: '', version: 'v1', plural: 'secrets', singular: 'secret', kind: 'Secret', namespaced: true, subresources: [], fieldLabels: ['type'] },
  { group: '', version: 'v1', plural: 'serviceaccounts', singular: 'serviceaccount', kind: 'ServiceAccount', namespaced: true, shortNames: ['sa'], subresources: ['token'], fieldLabels: [] },
  { group: '', version: 'v1', plural: 'services', singular: 'service', kind: 'Service', namespaced: true, shortNames: ['svc'], categories: ['all'], subresources: ['status'], fieldLabels: ['spec.clusterIP', 'spec.type'], statusField: 'status' },
  { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', singular: 'lease', kind: 'Lease', namespaced: true, createOnUpdate: true, subresources: [], fieldLabels: [] },
  // ServiceCIDR: kube-proxy v1.33 (nftables mode) waits for its informer; stored as is (no allocator integration).
  { group: 'networking.k8s.io', version: 'v1', plural: 'servicecidrs', singular: 'servicecidr', kind: 'ServiceCIDR', namespaced: false, subresources: ['status'], fieldLabels: [], statusField: 'status' },
  { group: 'discovery.k8s.io', version: 'v1', plural: 'endpointslices', singular: 'endpointslice', kind: 'EndpointSlice', namespaced: true, subresources: [], fieldLabels: ['addressType'], generation: true },
  { group: 'events.k8s.io', version: 'v1', plural: 'events', singular: 'event', kind: 'Event', namespaced: true, shortNames: ['ev'], subresources: [], fieldLabels: eventFields, createOnUpdate: true },
  { group: 'certificates.k8s.io', version: 'v1', plural: 'certificatesigningrequests', singular: 'certificatesigningrequest', kind: 'CertificateSigningRequest', namespaced: false, shortNames: ['csr'], subresources: ['status', 'approval'], fieldLabels: ['spec.signerName'], statusField: 'status' },
  { group: 'authentication.k8s.io', version: 'v1', plural: 'tokenreviews', singular: 'tokenreview', kind: 'TokenReview', namespaced: false, subresources: [], fieldLabels: [], virtual: true },
  { group: 'authorization.k8s.io', version: 'v1', plural: 'selfsubjectaccessreviews', singular: 'selfsubjectaccessreview', kind: 'SelfSubjectAccessReview', namespaced: false, subresources: [], fieldLabels: [], virtual: true },
  { group: 'authorization.k8s.io', version: 'v1', plural: 'subjectaccessreviews', singular: 'subjectaccessreview', kind: 'SubjectAccessReview', namespaced: false, subresources: [], fieldLabels: [], virtual: true },
];

/** Kinds of subresources in discovery (`pods/status` → Pod, `pods/binding` → Binding, …). */
export const SUBRESOURCE_KIND: Record<string, { kind: string; group?: string; version?: string; verbs: string[] }> = {
  status: { kind: '', verbs: ['get', 'patch', 'update'] },
  binding: { kind: 'Binding', verbs: ['create'] },
  token: { kind: 'TokenRequest', group: 'authentication.k8s.io', version: 'v1', verbs: ['create'] },
  finalize: { kind: 'Namespace', verbs: ['update'] },
  approval: { kind: '', verbs: ['get', 'patch', 'update'] },
  attach: { kind: 'PodAttachOptions', verbs: ['create', 'get'] },
  exec: { kind: 'PodExecOptions', verbs: ['create', 'get'] },
  log: { kind: '', verbs: ['get'] },
  portforward: { kind: 'PodPortForwardOptions', verbs: ['create', 'get'] },
  proxy: { kind: 'NodeProxyOptions', verbs: ['create', 'delete', 'get', 'patch', 'update'] },
  ephemeralcontainers: { kind: '', verbs: ['get', 'patch', 'update'] },
  resize: { kind: '', verbs: ['get', 'patch', 'update'] },
};

/** Group/versions served, in /apis order. */
export function groupVersions(): { group: string; version: string }[] {
  const seen = new Set<string>();
  const out: { group: string; version: string }[] = [];
  for (const r of RESOURCES) {
    if (r.group === '' || seen.has(r.group)) continue;
    seen.add(r.group);
    out.push({ group: r.group, version: r.version });
  }
  return out;
}

/** Finds a resource by group, version and plural. */
export function findResource(group: string, version: string, plural: string): ResourceDef | undefined {
  return RESOURCES.find((r) => r.group === group && r.version === version && r.plural === plural);
}

/**
 * Storage key of a resource type (`pods`, `leases.coordination.k8s.io`). core/v1 and events.k8s.io/v1 events are
 * kept apart (a real server converts between them; this one does not).
 */
export function storageKey(r: ResourceDef): string {
  return r.group ? `${r.plural}.${r.group}` : r.plural;
}
