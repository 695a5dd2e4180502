/**
 * The status patch the kubelet sends (upstream statusutil.PatchPodStatus: a two-way strategic merge patch from the
 * status the API has to the one the kubelet computed), reduced to the fields the kubelet owns. Pure.
 *
 * - Only changed fields are sent; a field the kubelet no longer sets is sent as `null` (deleted), so a container
 *   going from waiting to running does not keep its old `waiting` (strategic merge merges maps).
 * - Lists with merge keys are diffed element by element: conditions by `type` (kubelet-owned types only: conditions
 *   written by others, e.g. readiness gates, are never sent, so never overwritten) and pod/host IPs by `ip`;
 *   vanished elements get `$patch: delete`, and `$setElementOrder/<list>` keeps the order.
 * - Container status lists have no patch strategy upstream (`+listType=atomic`: the API server replaces them whole),
 *   so a change sends the whole new list, as upstream's two-way merge patch does.
 * - A terminal phase in the API is never regressed: phase, reason and message are then left alone.
 * - undefined when there is nothing to send.
 */
import type { V1PodStatus } from '@kubernetes/client-node';
import { isKubeletCondition } from './conditions.js';
import { isSharedCondition } from './disruption.js';
import { isTerminalPhase } from './phase.js';
import { canonicalJSON } from './time.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

/** Top-level status fields the kubelet owns (absent in its status ⇒ deleted in the API). */
export const KUBELET_STATUS_FIELDS: readonly string[] = [
  'phase', 'reason', 'message', 'conditions', 'hostIP', 'hostIPs', 'podIP', 'podIPs', 'startTime', 'qosClass',
  'initContainerStatuses', 'containerStatuses', 'ephemeralContainerStatuses',
];

/** Merge key of each list with patchStrategy merge upstream; other lists are replaced whole. */
const MERGE_KEYS: Record<string, string> = {
  conditions: 'type',
  podIPs: 'ip',
  hostIPs: 'ip',
};

/** Lists upstream replaces whole (no patch strategy). */
const ATOMIC_LISTS: ReadonlySet<string> = new Set(['containerStatuses', 'initContainerStatuses', 'ephemeralContainerStatuses']);

const isObject = (v: Json | undefined): v is JsonObject => v !== null && typeof v === 'object' && !Array.isArray(v);
const same = (a: Json | undefined, b: Json | undefined): boolean => JSON.stringify(a) === JSON.stringify(b);

/** Canonical plain JSON (sorted keys, RFC 3339 whole-second times, no undefined/null). */
function plain(v: unknown): JsonObject {
  const out = JSON.parse(canonicalJSON(v ?? {})) as Json;
  return isObject(out) ? out : {};
}

/** Two-way diff of two maps: changed/added keys, removed keys as null. Undefined when equal. */
function diffMap(from: JsonObject, to: JsonObject): JsonObject | undefined {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(to)) {
    const d = diffValue(from[k], v);
    if (d !== undefined) out[k] = d;
  }
  for (const k of Object.keys(from)) if (!(k in to)) out[k] = null;
  return Object.keys(out).length === 0 ? undefined : out;
}

/** A changed value: maps are diffed recursively; anything else (nested lists included) is replaced whole. */
function diffValue(from: Json | undefined, to: Json): Json | undefined {
  if (same(from, to)) return undefined;
  if (isObject(from) && isObject(to)) return diffMap(from, to);
  return to;
}

const keyOf = (e: Json, mk: string): Json | undefined => (isObject(e) ? e[mk] : undefined);

/**
 * Element-wise diff of a list with a merge key. `owned` says which elements the kubelet may touch (others are
 * neither sent nor deleted). Returns the patch list and the element order directive, or undefined when equal.
 */
function diffList(from: Json[], to: Json[], mk: string, owned: (e: Json) => boolean): { list: Json[]; order: Json[] } | undefined {
  const list: Json[] = [];
  for (const e of to) {
    if (!owned(e)) continue;
    const k = keyOf(e, mk);
    const old = from.find((o) => same(keyOf(o, mk), k));
    if (old === undefined) list.push(e);
    else if (isObject(old) && isObject(e)) {
      const d = diffMap(old, e);
      if (d !== undefined) list.push({ ...d, [mk]: k ?? null });
    } else if (!same(old, e)) list.push(e);
  }
  for (const o of from) {
    if (!owned(o)) continue;
    const k = keyOf(o, mk);
    if (!to.some((e) => same(keyOf(e, mk), k))) list.push({ [mk]: k ?? null, $patch: 'delete' });
  }
  if (list.length === 0) return undefined;
  // The whole resulting order: ours first, then elements only others write, as the API has them.
  const order = [...to.filter(owned), ...from.filter((o) => !owned(o))].map((e) => ({ [mk]: keyOf(e, mk) ?? null }));
  return { list, order };
}

/**
 * The strategic merge patch body for `status` (without the outer `{ status: … }`) that turns `api` into `ours` for
 * the kubelet-owned fields; undefined when nothing differs. `api` undefined = the API object has no status yet.
 */
export function statusPatch(api: V1PodStatus | undefined, ours: V1PodStatus): Record<string, unknown> | undefined {
  const from = plain(api);
  const to = plain(ours);
  if (isTerminalPhase(from.phase as string | undefined) && !isTerminalPhase(to.phase as string | undefined)) {
    for (const k of ['phase', 'reason', 'message']) {
      if (from[k] === undefined) delete to[k];
      else to[k] = from[k];
    }
  }
  const out: JsonObject = {};
  for (const field of KUBELET_STATUS_FIELDS) {
    const a = from[field];
    const b = to[field];
    const mk = MERGE_KEYS[field];
    if (ATOMIC_LISTS.has(field) && Array.isArray(b)) {
      if (!same(a, b)) out[field] = b;
      continue;
    }
    if (b === undefined) {
      if (a === undefined) continue;
      if (field === 'conditions' && Array.isArray(a)) {
        const del = diffList(a, [], 'type', (e) => isKubeletCondition(String(keyOf(e, 'type'))));
        if (del !== undefined) out[field] = del.list;
      } else out[field] = null;
      continue;
    }
    if (mk !== undefined && Array.isArray(b)) {
      // Shared conditions (DisruptionTarget) go out only with the transition to a terminal phase, as upstream.
      const toTerminal = !isTerminalPhase(from.phase as string | undefined) && isTerminalPhase(to.phase as string | undefined);
      const ownedType = (t: string): boolean => isKubeletCondition(t) || (toTerminal && isSharedCondition(t) && b.some((e) => keyOf(e, mk) === t));
      const owned = field === 'conditions' ? (e: Json) => ownedType(String(keyOf(e, mk))) : () => true;
      const d = diffList(Array.isArray(a) ? a : [], b, mk, owned);
      if (d !== undefined) {
        out[`$setElementOrder/${field}`] = d.order;
        out[field] = d.list;
      }
      continue;
    }
    const d = diffValue(a, b);
    if (d !== undefined) out[field] = d;
  }
  return Object.keys(out).length === 0 ? undefined : out;
}

function mergeMap(base: JsonObject, patch: JsonObject, top: boolean): JsonObject {
  const out: JsonObject = { ...base };
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith('$')) continue;
    if (v === null) delete out[k];
    else if (top && ATOMIC_LISTS.has(k) && Array.isArray(v)) out[k] = v.map((e) => (isObject(e) ? mergeMap({}, e, false) : e));
    else if (top && MERGE_KEYS[k] !== undefined && Array.isArray(v)) {
      const order = patch[`$setElementOrder/${k}`];
      out[k] = mergeList(Array.isArray(out[k]) ? out[k] : [], v, MERGE_KEYS[k], Array.isArray(order) ? order : undefined);
    } else if (isObject(v)) out[k] = mergeMap(isObject(out[k]) ? out[k] : {}, v, false);
    else out[k] = v;
  }
  return out;
}

function mergeList(base: Json[], patch: Json[], mk: string, order: Json[] | undefined): Json[] {
  const out = [...base];
  for (const p of patch) {
    if (!isObject(p)) continue;
    const i = out.findIndex((o) => same(keyOf(o, mk), p[mk]));
    if (p.$patch === 'delete') {
      if (i >= 0) out.splice(i, 1);
    } else if (i >= 0) out[i] = mergeMap(out[i] as JsonObject, p, false);
    else out.push(mergeMap({}, p, false));
  }
  if (order === undefined) return out;
  const rank = (e: Json): number => {
    const r = order.findIndex((o) => same(keyOf(o, mk), keyOf(e, mk)));
    return r < 0 ? order.length : r;
  };
  return out.map((e, i) => ({ e, i })).sort((a, b) => rank(a.e) - rank(b.e) || a.i - b.i).map((x) => x.e);
}

/**
 * Applies a patch made by {@link statusPatch} to a status, as the API server's strategic merge does for these
 * fields (null deletes, keyed lists merged element by element, `$patch: delete`, `$setElementOrder`, container
 * status lists replaced whole). For fakes and tests; times come back as RFC 3339 strings, as from the API.
 */
export function applyStatusPatch(status: V1PodStatus | undefined, patch: Record<string, unknown>): V1PodStatus {
  return mergeMap(plain(status), JSON.parse(JSON.stringify(patch)) as JsonObject, true) as V1PodStatus;
}
