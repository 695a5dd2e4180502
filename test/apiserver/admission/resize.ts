/**
 * The `pods/resize` subresource (kube-apiserver v1.33, InPlacePodVerticalScaling beta): only the resources of
 * containers and sidecar init containers change; every other field of the request is ignored (the stored spec is
 * kept). Validation as the real server answers it (messages recorded against v1.33.3): only cpu and memory are
 * mutable (resizePolicy too is immutable), limits and requests cannot be removed, a memory limit cannot decrease
 * unless the container's memory resizePolicy is RestartContainer, the QoS class cannot change, and regular init
 * containers cannot be resized. Requests missing for a given limit default to it, as decoding does.
 */
import { parseQuantity } from '../../../src/util/quantity.js';
import { clone, isObject, jsonEqual, objects, type JsonObject } from '../json.js';
import { canonicalizePodQuantities } from '../quantity.js';
import { invalidValue, type StatusCause } from '../status.js';
import { qosClass } from './pod-defaults.js';

const RESIZABLE = new Set(['cpu', 'memory']);

/** A field error with upstream's `Forbidden: …` message. */
const forbidden = (field: string, why: string): StatusCause => ({ reason: 'FieldValueForbidden', message: `Forbidden: ${why}`, field });

function list(res: JsonObject, kind: 'requests' | 'limits'): JsonObject {
  return isObject(res[kind]) ? res[kind] : {};
}

function memoryPolicy(c: JsonObject): string {
  const p = objects(c, 'resizePolicy').find((x) => x.resourceName === 'memory');
  return typeof p?.restartPolicy === 'string' ? p.restartPolicy : 'NotRequired';
}

/** Checks one container's resource change; returns whether a non-cpu/memory resource changed. */
function checkContainer(path: string, oldRes: JsonObject, newRes: JsonObject, c: JsonObject, causes: StatusCause[]): boolean {
  let otherChanged = false;
  for (const kind of ['requests', 'limits'] as const) {
    const o = list(oldRes, kind);
    const n = list(newRes, kind);
    for (const k of new Set([...Object.keys(o), ...Object.keys(n)])) {
      if (!RESIZABLE.has(k) && !jsonEqual(o[k], n[k])) otherChanged = true;
    }
    if ([...RESIZABLE].some((k) => o[k] !== undefined && n[k] === undefined)) {
      causes.push(forbidden(`${path}.resources.${kind}`, `resource ${kind} cannot be removed`));
    }
  }
  const oldMem = parseQuantity(list(oldRes, 'limits').memory as string | undefined);
  const newMem = parseQuantity(list(newRes, 'limits').memory as string | undefined);
  if (oldMem !== undefined && newMem !== undefined && newMem < oldMem && memoryPolicy(c) !== 'RestartContainer') {
    causes.push(forbidden(`${path}.resources.limits[memory]`, 'memory limits cannot be decreased unless resizePolicy is RestartContainer'));
  }
  return otherChanged;
}

/**
 * Turns the object a `pods/resize` request produced (`next`) into the stored pod with only the resources changed,
 * in place; returns the validation causes (422 when any).
 */
export function applyResize(old: JsonObject, next: JsonObject): StatusCause[] {
  const oldSpec = isObject(old.spec) ? old.spec : {};
  const newSpec = isObject(next.spec) ? clone(next.spec) : {};
  const causes: StatusCause[] = canonicalizePodQuantities(newSpec);
  if (causes.length > 0) return causes;
  const out = clone(oldSpec);
  let otherChanged = false;
  for (const key of ['initContainers', 'containers'] as const) {
    const asked = objects(newSpec, key);
    objects(out, key).forEach((c, i) => {
      const n = asked.find((x) => x.name === c.name);
      if (n === undefined) return;
      if (!jsonEqual(c.resizePolicy ?? null, n.resizePolicy ?? null)) otherChanged = true;
      const oldRes = isObject(c.resources) ? c.resources : {};
      const newRes = isObject(n.resources) ? clone(n.resources) : {};
      if (isObject(newRes.limits)) {
        const req = isObject(newRes.requests) ? newRes.requests : (newRes.requests = {});
        for (const [k, v] of Object.entries(newRes.limits)) if (req[k] === undefined) req[k] = v;
      }
      if (jsonEqual(oldRes, newRes)) return;
      if (key === 'initContainers' && c.restartPolicy !== 'Always') {
        causes.push(forbidden('spec', 'resources for non-sidecar init containers are immutable'));
        return;
      }
      if (checkContainer(`spec.${key}[${i}]`, oldRes, newRes, c, causes)) otherChanged = true;
      c.resources = newRes;
    });
  }
  if (otherChanged) causes.push(forbidden('spec', 'only cpu and memory resources are mutable'));
  const qos = qosClass(oldSpec);
  if (causes.length === 0 && qosClass(out) !== qos) causes.push(invalidValue('spec', qos, 'Pod QOS Class may not change as a result of resizing'));
  next.spec = out;
  return causes;
}
