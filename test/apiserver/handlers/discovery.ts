import type { ServerResponse } from 'node:http';
import { sendJson } from '../http.js';
import type { JsonObject } from '../json.js';
import { groupVersions, RESOURCES, SUBRESOURCE_KIND, verbsOf } from '../resources.js';

/** Version the server reports (a current server: kubectl's version skew warning stays quiet). */
export const SERVER_VERSION: JsonObject = {
  major: '1',
  minor: '33',
  gitVersion: 'v1.33.0-nodelet-test',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2026-01-01T00:00:00Z',
  goVersion: 'go1.23.0',
  compiler: 'gc',
  platform: 'linux/amd64',
};

function resourceList(group: string, version: string): JsonObject {
  const resources: JsonObject[] = [];
  for (const r of RESOURCES.filter((x) => x.group === group && x.version === version)) {
    const e: JsonObject = { name: r.plural, singularName: r.singular, namespaced: r.namespaced, kind: r.kind, verbs: verbsOf(r) };
    if (r.shortNames) e.shortNames = r.shortNames;
    if (r.categories) e.categories = r.categories;
    resources.push(e);
    for (const sub of r.subresources) {
      const k = SUBRESOURCE_KIND[sub]!;
      const s: JsonObject = { name: `${r.plural}/${sub}`, singularName: '', namespaced: r.namespaced, kind: k.kind || r.kind, verbs: k.verbs };
      if (k.group) {
        s.group = k.group;
        s.version = k.version ?? 'v1';
      }
      resources.push(s);
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/${version}` : version, resources };
}

function groupEntry(group: string, version: string): JsonObject {
  const gv = { groupVersion: `${group}/${version}`, version };
  return { name: group, versions: [gv], preferredVersion: gv };
}

/**
 * Answers discovery (/api, /api/v1, /apis, /apis/<g>, /apis/<g>/<v>) in the legacy format; kubectl falls back to it
 * when the aggregated-discovery Accept type is not honoured. Returns false when the group/version is unknown.
 */
export function serveDiscovery(res: ServerResponse, serverAddress: string, group: string | undefined, version: string | undefined, legacy: boolean): boolean {
  if (legacy && version === undefined) {
    sendJson(res, 200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] });
    return true;
  }
  if (legacy) {
    if (version !== 'v1') return false;
    sendJson(res, 200, resourceList('', 'v1'));
    return true;
  }
  const gvs = groupVersions();
  if (group === undefined) {
    sendJson(res, 200, { kind: 'APIGroupList', apiVersion: 'v1', groups: gvs.map((g) => groupEntry(g.group, g.version)) });
    return true;
  }
  const g = gvs.find((x) => x.group === group);
  if (g === undefined) return false;
  if (version === undefined) {
    sendJson(res, 200, { kind: 'APIGroup', apiVersion: 'v1', ...groupEntry(g.group, g.version) });
    return true;
  }
  if (version !== g.version) return false;
  sendJson(res, 200, resourceList(group, version));
  return true;
}

/** Plain-text 404 as the apiserver's non-resource paths answer. */
export function notFoundText(res: ServerResponse): void {
  res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-cache, private' });
  res.end('404 page not found\n');
}
