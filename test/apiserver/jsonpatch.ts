import { badRequest, ApiError } from './status.js';
import { clone, isObject, jsonEqual, type Json, type JsonObject } from './json.js';

/** RFC 6901 pointer → tokens. */
function tokens(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw badRequest(`invalid JSON pointer: ${path}`);
  return path.slice(1).split('/').map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function parentOf(doc: Json, toks: string[], path: string): { parent: Json; key: string } {
  let cur: Json = doc;
  for (const t of toks.slice(0, -1)) {
    const next: Json | undefined = Array.isArray(cur) ? cur[Number(t)] : isObject(cur) ? cur[t] : undefined;
    if (next === undefined) throw new ApiError(422, 'Invalid', `doc is missing path: "${path}": missing value`);
    cur = next;
  }
  return { parent: cur, key: toks[toks.length - 1] ?? '' };
}

function getAt(doc: Json, path: string): Json {
  let cur: Json | undefined = doc;
  for (const t of tokens(path)) {
    cur = Array.isArray(cur) ? cur[Number(t)] : isObject(cur) ? cur[t] : undefined;
    if (cur === undefined) throw new ApiError(422, 'Invalid', `doc is missing path: "${path}": missing value`);
  }
  return cur;
}

function removeAt(doc: Json, path: string): Json {
  const { parent, key } = parentOf(doc, tokens(path), path);
  if (Array.isArray(parent)) {
    const i = Number(key);
    if (!(i >= 0 && i < parent.length)) throw new ApiError(422, 'Invalid', `Unable to remove nonexistent key: ${key}: missing value`);
    return parent.splice(i, 1)[0]!;
  }
  if (isObject(parent) && key in parent) {
    const v = parent[key]!;
    delete parent[key];
    return v;
  }
  throw new ApiError(422, 'Invalid', `Unable to remove nonexistent key: ${key}: missing value`);
}

function addAt(doc: Json, path: string, value: Json, replace: boolean): Json {
  const toks = tokens(path);
  if (toks.length === 0) return value;
  const { parent, key } = parentOf(doc, toks, path);
  if (Array.isArray(parent)) {
    const i = key === '-' ? parent.length : Number(key);
    if (!(i >= 0 && i <= parent.length)) throw new ApiError(422, 'Invalid', `add operation does not apply: doc is missing path: "${path}": missing value`);
    if (replace) parent[i] = value;
    else parent.splice(i, 0, value);
  } else if (isObject(parent)) {
    if (replace && !(key in parent)) throw new ApiError(422, 'Invalid', `replace operation does not apply: doc is missing key: ${path}: missing value`);
    parent[key] = value;
  } else throw new ApiError(422, 'Invalid', `doc is missing path: "${path}": missing value`);
  return doc;
}

/** Applies an RFC 6902 JSON Patch (body must be an array, as the server demands: 20-…). */
export function applyJsonPatch(target: JsonObject, patch: unknown): JsonObject {
  if (!Array.isArray(patch)) throw badRequest('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  let doc: Json = clone(target);
  for (const op of patch) {
    if (!isObject(op) || typeof op.op !== 'string' || typeof op.path !== 'string') {
      throw badRequest('json: cannot unmarshal object into Go value of type jsonpatch.Operation');
    }
    const path = op.path;
    const value = op.value === undefined ? null : clone(op.value);
    switch (op.op) {
      case 'add':
        doc = addAt(doc, path, value, false);
        break;
      case 'replace':
        doc = addAt(doc, path, value, true);
        break;
      case 'remove':
        removeAt(doc, path);
        break;
      case 'move':
      case 'copy': {
        if (typeof op.from !== 'string') throw badRequest(`${op.op} operation missing from`);
        const v = op.op === 'move' ? removeAt(doc, op.from) : clone(getAt(doc, op.from));
        doc = addAt(doc, path, v, false);
        break;
      }
      case 'test':
        if (!jsonEqual(getAt(doc, path), value)) throw new ApiError(422, 'Invalid', `testing value ${path} failed: test failed`);
        break;
      default:
        throw badRequest(`Unexpected kind: ${op.op}`);
    }
  }
  if (!isObject(doc)) throw badRequest('json patch result is not an object');
  return doc;
}

/** RFC 7386 JSON Merge Patch: maps merge recursively, null deletes, lists and scalars replace. */
export function applyMergePatch(target: Json | undefined, patch: Json): Json {
  if (!isObject(patch)) return clone(patch);
  const out: JsonObject = isObject(target) ? clone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = applyMergePatch(out[k], v);
  }
  return out;
}
