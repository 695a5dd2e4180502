/**
 * The API server's version and what follows from it: whether it is inside the version skew upstream supports for a
 * node agent of nodelet's Kubernetes version, and which fields of the objects nodelet writes it does not know yet.
 * A server older than a field answers a strategic-merge patch carrying it with `500 unable to find api field in
 * struct PodStatus for the json field "hostIPs"` (and drops it from JSON merge patches): so such fields are removed
 * from the bodies before they are sent ({@link stripUnknownFields}), from a table of when each field appeared, and
 * any field the server still names in that error is learned and removed on the retry. All functions here are pure.
 */

/** A parsed `GET /version`. */
export interface ServerVersion {
  major: number;
  minor: number;
  /** The server's gitVersion as it reported it (e.g. `v1.33.3`). */
  gitVersion: string;
}

interface VersionBody {
  major?: string;
  minor?: string;
  gitVersion?: string;
}

/**
 * Parses a `/version` answer: `major`/`minor` (minor may carry a `+`, as on managed clusters), else the gitVersion
 * (`v1.28.3-eks-…`). Undefined when neither tells (a development build reports `v0.0.0-master+<commit>`).
 */
export function parseServerVersion(body: unknown): ServerVersion | undefined {
  const b = (typeof body === 'object' && body !== null ? body : {}) as VersionBody;
  const gitVersion = typeof b.gitVersion === 'string' ? b.gitVersion : '';
  const major = Number.parseInt(b.major ?? '', 10);
  const minor = Number.parseInt((b.minor ?? '').replace(/\+$/, ''), 10);
  if (Number.isInteger(major) && Number.isInteger(minor) && major > 0) return { major, minor, gitVersion };
  const m = /^v?(\d+)\.(\d+)/.exec(gitVersion);
  if (m !== null && Number(m[1]) > 0) return { major: Number(m[1]), minor: Number(m[2]), gitVersion };
  return undefined;
}

/** `v1.33.0-nodelet` → { major: 1, minor: 33 }. */
export function parseAgentVersion(v: string): { major: number; minor: number } {
  const m = /^v?(\d+)\.(\d+)/.exec(v);
  if (m === null) throw new Error(`not a Kubernetes version: ${v}`);
  return { major: Number(m[1]), minor: Number(m[2]) };
}

/** How far a node agent may lag the API server (upstream version skew policy: kubelet and kube-proxy up to 3 minors older, never newer). */
export const MAX_AGENT_LAG_MINORS = 3;

/**
 * Undefined when the agent (kubelet/kube-proxy `agentVersion`) and the server are inside upstream's supported skew;
 * otherwise the problem in words, for a clear warning at start.
 */
export function skewProblem(server: ServerVersion | undefined, agentVersion: string, gitVersionWhenUnknown = ''): string | undefined {
  const agent = parseAgentVersion(agentVersion);
  if (server === undefined) {
    return `cannot tell the API server's version from /version (gitVersion "${gitVersionWhenUnknown}"); nodelet follows Kubernetes ${agentVersion} and supports API servers v${agent.major}.${agent.minor} to v${agent.major}.${agent.minor + MAX_AGENT_LAG_MINORS}; fields the server rejects are learned from its errors and no longer sent`;
  }
  const range = `v${agent.major}.${agent.minor} to v${agent.major}.${agent.minor + MAX_AGENT_LAG_MINORS}`;
  if (server.major !== agent.major || server.minor < agent.minor) {
    return `the API server (${server.gitVersion || `v${server.major}.${server.minor}`}) is older than nodelet's Kubernetes version ${agentVersion}: upstream supports node agents up to ${MAX_AGENT_LAG_MINORS} minor versions older than the API server, never newer (supported servers: ${range}); fields it does not know are not sent`;
  }
  if (server.minor - agent.minor > MAX_AGENT_LAG_MINORS) {
    return `the API server (${server.gitVersion}) is more than ${MAX_AGENT_LAG_MINORS} minor versions newer than nodelet's Kubernetes version ${agentVersion}, outside the skew upstream supports (supported servers: ${range})`;
  }
  return undefined;
}

/** A field the v1 API gained after v1.24: the Go struct it belongs to, its JSON name, and the minor version that added it. */
export interface NewField {
  struct: string;
  field: string;
  since: number;
}

/** Fields of the objects nodelet writes (pod and node status, mirror pods) that older API servers do not know. */
export const NEW_FIELDS: readonly NewField[] = [
  { struct: 'PodStatus', field: 'resize', since: 27 },
  { struct: 'PodStatus', field: 'hostIPs', since: 28 },
  { struct: 'PodStatus', field: 'resourceClaimStatuses', since: 28 },
  { struct: 'PodStatus', field: 'observedGeneration', since: 33 },
  { struct: 'PodCondition', field: 'observedGeneration', since: 33 },
  { struct: 'ContainerStatus', field: 'allocatedResources', since: 27 },
  { struct: 'ContainerStatus', field: 'resources', since: 27 },
  { struct: 'ContainerStatus', field: 'volumeMounts', since: 30 },
  { struct: 'ContainerStatus', field: 'user', since: 31 },
  { struct: 'ContainerStatus', field: 'allocatedResourcesStatus', since: 31 },
  { struct: 'ContainerStatus', field: 'stopSignal', since: 33 },
  { struct: 'NodeStatus', field: 'runtimeHandlers', since: 30 },
  { struct: 'NodeStatus', field: 'features', since: 31 },
  { struct: 'NodeSystemInfo', field: 'swap', since: 32 },
];

/** Where each struct sits in a Pod or Node body (`[]` = every element of a list). */
const STRUCT_PATHS: Record<'Pod' | 'Node', Record<string, readonly string[]>> = {
  Pod: {
    PodStatus: ['status'],
    PodCondition: ['status.conditions[]'],
    ContainerStatus: ['status.containerStatuses[]', 'status.initContainerStatuses[]', 'status.ephemeralContainerStatuses[]'],
  },
  Node: {
    NodeStatus: ['status'],
    NodeSystemInfo: ['status.nodeInfo'],
    NodeCondition: ['status.conditions[]'],
    NodeAddress: ['status.addresses[]'],
  },
};

/** The kind of object a request path writes (`/api/v1/namespaces/x/pods/y/status` → Pod), or undefined. */
export function writtenKind(path: string): 'Pod' | 'Node' | undefined {
  const p = path.split('?')[0] ?? '';
  if (/^\/api\/v1\/namespaces\/[^/]+\/pods(\/[^/]+(\/status)?)?$/.test(p)) return 'Pod';
  if (/^\/api\/v1\/nodes(\/[^/]+(\/status)?)?$/.test(p)) return 'Node';
  return undefined;
}

function objectsAt(root: unknown, path: string): Record<string, unknown>[] {
  let cur: unknown[] = [root];
  for (const seg of path.split('.')) {
    const list = seg.endsWith('[]');
    const key = list ? seg.slice(0, -2) : seg;
    const next: unknown[] = [];
    for (const c of cur) {
      if (typeof c !== 'object' || c === null || Array.isArray(c)) continue;
      const v = (c as Record<string, unknown>)[key];
      if (list) {
        if (Array.isArray(v)) next.push(...v);
      } else if (v !== undefined) next.push(v);
    }
    cur = next;
  }
  return cur.filter((c): c is Record<string, unknown> => typeof c === 'object' && c !== null && !Array.isArray(c));
}

/** What the server is known not to know: `Struct.field` keys. */
export type UnknownFields = ReadonlySet<string>;

/** The `Struct.field` keys a server of minor version `minor` does not know (from {@link NEW_FIELDS}); none for an unknown version. */
export function unknownFieldsFor(minor: number | undefined): Set<string> {
  const out = new Set<string>();
  if (minor === undefined) return out;
  for (const f of NEW_FIELDS) if (minor < f.since) out.add(`${f.struct}.${f.field}`);
  return out;
}

/**
 * A copy of `body` (a Pod or Node, or a patch of one) without the fields in `unknown`; `stripped` lists what was
 * removed (`status.hostIPs`, `status.containerStatuses[].user`). Also removes a strategic-merge directive naming a
 * removed list (`$setElementOrder/hostIPs`). Returns the body itself when nothing is removed.
 */
export function stripUnknownFields(kind: 'Pod' | 'Node', body: unknown, unknown: UnknownFields): { body: unknown; stripped: string[] } {
  if (unknown.size === 0 || typeof body !== 'object' || body === null) return { body, stripped: [] };
  const copy = structuredClone(body) as Record<string, unknown>;
  const stripped: string[] = [];
  for (const [struct, paths] of Object.entries(STRUCT_PATHS[kind])) {
    for (const key of unknown) {
      const [s, field] = key.split('.');
      if (s !== struct || field === undefined) continue;
      for (const path of paths) {
        let hit = false;
        for (const obj of objectsAt(copy, path)) {
          for (const k of [field, `$setElementOrder/${field}`, `$retainKeys/${field}`]) {
            if (k in obj) {
              delete obj[k];
              hit = true;
            }
          }
        }
        if (hit) stripped.push(`${path}.${field}`);
      }
    }
  }
  return stripped.length === 0 ? { body, stripped } : { body: copy, stripped };
}

/** `Struct.field` from a server's `unable to find api field in struct PodStatus for the json field "hostIPs"`, or undefined. */
export function unknownFieldFromError(message: string | undefined): string | undefined {
  const m = /unable to find api field in struct (\w+) for the json field "([^"]+)"/.exec(message ?? '');
  return m === null ? undefined : `${m[1]}.${m[2]}`;
}
