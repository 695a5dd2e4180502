import { findResource } from '../resources.js';
import { isObject, jsonEqual, meta, objects, str, type Json, type JsonObject } from '../json.js';
import type { Registry } from '../registry.js';
import { matchLabels } from '../selectors.js';
import { ControllerLoop } from './loop.js';

const MANAGED_BY = 'endpointslice-controller.k8s.io';

interface Group {
  ports: JsonObject[];
  endpoints: JsonObject[];
}

function podReady(pod: JsonObject): boolean {
  return objects(isObject(pod.status) ? pod.status : {}, 'conditions').some((c) => c.type === 'Ready' && c.status === 'True');
}

/** Resolves service ports against one pod (named targetPorts look up the pod's container ports). */
function resolvePorts(svc: JsonObject, pod: JsonObject): JsonObject[] | undefined {
  const out: JsonObject[] = [];
  const containerPorts = objects(isObject(pod.spec) ? pod.spec : {}, 'containers').flatMap((c) => objects(c, 'ports'));
  for (const p of objects(isObject(svc.spec) ? svc.spec : {}, 'ports')) {
    const tp: Json | undefined = p.targetPort ?? p.port;
    let port: number | undefined;
    if (typeof tp === 'number') port = tp;
    else if (typeof tp === 'string') {
      const cp = containerPorts.find((c) => c.name === tp && (c.protocol ?? 'TCP') === (p.protocol ?? 'TCP'));
      if (typeof cp?.containerPort === 'number') port = cp.containerPort;
      else if (/^\d+$/.test(tp)) port = Number(tp);
    }
    if (port === undefined) continue;
    const e: JsonObject = { name: str(p, 'name') ?? '', protocol: str(p, 'protocol') ?? 'TCP', port };
    if (p.appProtocol !== undefined) e.appProtocol = p.appProtocol;
    out.push(e);
  }
  return out;
}

function desiredGroups(svc: JsonObject, pods: JsonObject[]): Map<string, Group> {
  const groups = new Map<string, Group>();
  const spec = isObject(svc.spec) ? svc.spec : {};
  const selector = spec.selector as JsonObject;
  const reqs = Object.entries(selector).map(([key, v]) => ({ key, op: '=' as const, values: [String(v)] }));
  for (const pod of pods) {
    const m = meta(pod);
    if (!matchLabels(reqs, isObject(m.labels) ? m.labels : {})) continue;
    const status = isObject(pod.status) ? pod.status : {};
    const ip = str(status, 'podIP');
    if (!ip || status.phase === 'Succeeded' || status.phase === 'Failed') continue;
    const ports = resolvePorts(svc, pod) ?? [];
    const key = JSON.stringify(ports);
    const terminating = Boolean(m.deletionTimestamp);
    const ready = podReady(pod);
    const ep: JsonObject = {
      addresses: [ip],
      conditions: { ready: (ready || spec.publishNotReadyAddresses === true) && !terminating, serving: ready, terminating },
      targetRef: { kind: 'Pod', namespace: String(m.namespace), name: String(m.name), uid: String(m.uid) },
    };
    const nodeName = isObject(pod.spec) ? str(pod.spec, 'nodeName') : undefined;
    if (nodeName) ep.nodeName = nodeName;
    const g = groups.get(key) ?? { ports, endpoints: [] };
    g.endpoints.push(ep);
    groups.set(key, g);
  }
  return groups;
}

/**
 * Stands in for kube-controller-manager's EndpointSlice controller: for every Service with a selector, keeps
 * discovery.k8s.io/v1 EndpointSlices (one per distinct resolved port set) listing matching pods that have an IP,
 * with ready/serving/terminating from pod readiness and deletionTimestamp, nodeName and targetRef; labels and
 * ownerReferences as upstream. Slices of deleted or selector-less services are removed.
 */
export function startEndpointSliceController(reg: Registry): ControllerLoop {
  const svcDef = findResource('', 'v1', 'services')!;
  const podDef = findResource('', 'v1', 'pods')!;
  const esDef = findResource('discovery.k8s.io', 'v1', 'endpointslices')!;
  const sync = (): void => {
    const pods = reg.list(podDef, undefined);
    const services = reg.list(svcDef, undefined);
    const slices = reg.list(esDef, undefined).filter((s) => (meta(s).labels as JsonObject | undefined)?.['endpointslice.kubernetes.io/managed-by'] === MANAGED_BY);
    const kept = new Set<string>();
    for (const svc of services) {
      const sm = meta(svc);
      const ns = String(sm.namespace);
      const spec = isObject(svc.spec) ? svc.spec : {};
      if (!isObject(spec.selector) || spec.type === 'ExternalName') continue;
      const groups = desiredGroups(svc, pods.filter((p) => meta(p).namespace === ns));
      if (groups.size === 0) groups.set('[]', { ports: [], endpoints: [] });
      const mine = slices.filter((s) => meta(s).namespace === ns && (meta(s).labels as JsonObject)['kubernetes.io/service-name'] === sm.name);
      const free = [...mine];
      for (const g of groups.values()) {
        const existing = free.find((s) => jsonEqual(s.ports ?? [], g.ports)) ?? free[0];
        // Upstream copies the Service's labels and marks headless services.
        const labels: JsonObject = { ...(isObject(sm.labels) ? sm.labels : {}), 'kubernetes.io/service-name': String(sm.name), 'endpointslice.kubernetes.io/managed-by': MANAGED_BY };
        if (spec.clusterIP === 'None') labels['service.kubernetes.io/headless'] = '';
        const body: JsonObject = {
          metadata: {
            generateName: `${String(sm.name)}-`,
            labels,
            ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: String(sm.name), uid: String(sm.uid), controller: true, blockOwnerDeletion: true }],
          },
          addressType: 'IPv4',
          endpoints: g.endpoints,
          ports: g.ports,
        };
        if (existing === undefined) {
          const made = reg.create(esDef, ns, body);
          kept.add(`${ns}/${String(meta(made).name)}`);
          continue;
        }
        free.splice(free.indexOf(existing), 1);
        kept.add(`${ns}/${String(meta(existing).name)}`);
        const next = { ...existing, metadata: { ...meta(existing), labels }, endpoints: g.endpoints, ports: g.ports };
        if (!jsonEqual(next, existing)) reg.update(esDef, ns, String(meta(existing).name), next, { internal: true });
      }
    }
    for (const s of slices) {
      const id = `${String(meta(s).namespace)}/${String(meta(s).name)}`;
      if (!kept.has(id)) reg.delete(esDef, String(meta(s).namespace), String(meta(s).name), {});
    }
  };
  const loop = new ControllerLoop(reg.store, ['pods', 'services', 'endpointslices.discovery.k8s.io'], sync);
  loop.kick();
  return loop;
}
