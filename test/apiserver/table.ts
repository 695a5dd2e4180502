import { isObject, meta, objects, str, type Json, type JsonObject } from './json.js';

interface Column {
  name: string;
  type?: string;
  format?: string;
  priority?: number;
  cell: (o: JsonObject, now: number) => Json;
}

/** Human age as kubectl prints it (`0s`, `5m12s`, `3h`, `2d`). */
export function humanAge(fromIso: unknown, now: number): string {
  const t = typeof fromIso === 'string' ? Date.parse(fromIso) : NaN;
  if (Number.isNaN(t)) return '<unknown>';
  const s = Math.max(0, Math.floor((now - t) / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return `${m}m${s % 60 ? `${s % 60}s` : ''}`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h`;
  return `${Math.floor(h / 24)}d`;
}

const none = '<none>';
const age: Column = { name: 'Age', cell: (o, now) => humanAge(meta(o).creationTimestamp, now) };
const name: Column = { name: 'Name', format: 'name', cell: (o) => String(meta(o).name ?? '') };

/** Pod STATUS column as upstream printPod computes it. */
export function podStatusReason(pod: JsonObject): string {
  const status = isObject(pod.status) ? pod.status : {};
  let reason = str(status, 'reason') ?? str(status, 'phase') ?? '';
  let initializing = false;
  objects(status, 'initContainerStatuses').forEach((c, i) => {
    const st = isObject(c.state) ? c.state : {};
    if (isObject(st.terminated) && st.terminated.exitCode === 0) return;
    initializing = true;
    const total = objects(isObject(pod.spec) ? pod.spec : {}, 'initContainers').length;
    if (isObject(st.terminated)) reason = str(st.terminated, 'reason') ? `Init:${st.terminated.reason}` : `Init:ExitCode:${st.terminated.exitCode}`;
    else if (isObject(st.waiting) && str(st.waiting, 'reason') && st.waiting.reason !== 'PodInitializing') reason = `Init:${st.waiting.reason}`;
    else reason = `Init:${i}/${total}`;
  });
  if (!initializing) {
    let hasRunning = false;
    for (const c of [...objects(status, 'containerStatuses')].reverse()) {
      const st = isObject(c.state) ? c.state : {};
      if (isObject(st.waiting) && str(st.waiting, 'reason')) reason = String(st.waiting.reason);
      else if (isObject(st.terminated) && str(st.terminated, 'reason')) reason = String(st.terminated.reason);
      else if (isObject(st.terminated)) reason = st.terminated.signal ? `Signal:${st.terminated.signal}` : `ExitCode:${st.terminated.exitCode}`;
      else if (isObject(st.running) && c.ready === true) hasRunning = true;
    }
    if (reason === 'Completed' && hasRunning) reason = 'Running';
  }
  if (meta(pod).deletionTimestamp && status.reason !== 'NodeLost') reason = 'Terminating';
  return reason;
}

const podColumns: Column[] = [
  name,
  {
    name: 'Ready',
    cell: (o) => {
      const cs = objects(isObject(o.status) ? o.status : {}, 'containerStatuses');
      const total = objects(isObject(o.spec) ? o.spec : {}, 'containers').length;
      return `${cs.filter((c) => c.ready === true).length}/${total}`;
    },
  },
  { name: 'Status', cell: podStatusReason },
  {
    name: 'Restarts',
    cell: (o) => String(objects(isObject(o.status) ? o.status : {}, 'containerStatuses').reduce((n, c) => n + (typeof c.restartCount === 'number' ? c.restartCount : 0), 0)),
  },
  age,
  { name: 'IP', priority: 1, cell: (o) => (isObject(o.status) && str(o.status, 'podIP')) || none },
  { name: 'Node', priority: 1, cell: (o) => (isObject(o.spec) && str(o.spec, 'nodeName')) || none },
  { name: 'Nominated Node', priority: 1, cell: (o) => (isObject(o.status) && str(o.status, 'nominatedNodeName')) || none },
  { name: 'Readiness Gates', priority: 1, cell: () => none },
];

function nodeStatus(o: JsonObject): string {
  const cond = objects(isObject(o.status) ? o.status : {}, 'conditions').find((c) => c.type === 'Ready');
  let s = cond?.status === 'True' ? 'Ready' : cond === undefined || cond.status === 'Unknown' ? 'Unknown' : 'NotReady';
  if (s === 'Unknown' && cond !== undefined) s = 'NotReady';
  if (isObject(o.spec) && o.spec.unschedulable === true) s += ',SchedulingDisabled';
  return s;
}

const nodeColumns: Column[] = [
  name,
  { name: 'Status', cell: nodeStatus },
  {
    name: 'Roles',
    cell: (o) => {
      const roles = Object.keys(isObject(meta(o).labels) ? (meta(o).labels as JsonObject) : {})
        .filter((k) => k.startsWith('node-role.kubernetes.io/'))
        .map((k) => k.slice('node-role.kubernetes.io/'.length));
      return roles.length ? roles.sort().join(',') : none;
    },
  },
  age,
  { name: 'Version', cell: (o) => String((isObject(o.status) && isObject(o.status.nodeInfo) && o.status.nodeInfo.kubeletVersion) || '') },
  {
    name: 'Internal-IP',
    priority: 1,
    cell: (o) => String(objects(isObject(o.status) ? o.status : {}, 'addresses').find((a) => a.type === 'InternalIP')?.address ?? none),
  },
  { name: 'OS-Image', priority: 1, cell: (o) => String((isObject(o.status) && isObject(o.status.nodeInfo) && o.status.nodeInfo.osImage) || '<unknown>') },
];

function svcPorts(o: JsonObject): string {
  const ports = objects(isObject(o.spec) ? o.spec : {}, 'ports');
  if (ports.length === 0) return none;
  return ports.map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol ?? 'TCP'}`).join(',');
}

const serviceColumns: Column[] = [
  name,
  { name: 'Type', cell: (o) => String((isObject(o.spec) && o.spec.type) || 'ClusterIP') },
  { name: 'Cluster-IP', cell: (o) => String((isObject(o.spec) && o.spec.clusterIP) || none) },
  {
    name: 'External-IP',
    cell: (o) => {
      const spec = isObject(o.spec) ? o.spec : {};
      if (spec.type === 'ExternalName') return String(spec.externalName ?? none);
      const ext = Array.isArray(spec.externalIPs) ? spec.externalIPs.map(String) : [];
      if (spec.type === 'LoadBalancer') {
        const ing = objects(isObject(o.status) && isObject(o.status.loadBalancer) ? o.status.loadBalancer : {}, 'ingress');
        const ips = [...ing.map((i) => String(i.ip ?? i.hostname ?? '')), ...ext];
        return ips.length ? ips.join(',') : '<pending>';
      }
      return ext.length ? ext.join(',') : none;
    },
  },
  { name: 'Port(s)', cell: svcPorts },
  age,
  {
    name: 'Selector',
    priority: 1,
    cell: (o) => {
      const sel = isObject(o.spec) && isObject(o.spec.selector) ? o.spec.selector : undefined;
      return sel ? Object.entries(sel).map(([k, v]) => `${k}=${String(v)}`).join(',') : none;
    },
  },
];

const COLUMNS: Record<string, Column[]> = {
  pods: podColumns,
  nodes: nodeColumns,
  services: serviceColumns,
  namespaces: [name, { name: 'Status', cell: (o) => String((isObject(o.status) && o.status.phase) || '') }, age],
  configmaps: [name, { name: 'Data', type: 'integer', cell: (o) => Object.keys(isObject(o.data) ? o.data : {}).length + Object.keys(isObject(o.binaryData) ? o.binaryData : {}).length }, age],
  secrets: [name, { name: 'Type', cell: (o) => String(o.type ?? '') }, { name: 'Data', type: 'integer', cell: (o) => Object.keys(isObject(o.data) ? o.data : {}).length }, age],
  events: [
    { name: 'Last Seen', cell: (o, now) => humanAge(o.lastTimestamp ?? o.eventTime ?? meta(o).creationTimestamp, now) },
    { name: 'Type', cell: (o) => String(o.type ?? '') },
    { name: 'Reason', cell: (o) => String(o.reason ?? '') },
    { name: 'Object', cell: (o) => (isObject(o.involvedObject) ? `${String(o.involvedObject.kind ?? '').toLowerCase()}/${String(o.involvedObject.name ?? '')}` : '') },
    { name: 'Message', cell: (o) => String(o.message ?? o.note ?? '') },
  ],
  serviceaccounts: [name, { name: 'Secrets', type: 'integer', cell: (o) => objects(o, 'secrets').length }, age],
  endpoints: [
    name,
    {
      name: 'Endpoints',
      cell: (o) => {
        const eps = objects(o, 'subsets').flatMap((ss) => objects(ss, 'addresses').flatMap((a) => objects(ss, 'ports').map((p) => `${String(a.ip)}:${String(p.port)}`)));
        return eps.length ? eps.slice(0, 3).join(',') + (eps.length > 3 ? ` + ${eps.length - 3} more...` : '') : '<none>';
      },
    },
    age,
  ],
  'leases.coordination.k8s.io': [name, { name: 'Holder', cell: (o) => String((isObject(o.spec) && o.spec.holderIdentity) || '') }, age],
  'endpointslices.discovery.k8s.io': [
    name,
    { name: 'AddressType', cell: (o) => String(o.addressType ?? '') },
    { name: 'Ports', cell: (o) => objects(o, 'ports').map((p) => String(p.port ?? '')).join(',') || '<unset>' },
    { name: 'Endpoints', cell: (o) => objects(o, 'endpoints').flatMap((e) => (Array.isArray(e.addresses) ? e.addresses.map(String) : [])).join(',') || '<unset>' },
    age,
  ],
};

const DEFAULT: Column[] = [name, { name: 'Created At', type: 'date', cell: (o) => String(meta(o).creationTimestamp ?? '') }];

/** Renders objects as a meta.k8s.io/v1 Table (14-list-pods-as-table.txt): cells plus PartialObjectMetadata rows. */
export function toTable(storage: string, items: JsonObject[], resourceVersion: string, now: number, extraMeta: JsonObject = {}): JsonObject {
  const cols = COLUMNS[storage] ?? DEFAULT;
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion, ...extraMeta },
    columnDefinitions: cols.map((c) => ({
      name: c.name,
      type: c.type ?? 'string',
      format: c.format ?? '',
      description: '',
      priority: c.priority ?? 0,
    })),
    rows: items.map((o) => ({
      cells: cols.map((c) => c.cell(o, now)),
      object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: meta(o) },
    })),
  };
}
