/**
 * Emulating an older kube-apiserver (option `version`, e.g. `v1.24.17`): /version reports it, and the Pod and Node
 * fields added to the v1 API after it are unknown — a strategic-merge patch carrying one fails as on the real
 * server (`500 unable to find api field in struct PodStatus for the json field "hostIPs"`, the answer a v1.24
 * server gives nodelet's pod status patches), and other writes drop them (unknown JSON fields are ignored when decoding).
 * Independent of nodelet's own table (src/api/server-version.ts) on purpose: this one stands for the servers.
 */
import { isObject, type JsonObject } from './json.js';
import { ApiError } from './status.js';

/** Fields the v1 Pod and Node gained after v1.24, where they sit, and the minor version that added them. */
const ADDED: readonly { kind: 'Pod' | 'Node'; struct: string; paths: readonly string[]; field: string; since: number }[] = [
  { kind: 'Pod', struct: 'PodStatus', paths: ['status'], field: 'resize', since: 27 },
  { kind: 'Pod', struct: 'PodStatus', paths: ['status'], field: 'hostIPs', since: 28 },
  { kind: 'Pod', struct: 'PodStatus', paths: ['status'], field: 'resourceClaimStatuses', since: 28 },
  { kind: 'Pod', struct: 'PodStatus', paths: ['status'], field: 'observedGeneration', since: 33 },
  { kind: 'Pod', struct: 'PodCondition', paths: ['status.conditions[]'], field: 'observedGeneration', since: 33 },
  ...(['allocatedResources:27', 'resources:27', 'volumeMounts:30', 'user:31', 'allocatedResourcesStatus:31', 'stopSignal:33'].map((s) => {
    const [field, since] = s.split(':') as [string, string];
    return { kind: 'Pod' as const, struct: 'ContainerStatus', paths: ['status.containerStatuses[]', 'status.initContainerStatuses[]', 'status.ephemeralContainerStatuses[]'], field, since: Number(since) };
  })),
  { kind: 'Node', struct: 'NodeStatus', paths: ['status'], field: 'runtimeHandlers', since: 30 },
  { kind: 'Node', struct: 'NodeStatus', paths: ['status'], field: 'features', since: 31 },
  { kind: 'Node', struct: 'NodeSystemInfo', paths: ['status.nodeInfo'], field: 'swap', since: 32 },
];

/** The `/version` answer of a server reporting `gitVersion` (`v1.24.17`). */
export function versionBody(gitVersion: string): JsonObject {
  const m = /^v(\d+)\.(\d+)/.exec(gitVersion);
  return {
    major: m?.[1] ?? '',
    minor: m?.[2] ?? '',
    gitVersion,
    gitCommit: '0000000000000000000000000000000000000000',
    gitTreeState: 'clean',
    buildDate: '2026-01-01T00:00:00Z',
    goVersion: 'go1.23.0',
    compiler: 'gc',
    platform: 'linux/amd64',
  };
}

/** The minor version of `gitVersion`, or undefined. */
export function minorOf(gitVersion: string | undefined): number | undefined {
  const m = /^v\d+\.(\d+)/.exec(gitVersion ?? '');
  return m === null ? undefined : Number(m[1]);
}

function objectsAt(root: unknown, path: string): JsonObject[] {
  let cur: unknown[] = [root];
  for (const seg of path.split('.')) {
    const key = seg.replace(/\[\]$/, '');
    const next: unknown[] = [];
    for (const c of cur) {
      if (!isObject(c)) continue;
      const v = c[key];
      if (seg.endsWith('[]')) {
        if (Array.isArray(v)) next.push(...(v as unknown[]));
      } else if (v !== undefined) next.push(v);
    }
    cur = next;
  }
  return cur.filter(isObject);
}

function unknownAt(kind: string, minor: number | undefined): typeof ADDED {
  return minor === undefined ? [] : ADDED.filter((a) => a.kind === kind && minor < a.since);
}

/** Throws the real server's 500 when a strategic-merge `patch` of a `kind` object carries a field the server does not know. */
export function checkPatchFields(kind: string, patch: unknown, minor: number | undefined): void {
  for (const a of unknownAt(kind, minor)) {
    for (const path of a.paths) {
      if (objectsAt(patch, path).some((o) => a.field in o)) {
        throw new ApiError(500, '', `unable to find api field in struct ${a.struct} for the json field "${a.field}"`);
      }
    }
  }
}

/** Removes (in place) the fields of a `kind` object the server does not know, as decoding into its structs would. */
export function dropUnknownFields(kind: string, obj: JsonObject, minor: number | undefined): JsonObject {
  for (const a of unknownAt(kind, minor)) for (const path of a.paths) for (const o of objectsAt(obj, path)) delete o[a.field];
  return obj;
}
