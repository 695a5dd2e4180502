import type { ServerResponse } from 'node:http';
import { sendJson } from '../http.js';
import type { JsonObject } from '../json.js';
import { groupVersions, RESOURCES } from '../resources.js';
import { notFoundText } from './discovery.js';

const gvPath = (group: string, version: string): string => (group ? `apis/${group}/${version}` : `api/${version}`);

/** Query parameters a PATCH advertises; kubectl looks for `fieldValidation` to trust server-side validation. */
const PATCH_PARAMS = ['dryRun', 'fieldManager', 'fieldValidation', 'force'].map((name) => ({ name, in: 'query', schema: { type: 'string', uniqueItems: true } }));

function gvDocument(group: string, version: string): JsonObject {
  const paths: JsonObject = {};
  for (const r of RESOURCES.filter((x) => x.group === group && x.version === version && !x.virtual)) {
    const base = `/${gvPath(group, version)}${r.namespaced ? '/namespaces/{namespace}' : ''}/${r.plural}`;
    const gvk = { group, version, kind: r.kind };
    const op = (verb: string): JsonObject => ({
      operationId: `${verb}${r.kind}`,
      'x-kubernetes-action': verb,
      'x-kubernetes-group-version-kind': gvk,
      parameters: verb === 'patch' ? PATCH_PARAMS : [],
      responses: { '200': { description: 'OK' } },
    });
    paths[base] = { get: op('list'), post: op('post') };
    paths[`${base}/{name}`] = { get: op('get'), put: op('put'), patch: op('patch'), delete: op('delete') };
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes', version: 'v1.32.0' }, paths, components: { schemas: {} } };
}

/**
 * A minimal /openapi/v3: the discovery document and per group-version documents with each resource's paths and
 * the PATCH `fieldValidation` parameter, which is what kubectl apply consults (41-kubectl-requests.txt) before it
 * relies on server-side field validation. No schemas: kubectl then builds strategic-merge patches from its
 * built-in types. /openapi/v2 answers 404 (it is protobuf-only in kubectl).
 */
export function serveOpenApi(res: ServerResponse, path: string): void {
  if (path === '/openapi/v3') {
    const paths: JsonObject = { [gvPath('', 'v1')]: { serverRelativeURL: `/openapi/v3/${gvPath('', 'v1')}?hash=0` } };
    for (const g of groupVersions()) paths[gvPath(g.group, g.version)] = { serverRelativeURL: `/openapi/v3/${gvPath(g.group, g.version)}?hash=0` };
    sendJson(res, 200, { paths });
    return;
  }
  const m = /^\/openapi\/v3\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))$/.exec(path);
  if (m === null) return notFoundText(res);
  const group = m[2] ?? '';
  const version = m[1] ?? m[3]!;
  if (group !== '' && !groupVersions().some((g) => g.group === group && g.version === version)) return notFoundText(res);
  sendJson(res, 200, gvDocument(group, version));
}
