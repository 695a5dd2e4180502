import { randomUUID } from 'node:crypto';
import { applyResize } from './admission/resize.js';
import { admissionFor, type AdmissionContext } from './admission/index.js';
import { clone, isObject, jsonEqual, meta, str, type JsonObject } from './json.js';
import { checkDns1035, checkLabel, checkSubdomain, randomSuffix } from './names.js';
import { apiVersionOf, storageKey, type ResourceDef } from './resources.js';
import { alreadyExists, ApiError, badRequest, conflict, invalid, notFound, required, type StatusCause } from './status.js';
import type { Store } from './store.js';

/** Options of an update. */
export interface UpdateOpts {
  /** `status` for the status subresource. */
  sub?: string;
  dryRun?: boolean;
  /** A server-internal write (binding, controllers): skips update-only validation such as pod spec immutability. */
  internal?: boolean;
}

/** Options of a delete (DeleteOptions body merged with query parameters). */
export interface DeleteOpts {
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
}

const rfc3339 = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Object id in the store: `ns/name` or `name`. */
export const objectId = (ns: string | undefined, name: string): string => (ns ? `${ns}/${name}` : name);

/** Resources whose DELETE answers with the object rather than a Status (upstream ReturnDeletedObject). */
const RETURNS_OBJECT = new Set(['pods', 'services', 'nodes', 'namespaces']);

/**
 * The object lifecycle of the test API server, independent of HTTP: create (defaults, admission, validation),
 * update/patch with optimistic concurrency and status/main-resource separation, graceful delete. Controllers
 * inside the server use it too, so their writes behave like any client's.
 */
export class Registry {
  readonly store: Store;
  readonly ctx: AdmissionContext;

  constructor(store: Store, ctx: AdmissionContext) {
    this.store = store;
    this.ctx = ctx;
  }

  #withType(def: ResourceDef, o: JsonObject): JsonObject {
    const { kind: _k, apiVersion: _a, ...rest } = o;
    return { kind: def.kind, apiVersion: apiVersionOf(def), ...rest };
  }

  #nameCauses(def: ResourceDef, name: string): StatusCause[] {
    if (def.plural === 'namespaces') return checkLabel('metadata.name', name);
    if (def.plural === 'services') return checkDns1035('metadata.name', name);
    if (def.plural === 'events') return [];
    // CSR names are path segments upstream (TLS bootstrap's node-csr-<base64url> has upper case and '_').
    if (def.plural === 'certificatesigningrequests') {
      return name === '.' || name === '..' || /[/%]/.test(name) ? [{ reason: 'FieldValueInvalid', field: 'metadata.name', message: `Invalid value: "${name}": may not contain '/' or '%'` }] : [];
    }
    return checkSubdomain('metadata.name', name);
  }

  /** Reads one object; 404 when missing. */
  get(def: ResourceDef, ns: string | undefined, name: string): JsonObject {
    const o = this.store.get(storageKey(def), objectId(def.namespaced ? ns : undefined, name));
    if (o === undefined) throw notFound(def.plural, name, def.group);
    return this.#withType(def, o);
  }

  /** Lists objects (namespace filter only; selectors are applied by the caller). */
  list(def: ResourceDef, ns: string | undefined): JsonObject[] {
    return this.store.list(storageKey(def), def.namespaced ? ns : undefined).map((o) => this.#withType(def, o));
  }

  #checkNamespace(def: ResourceDef, ns: string | undefined, name: string): void {
    if (!def.namespaced) return;
    if (!ns) throw badRequest('the server could not find the requested resource');
    const nsObj = this.store.get('namespaces', ns);
    if (nsObj === undefined) throw notFound('namespaces', ns);
    if (meta(nsObj).deletionTimestamp) {
      throw new ApiError(403, 'Forbidden', `${def.plural} "${name}" is forbidden: unable to create new content in namespace ${ns} because it is being terminated`, {
        name,
        kind: def.plural,
        causes: [{ reason: 'NamespaceTerminating', message: `namespace ${ns} is being terminated`, field: 'metadata.namespace' }],
      });
    }
  }

  /** Creates an object; `ns` is the namespace from the URL. */
  create(def: ResourceDef, ns: string | undefined, body: JsonObject, opts: { dryRun?: boolean } = {}): JsonObject {
    const o = clone(body);
    const m = meta(o);
    if (def.namespaced) {
      if (m.namespace !== undefined && m.namespace !== '' && m.namespace !== ns) {
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      m.namespace = ns ?? '';
    } else delete m.namespace;
    if (!str(m, 'name') && str(m, 'generateName')) m.name = `${m.generateName}${randomSuffix()}`;
    const name = str(m, 'name') ?? '';
    this.#checkNamespace(def, ns, name);
    for (const k of ['resourceVersion', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'managedFields', 'selfLink']) delete m[k];
    m.uid = randomUUID();
    m.creationTimestamp = rfc3339(this.ctx.now());
    if (def.generation) m.generation = 1;
    else delete m.generation;
    const adm = admissionFor(def);
    const key = storageKey(def);
    const id = objectId(def.namespaced ? ns : undefined, name);
    adm.create?.(o, this.ctx);
    const causes: StatusCause[] = name ? this.#nameCauses(def, name) : [{ ...required('metadata.name'), message: 'Required value: name or generateName is required' }];
    causes.push(...(adm.validate?.(o) ?? []));
    if (causes.length > 0 || this.store.get(key, id) !== undefined) {
      adm.deleted?.(o, this.ctx);
      if (causes.length > 0) throw invalid(def.kind, name, causes, def.group);
      throw alreadyExists(def.plural, name, def.group);
    }
    const ordered = this.#withType(def, o);
    if (opts.dryRun) {
      adm.deleted?.(o, this.ctx);
      return ordered;
    }
    return this.#withType(def, this.store.put(key, id, ordered));
  }

  /**
   * Replaces an object (PUT, or the result of a PATCH). `sub` is `status` for the status subresource: then only
   * status and metadata change; on the main resource status changes are ignored (18-…).
   */
  update(def: ResourceDef, ns: string | undefined, name: string, body: JsonObject, opts: UpdateOpts = {}): JsonObject {
    const { sub, dryRun = false } = opts;
    if (def.createOnUpdate && sub === undefined && this.store.get(storageKey(def), objectId(def.namespaced ? ns : undefined, name)) === undefined) {
      const m = isObject(body.metadata) ? body.metadata : {};
      if (m.name !== undefined && m.name !== name) {
        throw badRequest(`the name of the object (${String(m.name)}) does not match the name on the URL (${name})`);
      }
      return this.create(def, ns, { ...body, metadata: { ...m, name } }, { dryRun });
    }
    const old = this.get(def, ns, name);
    const next = clone(body);
    const m = meta(next);
    const om = meta(old);
    if (m.name !== undefined && m.name !== name) {
      throw badRequest(`the name of the object (${String(m.name)}) does not match the name on the URL (${name})`);
    }
    if (def.namespaced && m.namespace !== undefined && m.namespace !== '' && m.namespace !== ns) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    const rv = str(m, 'resourceVersion');
    if (rv !== undefined && rv !== '' && rv !== om.resourceVersion) throw conflict(def.plural, name, def.group);
    if (m.uid !== undefined && m.uid !== '' && m.uid !== om.uid) {
      throw conflict(def.plural, name, def.group, `Precondition failed: UID in precondition: ${String(m.uid)}, UID in object meta: ${String(om.uid)}`);
    }
    for (const k of ['name', 'namespace', 'uid', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation', 'generateName']) {
      if (om[k] === undefined) delete m[k];
      else m[k] = om[k];
    }
    delete m.managedFields;
    if (def.statusField !== undefined) {
      if (sub === 'status' || sub === 'approval') {
        for (const k of Object.keys(next)) if (k !== 'metadata' && k !== 'status' && k !== 'kind' && k !== 'apiVersion') delete next[k];
        for (const k of Object.keys(old)) if (k !== 'metadata' && k !== 'status') next[k] = clone(old[k]!);
        if (def.plural === 'pods') m.ownerReferences = clone(om.ownerReferences ?? null);
        if (m.ownerReferences === null) delete m.ownerReferences;
      } else if (old.status !== undefined) next.status = clone(old.status);
      else delete next.status;
      if (sub === 'resize' && def.plural === 'pods') {
        // pods/resize changes container resources only (test/apiserver/admission/resize.ts).
        const resizeCauses = applyResize(old, next);
        if (resizeCauses.length > 0) throw invalid(def.kind, name, resizeCauses, def.group);
        const rv = m.resourceVersion;
        for (const k of Object.keys(m)) delete m[k];
        Object.assign(m, clone(om), { resourceVersion: rv });
      }
      if (sub === 'ephemeralcontainers') {
        // pods/ephemeralcontainers changes spec.ephemeralContainers only (kubectl debug).
        const eph = (next.spec as JsonObject | undefined)?.ephemeralContainers;
        next.spec = clone(old.spec!);
        if (eph !== undefined) (next.spec as JsonObject).ephemeralContainers = clone(eph);
      }
    }
    const adm = admissionFor(def);
    adm.update?.(old, next, this.ctx);
    const causes = [...(adm.validate?.(next) ?? []), ...(sub === 'status' || sub === 'ephemeralcontainers' || sub === 'resize' || opts.internal ? [] : (adm.validateUpdate?.(old, next) ?? []))];
    if (causes.length > 0) throw invalid(def.kind, name, causes, def.group);
    if (def.generation && typeof om.generation === 'number' && !jsonEqual(specOf(old), specOf(next))) m.generation = om.generation + 1;
    m.resourceVersion = om.resourceVersion ?? '';
    const typed = this.#withType(def, next);
    if (jsonEqual(typed, old) || dryRun) return jsonEqual(typed, old) ? old : typed;
    const stored = this.#withType(def, this.store.put(storageKey(def), objectId(def.namespaced ? ns : undefined, name), typed));
    return this.#finishIfDone(def, ns, stored) ?? stored;
  }

  /** Removes an object that carries a deletionTimestamp and no finalizers (and, for pods, grace 0). */
  #finishIfDone(def: ResourceDef, ns: string | undefined, o: JsonObject): JsonObject | undefined {
    const m = meta(o);
    if (!m.deletionTimestamp) return undefined;
    if (Array.isArray(m.finalizers) && m.finalizers.length > 0) return undefined;
    if (def.plural === 'pods' && m.deletionGracePeriodSeconds !== 0) return undefined;
    const gone = this.store.remove(storageKey(def), objectId(def.namespaced ? ns : undefined, String(m.name)));
    if (gone !== undefined) admissionFor(def).deleted?.(gone, this.ctx);
    return gone === undefined ? undefined : this.#withType(def, gone);
  }

  /**
   * Deletes an object. Pods bound to a node are deleted gracefully (deletionTimestamp + deletionGracePeriodSeconds,
   * kept until a delete with grace 0); unbound or terminal pods go at once. Returns the HTTP status and body.
   */
  delete(def: ResourceDef, ns: string | undefined, name: string, opts: DeleteOpts): { code: number; body: JsonObject } {
    const cur = this.get(def, ns, name);
    const m = meta(cur);
    const pre = opts.preconditions;
    if (pre?.uid !== undefined && pre.uid !== m.uid) {
      throw new ApiError(
        409,
        'Conflict',
        `Operation cannot be fulfilled on ${def.kind} "${name}": the UID in the precondition (${pre.uid}) does not match the UID in record (${String(m.uid)}). The object might have been deleted and then recreated`,
        { name, kind: def.kind },
      );
    }
    if (pre?.resourceVersion !== undefined && pre.resourceVersion !== m.resourceVersion) {
      throw new ApiError(
        409,
        'Conflict',
        `Operation cannot be fulfilled on ${def.kind} "${name}": the ResourceVersion in the precondition (${pre.resourceVersion}) does not match the ResourceVersion in record (${String(m.resourceVersion)}). The object might have been modified`,
        { name, kind: def.kind },
      );
    }
    if (def.plural === 'namespaces') return { code: 200, body: this.#terminateNamespace(def, cur) };
    const grace = this.#grace(def, cur, opts.gracePeriodSeconds);
    const hasFinalizers = Array.isArray(m.finalizers) && m.finalizers.length > 0;
    const key = storageKey(def);
    const id = objectId(def.namespaced ? ns : undefined, name);
    if (grace > 0 || hasFinalizers) {
      const curGrace = typeof m.deletionGracePeriodSeconds === 'number' ? m.deletionGracePeriodSeconds : undefined;
      if (m.deletionTimestamp && curGrace !== undefined && grace >= curGrace && !(grace === 0 && !hasFinalizers)) {
        return { code: 200, body: cur };
      }
      const now = this.ctx.now();
      m.deletionTimestamp = rfc3339(new Date(now.getTime() + grace * 1000));
      m.deletionGracePeriodSeconds = grace;
      const stored = this.#withType(def, this.store.put(key, id, cur));
      const done = this.#finishIfDone(def, ns, stored);
      return { code: 200, body: done ?? stored };
    }
    if (def.plural === 'pods') {
      m.deletionTimestamp = m.deletionTimestamp ?? rfc3339(this.ctx.now());
      m.deletionGracePeriodSeconds = 0;
      this.store.put(key, id, cur);
    }
    const gone = this.store.remove(key, id)!;
    admissionFor(def).deleted?.(gone, this.ctx);
    if (RETURNS_OBJECT.has(def.plural)) return { code: 200, body: this.#withType(def, gone) };
    const d: JsonObject = { name, kind: def.plural, uid: String(m.uid) };
    if (def.group) d.group = def.group;
    return { code: 200, body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: d } };
  }

  /** Namespaces are finalized by the namespace controller: mark Terminating, it empties and removes them. */
  #terminateNamespace(def: ResourceDef, ns: JsonObject): JsonObject {
    const m = meta(ns);
    if (m.deletionTimestamp) return ns;
    m.deletionTimestamp = rfc3339(this.ctx.now());
    m.deletionGracePeriodSeconds = 0;
    ns.status = { ...(isObject(ns.status) ? ns.status : {}), phase: 'Terminating' };
    return this.#withType(def, this.store.put('namespaces', String(m.name), ns));
  }

  #grace(def: ResourceDef, o: JsonObject, requested: number | undefined): number {
    if (def.plural !== 'pods') return 0;
    const spec = isObject(o.spec) ? o.spec : {};
    const status = isObject(o.status) ? o.status : {};
    if (!str(spec, 'nodeName')) return 0;
    if (status.phase === 'Succeeded' || status.phase === 'Failed') return 0;
    if (requested !== undefined) return Math.max(0, requested);
    const t = spec.terminationGracePeriodSeconds;
    return typeof t === 'number' ? Math.max(0, t) : 30;
  }
}

function specOf(o: JsonObject): unknown {
  const { metadata: _m, status: _s, ...rest } = o;
  return rest;
}
