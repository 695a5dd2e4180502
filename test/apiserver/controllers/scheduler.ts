import { findResource } from '../resources.js';
import { isObject, meta, objects, str, type JsonObject } from '../json.js';
import type { Registry } from '../registry.js';
import { conflict } from '../status.js';
import { ControllerLoop } from './loop.js';

const rfc3339 = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * Binds a pod to a node as the pods/binding subresource does: sets spec.nodeName and the PodScheduled=True
 * condition. 409 when the pod is already bound.
 */
export function bindPod(reg: Registry, ns: string, name: string, node: string): void {
  const def = findResource('', 'v1', 'pods')!;
  const pod = reg.get(def, ns, name);
  const spec = isObject(pod.spec) ? pod.spec : {};
  if (str(spec, 'nodeName')) throw conflict('pods', name, '', `pod ${name} is already assigned to node "${String(spec.nodeName)}"`);
  spec.nodeName = node;
  pod.spec = spec;
  const bound = reg.update(def, ns, name, pod, { internal: true });
  const status = isObject(bound.status) ? bound.status : {};
  const conds = objects(status, 'conditions').filter((c) => c.type !== 'PodScheduled');
  conds.push({ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: rfc3339(reg.ctx.now()) });
  reg.update(def, ns, name, { ...bound, status: { ...status, conditions: conds } }, { sub: 'status', internal: true });
}

function tolerates(pod: JsonObject, taint: JsonObject): boolean {
  if (taint.effect === 'PreferNoSchedule') return true;
  return objects(isObject(pod.spec) ? pod.spec : {}, 'tolerations').some((t) => {
    if (t.effect !== undefined && t.effect !== '' && t.effect !== taint.effect) return false;
    if (t.operator === 'Exists') return t.key === undefined || t.key === '' || t.key === taint.key;
    return t.key === taint.key && (t.value ?? '') === (taint.value ?? '');
  });
}

/** Why `node` cannot run `pod`, or undefined when it fits. */
function unfit(pod: JsonObject, node: JsonObject): string | undefined {
  const nspec = isObject(node.spec) ? node.spec : {};
  if (nspec.unschedulable === true) return 'node(s) were unschedulable';
  const ready = objects(isObject(node.status) ? node.status : {}, 'conditions').find((c) => c.type === 'Ready')?.status === 'True';
  if (!ready) return "node(s) had untolerated taint {node.kubernetes.io/not-ready: }";
  const taint = objects(nspec, 'taints').find((t) => !tolerates(pod, t));
  if (taint) return `node(s) had untolerated taint {${String(taint.key)}: ${String(taint.value ?? '')}}`;
  const sel = isObject(pod.spec) && isObject(pod.spec.nodeSelector) ? pod.spec.nodeSelector : {};
  const labels = isObject(meta(node).labels) ? (meta(node).labels as JsonObject) : {};
  if (Object.entries(sel).some(([k, v]) => labels[k] !== v)) return "node(s) didn't match Pod's node affinity/selector";
  return undefined;
}

/**
 * Stands in for kube-scheduler (simply): binds pods without a node whose schedulerName is default-scheduler to a
 * Ready, schedulable node whose taints they tolerate and whose labels match their nodeSelector (fewest pods first);
 * pods that fit nowhere get PodScheduled=False/Unschedulable with an upstream-style message. No resources,
 * affinity or topology spread.
 */
export function startScheduler(reg: Registry): ControllerLoop {
  const podDef = findResource('', 'v1', 'pods')!;
  const nodeDef = findResource('', 'v1', 'nodes')!;
  const sync = (): void => {
    const pods = reg.list(podDef, undefined);
    const nodes = reg.list(nodeDef, undefined);
    const load = new Map<string, number>();
    for (const p of pods) {
      const n = isObject(p.spec) ? str(p.spec, 'nodeName') : undefined;
      if (n) load.set(n, (load.get(n) ?? 0) + 1);
    }
    for (const pod of pods) {
      const spec = isObject(pod.spec) ? pod.spec : {};
      if (str(spec, 'nodeName') || meta(pod).deletionTimestamp || (spec.schedulerName ?? 'default-scheduler') !== 'default-scheduler') continue;
      const reasons = new Map<string, number>();
      const fits = nodes.filter((n) => {
        const why = unfit(pod, n);
        if (why !== undefined) reasons.set(why, (reasons.get(why) ?? 0) + 1);
        return why === undefined;
      });
      const ns = String(meta(pod).namespace);
      const name = String(meta(pod).name);
      try {
        if (fits.length > 0) {
          fits.sort((a, b) => (load.get(String(meta(a).name)) ?? 0) - (load.get(String(meta(b).name)) ?? 0) || String(meta(a).name).localeCompare(String(meta(b).name)));
          const node = String(meta(fits[0]!).name);
          bindPod(reg, ns, name, node);
          load.set(node, (load.get(node) ?? 0) + 1);
          continue;
        }
        const detail = [...reasons].map(([why, n]) => `${n} ${why}`).sort().join(', ');
        const message = `0/${nodes.length} nodes are available${detail ? `: ${detail}` : ''}. preemption: 0/${nodes.length} nodes are available: ${nodes.length} Preemption is not helpful for scheduling.`;
        const status = isObject(pod.status) ? pod.status : {};
        const cur = objects(status, 'conditions').find((c) => c.type === 'PodScheduled');
        if (cur?.message === message) continue;
        const conds = objects(status, 'conditions').filter((c) => c.type !== 'PodScheduled');
        conds.push({ type: 'PodScheduled', status: 'False', lastProbeTime: null, lastTransitionTime: rfc3339(reg.ctx.now()), reason: 'Unschedulable', message });
        reg.update(podDef, ns, name, { ...pod, status: { ...status, conditions: conds } }, { sub: 'status', internal: true });
      } catch {
        // the pod changed or went away meanwhile: the resulting event runs sync again
      }
    }
  };
  const loop = new ControllerLoop(reg.store, ['pods', 'nodes'], sync);
  loop.kick();
  return loop;
}
