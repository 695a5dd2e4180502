import { parse as parseYaml } from 'yaml';
import { sendJson, parseJson, parseObject, type Request } from '../http.js';
import { isObject, meta, type JsonObject } from '../json.js';
import { applyJsonPatch, applyMergePatch } from '../jsonpatch.js';
import { applyStrategicMergePatch } from '../smp.js';
import { matchFields, matchLabels, parseFieldSelector, parseLabelSelector } from '../selectors.js';
import type { Registry, DeleteOpts } from '../registry.js';
import { apiVersionOf, storageKey, type ResourceDef } from '../resources.js';
import type { Target } from '../router.js';
import { ApiError, badRequest, methodNotAllowed, unsupportedMediaType } from '../status.js';
import { toTable } from '../table.js';
import { checkStrict } from '../strict.js';
import { serveWatch, type WatchRegistry } from './watch.js';
import type { Faults } from '../faults.js';
import { checkPatchFields, dropUnknownFields } from '../versions.js';
import { admitNodeRestriction, type AdmissionRequest } from '../authz/index.js';

/** What the resource handlers need from the server. */
export interface ResourceEnv {
  registry: Registry;
  watches: WatchRegistry;
  faults: Faults;
  bookmarkIntervalMs: number;
  now(): number;
  /** Minor version of an older server being emulated (option `version`): fields newer than it are unknown. */
  serverMinor?: number;
}

const wantsTable = (r: Request): boolean => /as=Table/.test(String(r.headers.accept ?? ''));

function selectorFilter(def: ResourceDef, q: URLSearchParams): (o: JsonObject) => boolean {
  const ls = q.get('labelSelector');
  const fs = q.get('fieldSelector');
  const lreqs = ls ? parseLabelSelector(ls) : [];
  const freqs = fs ? parseFieldSelector(fs, ['metadata.name', ...(def.namespaced ? ['metadata.namespace'] : []), ...def.fieldLabels]) : [];
  return (o) => matchLabels(lreqs, isObject(meta(o).labels) ? (meta(o).labels as JsonObject) : undefined) && matchFields(freqs, o);
}

function tableRow(def: ResourceDef, r: Request, o: JsonObject, env: ResourceEnv, first: boolean): JsonObject {
  const t = toTable(storageKey(def), [o], String(meta(o).resourceVersion ?? ''), env.now());
  const inc = r.query.get('includeObject') ?? 'Metadata';
  const rows = t.rows as JsonObject[];
  if (inc === 'Object') rows[0]!.object = o;
  if (inc === 'None') delete rows[0]!.object;
  if (!first) t.columnDefinitions = [];
  return t;
}

function list(r: Request, t: Target, env: ResourceEnv): void {
  const { def } = t;
  const match = selectorFilter(def, r.query);
  const rv = String(env.registry.store.currentRv());
  let items = env.registry.list(def, t.namespace).filter(match);
  const limit = Number(r.query.get('limit') ?? '0');
  const cont = r.query.get('continue');
  const listMeta: JsonObject = { resourceVersion: rv };
  if (cont) {
    let after: string;
    try {
      after = String((JSON.parse(Buffer.from(cont, 'base64url').toString('utf8')) as { start: string }).start);
    } catch {
      throw badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
    }
    items = items.filter((o) => idOf(o) > after);
  }
  if (limit > 0 && items.length > limit) {
    const page = items.slice(0, limit);
    listMeta.continue = Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: Number(rv), start: idOf(page[page.length - 1]!) })).toString('base64url');
    listMeta.remainingItemCount = items.length - limit;
    items = page;
  }
  if (wantsTable(r)) {
    const table = toTable(storageKey(def), items, rv, env.now(), listMeta.continue ? { continue: listMeta.continue } : {});
    if ((r.query.get('includeObject') ?? 'Metadata') === 'Object') (table.rows as JsonObject[]).forEach((row, i) => (row.object = items[i]!));
    sendJson(r.res, 200, table);
    return;
  }
  const stripped = items.map(({ kind: _k, apiVersion: _a, ...rest }) => rest);
  sendJson(r.res, 200, { kind: `${def.kind}List`, apiVersion: apiVersionOf(def), metadata: listMeta, items: stripped });
}

const idOf = (o: JsonObject): string => {
  const m = meta(o);
  return m.namespace ? `${String(m.namespace)}/${String(m.name)}` : String(m.name);
};

function watch(r: Request, t: Target, env: ResourceEnv): void {
  const { def } = t;
  const base = selectorFilter(def, r.query);
  const match = (o: JsonObject): boolean => (t.namespace === undefined || meta(o).namespace === t.namespace) && base(o);
  const table = wantsTable(r);
  serveWatch(r.res, env.registry.store, env.watches, {
    def,
    initial: () => env.registry.list(def, t.namespace).filter(match),
    matches: match,
    render: (o, first) => (table ? tableRow(def, r, o, env, first) : o),
    resourceVersion: r.query.get('resourceVersion'),
    allowBookmarks: r.query.get('allowWatchBookmarks') === 'true' && !table,
    timeoutSeconds: Number(r.query.get('timeoutSeconds') ?? '1800') || 1800,
    bookmarkIntervalMs: env.bookmarkIntervalMs,
    forceGone: env.faults.takeGone(),
  });
}

function patchDoc(r: Request, current: JsonObject): JsonObject {
  const ct = String(r.headers['content-type'] ?? '').split(';')[0]!.trim();
  switch (ct) {
    case 'application/json-patch+json':
      return applyJsonPatch(current, parseJson(r.body));
    case 'application/merge-patch+json': {
      const p = parseJson(r.body);
      if (!isObject(p)) throw badRequest('json: cannot unmarshal array into Go value of type map[string]interface {}');
      return applyMergePatch(current, p) as JsonObject;
    }
    case 'application/strategic-merge-patch+json':
      return applyStrategicMergePatch(current, parseJson(r.body));
    default:
      throw unsupportedMediaType(ct || '<none>');
  }
}

/** Server-side apply, simplified: the applied configuration is merged into the live object like a merge patch. */
function applyPatch(r: Request, t: Target, env: ResourceEnv): JsonObject {
  if (!r.query.get('fieldManager')) throw badRequest('PATCH, application/apply-patch+yaml requires fieldManager to be set');
  let doc: unknown;
  try {
    doc = parseYaml(r.body.toString('utf8'));
  } catch (e) {
    throw badRequest(`error decoding YAML: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!isObject(doc)) throw badRequest('apply patch must be an object');
  const name = t.name!;
  let current: JsonObject;
  try {
    current = env.registry.get(t.def, t.namespace, name);
  } catch (e) {
    if (e instanceof ApiError && e.code === 404) {
      const created = { ...doc, metadata: { ...(isObject(doc.metadata) ? doc.metadata : {}), name } };
      admit(r, t, env, 'create', name, created);
      return env.registry.create(t.def, t.namespace, created);
    }
    throw e;
  }
  const { resourceVersion: _rv, ...m } = isObject(doc.metadata) ? doc.metadata : {};
  const merged = applyMergePatch(current, { ...doc, metadata: m }) as JsonObject;
  admit(r, t, env, 'update', name, merged);
  return env.registry.update(t.def, t.namespace, name, merged, { sub: t.subresource });
}

/** NodeRestriction for a write of `r.user` (no-op for users that are not nodes). */
function admit(r: Request, t: Target, env: ResourceEnv, operation: AdmissionRequest['operation'], name: string, object?: JsonObject): void {
  if (r.user === undefined) return;
  const old = operation === 'create' ? undefined : env.registry.store.get(storageKey(t.def), t.def.namespaced ? `${t.namespace}/${name}` : name);
  admitNodeRestriction(env.registry.store, { user: r.user, operation, def: t.def, namespace: t.namespace, name, subresource: t.subresource, object, serverMinor: env.serverMinor }, old);
}

function deleteOpts(r: Request): DeleteOpts {
  const opts: DeleteOpts = {};
  if (r.body.length > 0) {
    const b = parseJson(r.body);
    if (isObject(b)) {
      if (typeof b.gracePeriodSeconds === 'number') opts.gracePeriodSeconds = b.gracePeriodSeconds;
      if (isObject(b.preconditions)) {
        const p = b.preconditions;
        opts.preconditions = {
          uid: typeof p.uid === 'string' ? p.uid : undefined,
          resourceVersion: typeof p.resourceVersion === 'string' ? p.resourceVersion : undefined,
        };
      }
    }
  }
  const g = r.query.get('gracePeriodSeconds');
  if (g !== null && g !== '') opts.gracePeriodSeconds = Number(g);
  return opts;
}

function strictIfAsked(r: Request, def: ResourceDef, body: JsonObject): void {
  if ((r.query.get('fieldValidation') ?? '') === 'Strict') checkStrict(def, body);
}

/** Serves CRUD, list and watch for a resource path. */
export function serveResource(r: Request, t: Target, env: ResourceEnv): void {
  const { def } = t;
  const dryRun = r.query.get('dryRun') === 'All';
  const reg = env.registry;
  const collection = t.name === undefined;
  if (def.virtual) throw methodNotAllowed();
  if (collection) {
    if (r.method === 'GET') return r.query.get('watch') === 'true' || r.query.get('watch') === '1' ? watch(r, t, env) : list(r, t, env);
    if (r.method === 'POST') {
      const body = dropUnknownFields(def.kind, parseObject(r.body, def.kind), env.serverMinor);
      strictIfAsked(r, def, body);
      admit(r, t, env, 'create', String(meta(body).name ?? ''), body);
      return sendJson(r.res, 201, reg.create(def, t.namespace, body, { dryRun }));
    }
    if (r.method === 'DELETE') {
      const match = selectorFilter(def, r.query);
      const items = reg.list(def, t.namespace).filter(match);
      const opts = deleteOpts(r);
      for (const o of items) reg.delete(def, String(meta(o).namespace ?? '') || undefined, String(meta(o).name), opts);
      return sendJson(r.res, 200, { kind: `${def.kind}List`, apiVersion: apiVersionOf(def), metadata: { resourceVersion: String(reg.store.currentRv()) }, items });
    }
    throw methodNotAllowed();
  }
  const name = t.name!;
  const ephemeral = (t.subresource === 'ephemeralcontainers' || t.subresource === 'resize') && def.plural === 'pods';
  if (t.subresource !== undefined && t.subresource !== 'status' && t.subresource !== 'approval' && !ephemeral) throw methodNotAllowed();
  switch (r.method) {
    case 'GET': {
      const o = reg.get(def, t.namespace, name);
      return sendJson(r.res, 200, wantsTable(r) ? toTable(storageKey(def), [o], String(meta(o).resourceVersion), env.now()) : o);
    }
    case 'PUT': {
      const body = dropUnknownFields(def.kind, parseObject(r.body, def.kind), env.serverMinor);
      strictIfAsked(r, def, body);
      const existed = reg.store.get(storageKey(def), def.namespaced ? `${t.namespace}/${name}` : name) !== undefined;
      admit(r, t, env, existed ? 'update' : 'create', name, body);
      const out = reg.update(def, t.namespace, name, body, { sub: t.subresource, dryRun });
      return sendJson(r.res, existed ? 200 : 201, out);
    }
    case 'PATCH': {
      const ct = String(r.headers['content-type'] ?? '').split(';')[0]!.trim();
      if (ct === 'application/apply-patch+yaml') return sendJson(r.res, 200, applyPatch(r, t, env));
      const cur = reg.get(def, t.namespace, name);
      if (ct === 'application/strategic-merge-patch+json') checkPatchFields(def.kind, parseJson(r.body), env.serverMinor);
      const patched = dropUnknownFields(def.kind, patchDoc(r, cur), env.serverMinor);
      strictIfAsked(r, def, patched);
      admit(r, t, env, 'update', name, patched);
      return sendJson(r.res, 200, reg.update(def, t.namespace, name, patched, { sub: t.subresource, dryRun }));
    }
    case 'DELETE': {
      if (t.subresource !== undefined) throw methodNotAllowed();
      admit(r, t, env, 'delete', name);
      const out = reg.delete(def, t.namespace, name, deleteOpts(r));
      return sendJson(r.res, out.code, out.body);
    }
    default:
      throw methodNotAllowed();
  }
}

/** 404 for paths that name no served resource (the apiserver's generic NotFound Status). */
export const unknownResource = (): ApiError => new ApiError(404, 'NotFound', 'the server could not find the requested resource', {});
