import { findResource } from '../resources.js';
import { isObject, jsonEqual, meta, objects, str, type JsonObject } from '../json.js';
import type { Registry } from '../registry.js';
import { matchLabels } from '../selectors.js';
import { ControllerLoop } from './loop.js';

function podReady(pod: JsonObject): boolean {
  return objects(isObject(pod.status) ? pod.status : {}, 'conditions').some((c) => c.type === 'Ready' && c.status === 'True');
}

/** core/v1 Endpoints subsets for one service (upstream endpoints controller, one subset per distinct port set). */
function subsetsFor(svc: JsonObject, pods: JsonObject[]): JsonObject[] {
  const spec = isObject(svc.spec) ? svc.spec : {};
  const reqs = Object.entries(spec.selector as JsonObject).map(([key, v]) => ({ key, op: '=' as const, values: [String(v)] }));
  const byPorts = new Map<string, { ports: JsonObject[]; addresses: JsonObject[]; notReadyAddresses: JsonObject[] }>();
  for (const pod of pods) {
    const m = meta(pod);
    const status = isObject(pod.status) ? pod.status : {};
    const ip = str(status, 'podIP');
    if (!matchLabels(reqs, isObject(m.labels) ? m.labels : {}) || !ip || m.deletionTimestamp) continue;
    if (status.phase === 'Succeeded' || status.phase === 'Failed') continue;
    const containerPorts = objects(isObject(pod.spec) ? pod.spec : {}, 'containers').flatMap((c) => objects(c, 'ports'));
    const ports: JsonObject[] = [];
    for (const p of objects(spec, 'ports')) {
      const tp = p.targetPort ?? p.port;
      const port = typeof tp === 'number' ? tp : containerPorts.find((c) => c.name === tp)?.containerPort;
      if (typeof port !== 'number') continue;
      const e: JsonObject = { port, protocol: str(p, 'protocol') ?? 'TCP' };
      if (str(p, 'name')) e.name = String(p.name);
      ports.push(e);
    }
    const key = JSON.stringify(ports);
    const g = byPorts.get(key) ?? { ports, addresses: [], notReadyAddresses: [] };
    const addr: JsonObject = { ip, targetRef: { kind: 'Pod', namespace: String(m.namespace), name: String(m.name), uid: String(m.uid) } };
    const node = isObject(pod.spec) ? str(pod.spec, 'nodeName') : undefined;
    if (node) addr.nodeName = node;
    (podReady(pod) || spec.publishNotReadyAddresses === true ? g.addresses : g.notReadyAddresses).push(addr);
    byPorts.set(key, g);
  }
  return [...byPorts.values()].map((g) => {
    const s: JsonObject = { ports: g.ports };
    if (g.addresses.length) s.addresses = g.addresses;
    if (g.notReadyAddresses.length) s.notReadyAddresses = g.notReadyAddresses;
    return s;
  });
}

/**
 * Stands in for kube-controller-manager's endpoints controller: core/v1 Endpoints named like each Service with a
 * selector (ready pods in `addresses`, others in `notReadyAddresses`; terminating pods left out), removed with the
 * Service. `default/kubernetes` is kept by the server itself.
 */
export function startEndpointsController(reg: Registry): ControllerLoop {
  const svcDef = findResource('', 'v1', 'services')!;
  const podDef = findResource('', 'v1', 'pods')!;
  const epDef = findResource('', 'v1', 'endpoints')!;
  const sync = (): void => {
    const pods = reg.list(podDef, undefined);
    const wanted = new Set<string>();
    for (const svc of reg.list(svcDef, undefined)) {
      const sm = meta(svc);
      const spec = isObject(svc.spec) ? svc.spec : {};
      if (!isObject(spec.selector) || spec.type === 'ExternalName') continue;
      const ns = String(sm.namespace);
      const name = String(sm.name);
      wanted.add(`${ns}/${name}`);
      const subsets = subsetsFor(svc, pods.filter((p) => meta(p).namespace === ns));
      const labels = isObject(sm.labels) ? sm.labels : {};
      const cur = reg.store.get('endpoints', `${ns}/${name}`);
      try {
        if (cur === undefined) reg.create(epDef, ns, { metadata: { name, labels }, subsets });
        else if (!jsonEqual(cur.subsets ?? [], subsets)) reg.update(epDef, ns, name, { ...cur, subsets }, { internal: true });
      } catch {
        // raced with a client: the resulting event runs sync again
      }
    }
    for (const ep of reg.list(epDef, undefined)) {
      const id = `${String(meta(ep).namespace)}/${String(meta(ep).name)}`;
      if (id === 'default/kubernetes' || wanted.has(id)) continue;
      if (reg.store.get('services', id) === undefined) reg.delete(epDef, String(meta(ep).namespace), String(meta(ep).name), {});
    }
  };
  const loop = new ControllerLoop(reg.store, ['pods', 'services'], sync);
  loop.kick();
  return loop;
}
