import { badRequest } from './status.js';
import { clone, isObject, jsonEqual, type Json, type JsonObject } from './json.js';

/**
 * Strategic merge patch for the built-in types this server stores. Upstream reads `patchStrategy`/`patchMergeKey`
 * from Go struct tags; here the same facts are a table keyed by the field name and its parent path.
 * Lists without an entry are replaced whole (like `tolerations`, `taints`, `envFrom` upstream, and the pod status's
 * `containerStatuses`/`initContainerStatuses`/`ephemeralContainerStatuses`, which are `+listType=atomic` without a
 * patch strategy in k8s.io/api core/v1).
 */
function listStrategy(path: string[]): { key?: string; primitive?: boolean } | undefined {
  const name = path[path.length - 1];
  const inContainer = path.some((p) => p === 'containers' || p === 'initContainers' || p === 'ephemeralContainers');
  switch (name) {
    case 'conditions':
      return { key: 'type' };
    case 'containers':
    case 'initContainers':
    case 'ephemeralContainers':
    case 'volumes':
    case 'env':
    case 'imagePullSecrets':
    case 'resourceClaims':
      return { key: 'name' };
    case 'volumeMounts':
      return { key: 'mountPath' };
    case 'volumeDevices':
      return { key: 'devicePath' };
    case 'ports':
      if (inContainer) return { key: 'containerPort' };
      if (path.length === 2 && path[0] === 'spec') return { key: 'port' }; // Service
      return undefined;
    case 'ownerReferences':
      return { key: 'uid' };
    case 'podIPs':
    case 'hostIPs':
    case 'hostAliases':
      return { key: 'ip' };
    case 'addresses':
      return path[0] === 'status' ? { key: 'type' } : undefined; // NodeStatus.addresses
    case 'topologySpreadConstraints':
      return { key: 'topologyKey' };
    case 'finalizers':
      return { primitive: true };
    default:
      return undefined;
  }
}

function mergeList(orig: Json[], patch: Json[], path: string[], order: Json[] | undefined): Json[] {
  const strat = listStrategy(path);
  if (strat === undefined) {
    return patch.filter((x) => !(isObject(x) && x.$patch !== undefined)).map(clone);
  }
  if (patch.some((x) => isObject(x) && x.$patch === 'replace')) {
    return patch.filter((x) => !(isObject(x) && x.$patch === 'replace')).map(clone);
  }
  if (strat.primitive) {
    const out = orig.map(clone);
    for (const v of patch) if (!out.some((o) => jsonEqual(o, v))) out.push(clone(v));
    return out;
  }
  const key = strat.key!;
  const out: Json[] = orig.map(clone);
  for (const p of patch) {
    if (!isObject(p)) throw badRequest(`unable to find api field in struct for the list ${path.join('.')}`);
    const kv = p[key];
    const idx = out.findIndex((o) => isObject(o) && jsonEqual(o[key], kv));
    if (p.$patch === 'delete') {
      if (idx >= 0) out.splice(idx, 1);
      continue;
    }
    if (kv === undefined) throw badRequest(`map: ${JSON.stringify(p)} does not contain declared merge key: ${key}`);
    if (idx >= 0) out[idx] = mergeMap(out[idx] as JsonObject, p, path);
    else out.push(mergeMap({}, p, path));
  }
  if (order !== undefined) {
    const rank = (o: Json): number => {
      const i = order.findIndex((e) => isObject(e) && isObject(o) && jsonEqual(e[key], o[key]));
      return i < 0 ? order.length : i;
    };
    return out.map((o, i) => ({ o, i })).sort((a, b) => rank(a.o) - rank(b.o) || a.i - b.i).map((x) => x.o);
  }
  return out;
}

/** Merges `patch` into a copy of `orig` following strategic-merge rules (directives `$patch`, `$retainKeys`, `$setElementOrder/…`, `$deleteFromPrimitiveList/…`). */
export function mergeMap(orig: JsonObject, patch: JsonObject, path: string[] = []): JsonObject {
  if (patch.$patch === 'replace') {
    const { $patch: _ignored, ...rest } = patch;
    return stripDirectives(rest);
  }
  if (patch.$patch === 'delete') return {};
  let out = clone(orig);
  const retain = patch.$retainKeys;
  if (Array.isArray(retain)) {
    const keep = new Set(retain.map(String));
    out = Object.fromEntries(Object.entries(out).filter(([k]) => keep.has(k)));
  }
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$patch' || k === '$retainKeys' || k.startsWith('$setElementOrder/')) continue;
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const field = k.slice('$deleteFromPrimitiveList/'.length);
      const cur = out[field];
      if (Array.isArray(cur) && Array.isArray(v)) out[field] = cur.filter((x) => !v.some((d) => jsonEqual(d, x)));
      continue;
    }
    if (v === null) {
      delete out[k];
      continue;
    }
    const cur = out[k];
    const childPath = [...path, k];
    if (Array.isArray(v)) {
      const orderV = patch[`$setElementOrder/${k}`];
      out[k] = mergeList(Array.isArray(cur) ? cur : [], v, childPath, Array.isArray(orderV) ? orderV : undefined);
    } else if (isObject(v)) {
      out[k] = mergeMap(isObject(cur) ? cur : {}, v, childPath);
    } else out[k] = v;
  }
  return out;
}

function stripDirectives(o: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(o)) {
    if (k.startsWith('$')) continue;
    out[k] = isObject(v) ? stripDirectives(v) : clone(v);
  }
  return out;
}

/** Applies a strategic merge patch to an object. */
export function applyStrategicMergePatch(target: JsonObject, patch: unknown): JsonObject {
  if (!isObject(patch)) throw badRequest('json: cannot unmarshal array into Go value of type map[string]interface {}');
  return mergeMap(target, patch);
}
