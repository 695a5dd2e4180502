/** JSON helpers shared by the test API server. Objects are plain JSON values; nothing here knows about HTTP. */

/** Any JSON value. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
/** A JSON object (an API object, a patch, a map field). */
export type JsonObject = { [key: string]: Json };

/** True for a plain JSON object (not null, not an array). */
export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep copy through JSON (objects here are always JSON-safe). */
export function clone<T>(v: T): T {
  return structuredClone(v);
}

/** Deep equality of JSON values (key order ignored). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k) => k in b && jsonEqual(a[k], b[k]));
  }
  return false;
}

/** The object at `obj[key]`, created empty when missing or not an object. */
export function child(obj: JsonObject, key: string): JsonObject {
  const v = obj[key];
  if (isObject(v)) return v;
  const fresh: JsonObject = {};
  obj[key] = fresh;
  return fresh;
}

/** The array at `obj[key]` filtered to objects, or [] when missing. Does not create. */
export function objects(obj: JsonObject | undefined, key: string): JsonObject[] {
  const v = obj?.[key];
  return Array.isArray(v) ? v.filter(isObject) : [];
}

/** String at `obj[key]` or undefined. */
export function str(obj: JsonObject | undefined, key: string): string | undefined {
  const v = obj?.[key];
  return typeof v === 'string' ? v : undefined;
}

/** Object at `obj[key]` or undefined (never creates). */
export function obj(o: JsonObject | undefined, key: string): JsonObject | undefined {
  const v = o?.[key];
  return isObject(v) ? v : undefined;
}

/** Value at a dotted path (`status.phase`), or undefined. */
export function getPath(o: JsonObject, path: string): Json | undefined {
  let cur: Json | undefined = o;
  for (const part of path.split('.')) {
    if (!isObject(cur)) return undefined;
    cur = cur[part];
  }
  return cur;
}

/** Sets `key` only when absent (undefined). */
export function setDefault(o: JsonObject, key: string, value: Json): void {
  if (o[key] === undefined) o[key] = value;
}

/** The metadata of an API object (created when missing). */
export function meta(o: JsonObject): JsonObject {
  return child(o, 'metadata');
}
