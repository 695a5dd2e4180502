import { findResource, type ResourceDef } from './resources.js';

/** A request path resolved to a resource. */
export interface Target {
  def: ResourceDef;
  namespace?: string;
  name?: string;
  subresource?: string;
}

/** Path kinds the server knows. */
export type Route =
  | { kind: 'resource'; target: Target }
  | { kind: 'discovery'; group?: string; version?: string; legacy: boolean }
  | { kind: 'unknownResource' }
  | { kind: 'other' };

/** Resolves `/api/v1/...` and `/apis/<group>/<version>/...` paths. */
export function route(path: string): Route {
  let segs: string[];
  try {
    segs = path.split('/').filter((s) => s !== '').map(decodeURIComponent);
  } catch {
    return { kind: 'unknownResource' }; // malformed percent-encoding
  }
  let group: string;
  let version: string | undefined;
  let rest: string[];
  if (segs[0] === 'api') {
    group = '';
    version = segs[1];
    rest = segs.slice(2);
    if (version === undefined) return { kind: 'discovery', legacy: true };
  } else if (segs[0] === 'apis') {
    group = segs[1] ?? '';
    version = segs[2];
    rest = segs.slice(3);
    if (!group) return { kind: 'discovery', legacy: false };
    if (version === undefined) return { kind: 'discovery', group, legacy: false };
  } else return { kind: 'other' };
  if (rest.length === 0) return { kind: 'discovery', group, version, legacy: group === '' };
  let namespace: string | undefined;
  let parts = rest;
  if (rest[0] === 'namespaces' && rest.length >= 3 && !(group === '' && rest.length === 3 && (rest[2] === 'status' || rest[2] === 'finalize'))) {
    namespace = rest[1];
    parts = rest.slice(2);
  }
  const def = findResource(group, version, parts[0]!);
  if (def === undefined || (namespace !== undefined && !def.namespaced)) return { kind: 'unknownResource' };
  const target: Target = { def, namespace, name: parts[1], subresource: parts[2] };
  if (parts.length > 3) return { kind: 'unknownResource' };
  if (target.subresource !== undefined && !def.subresources.includes(target.subresource)) return { kind: 'unknownResource' };
  return { kind: 'resource', target };
}
