import { findResource } from '../resources.js';
import { clone, isObject, meta, objects, type JsonObject } from '../json.js';
import type { Registry } from '../registry.js';
import { ControllerLoop } from './loop.js';

const NOT_READY = 'node.kubernetes.io/not-ready';

/**
 * Stands in for the node lifecycle and TTL controllers: keeps the `node.kubernetes.io/not-ready:NoSchedule` taint in
 * line with the Ready condition, adds the beta os/arch labels and the `node.alpha.kubernetes.io/ttl` annotation
 * (37-patch-node-status-strategic.txt).
 */
export function startNodeController(reg: Registry): ControllerLoop {
  const def = findResource('', 'v1', 'nodes')!;
  const sync = (): void => {
    for (const node of reg.list(def, undefined)) {
      const next = clone(node);
      const m = meta(next);
      const labels: JsonObject = isObject(m.labels) ? m.labels : {};
      if (typeof labels['kubernetes.io/os'] === 'string') labels['beta.kubernetes.io/os'] = labels['kubernetes.io/os'];
      if (typeof labels['kubernetes.io/arch'] === 'string') labels['beta.kubernetes.io/arch'] = labels['kubernetes.io/arch'];
      if (Object.keys(labels).length > 0) m.labels = labels;
      const ann: JsonObject = isObject(m.annotations) ? m.annotations : {};
      ann['node.alpha.kubernetes.io/ttl'] ??= '0';
      m.annotations = ann;
      const ready = objects(isObject(next.status) ? next.status : {}, 'conditions').find((c) => c.type === 'Ready')?.status === 'True';
      const spec: JsonObject = isObject(next.spec) ? next.spec : {};
      const taints = objects(spec, 'taints');
      const has = taints.some((t) => t.key === NOT_READY && t.effect === 'NoSchedule');
      if (ready && has) {
        const rest = taints.filter((t) => !(t.key === NOT_READY && t.effect === 'NoSchedule'));
        if (rest.length > 0) spec.taints = rest;
        else delete spec.taints;
      } else if (!ready && !has) spec.taints = [...taints, { key: NOT_READY, effect: 'NoSchedule' }];
      next.spec = spec;
      try {
        reg.update(def, undefined, String(m.name), next, { internal: true });
      } catch {
        // conflict with a concurrent writer: the resulting event runs sync again
      }
    }
  };
  const loop = new ControllerLoop(reg.store, ['nodes'], sync);
  loop.kick();
  return loop;
}
