/**
 * Turning manifest text into a runnable static pod (upstream pkg/kubelet/config/common.go): parse YAML/JSON,
 * strict-validate, apply the defaults the API server would, and the static-pod identity: UID = md5 of the content
 * plus the source (`host:<node>file:<path>` or `url:<url>`), name `<name>-<nodeName>`, namespace `default`,
 * annotations kubernetes.io/config.source|hash|seen, spec.nodeName.
 */
import { createHash } from 'node:crypto';
import type { V1Pod } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { NodeletError } from '../../util/errors.js';
import { effectivePullPolicy } from '../images/policy.js';
import { validatePodObject, type FieldProblem } from './validate.js';

/** Annotation keys of pod configuration (upstream kubetypes). */
export const CONFIG_ANNOTATIONS = {
  source: 'kubernetes.io/config.source',
  hash: 'kubernetes.io/config.hash',
  seen: 'kubernetes.io/config.seen',
  mirror: 'kubernetes.io/config.mirror',
} as const;

/** A manifest that cannot become a pod; `problems` name the fields. */
export class ManifestError extends NodeletError {
  readonly problems: FieldProblem[];

  constructor(object: string, problems: FieldProblem[]) {
    const detail = problems.map((p) => (p.field === '' ? p.message : `${p.field}: ${p.message}`)).join('; ');
    super('MANIFEST_INVALID', `invalid pod manifest ${object}: ${detail}`, { object, field: problems[0]?.field });
    this.problems = problems;
  }
}

/** Where a static pod comes from. */
export interface StaticSource {
  kind: 'file' | 'http';
  /** File path or URL. */
  location: string;
  nodeName: string;
  /** config.seen timestamp (epoch ms). */
  seenAt: number;
}

function parseDocs(text: string, object: string): unknown[] {
  const docs = parseAllDocuments(text, { uniqueKeys: true });
  const list = Array.isArray(docs) ? docs : [docs];
  const out: unknown[] = [];
  for (const d of list) {
    if (d.errors.length > 0) {
      const e = d.errors[0];
      throw new ManifestError(object, [{ field: '', message: `not valid YAML/JSON: ${e?.message ?? 'parse error'}` }]);
    }
    const v: unknown = d.toJS();
    if (v !== null && v !== undefined) out.push(v);
  }
  return out;
}

/** Parses text into pod objects (a Pod, several documents, or a PodList). Throws ManifestError. */
export function parsePodObjects(text: string, object: string): V1Pod[] {
  const docs = parseDocs(text, object);
  if (docs.length === 0) return [];
  const pods: unknown[] = [];
  for (const d of docs) {
    const rec = d as { kind?: unknown; items?: unknown };
    if (rec.kind === 'PodList' && Array.isArray(rec.items)) pods.push(...rec.items);
    else pods.push(d);
  }
  const out: V1Pod[] = [];
  pods.forEach((p, i) => {
    if (p === null || typeof p !== 'object' || Array.isArray(p)) {
      throw new ManifestError(object, [{ field: '', message: `document ${i} is not an object` }]);
    }
    const rec = p as { kind?: unknown };
    if (rec.kind !== 'Pod') {
      throw new ManifestError(object, [{ field: 'kind', message: `expected kind "Pod", got ${JSON.stringify(rec.kind ?? null)}` }]);
    }
    const problems = validatePodObject(p);
    if (problems.length > 0) throw new ManifestError(pods.length > 1 ? `${object} (document ${i})` : object, problems);
    out.push(p as V1Pod);
  });
  return out;
}

/** Fills the defaults the API server would (only what the kubelet relies on). Mutates and returns `pod`. */
export function applyPodDefaults(pod: V1Pod): V1Pod {
  const spec = pod.spec ?? { containers: [] };
  pod.spec = spec;
  spec.restartPolicy ??= 'Always';
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.schedulerName ??= 'default-scheduler';
  spec.enableServiceLinks ??= true;
  spec.securityContext ??= {};
  for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
    c.imagePullPolicy ??= effectivePullPolicy(c.image ?? '', undefined);
    c.terminationMessagePath ??= '/dev/termination-log';
    c.terminationMessagePolicy ??= 'File';
    for (const p of c.ports ?? []) p.protocol ??= 'TCP';
  }
  return pod;
}

function stable(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stable);
  if (v !== null && typeof v === 'object' && !(v instanceof Date)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) out[k] = stable((v as Record<string, unknown>)[k]);
    return out;
  }
  return v;
}

/** Static pod identity and annotations (see module comment). Mutates and returns `pod`. */
export function applyStaticIdentity(pod: V1Pod, src: StaticSource): V1Pod {
  const meta = pod.metadata ?? {};
  pod.metadata = meta;
  if (meta.uid === undefined || meta.uid === '') {
    const h = createHash('md5').update(JSON.stringify(stable(pod)));
    h.update(src.kind === 'file' ? `host:${src.nodeName}file:${src.location}` : `url:${src.location}`);
    meta.uid = h.digest('hex');
  }
  meta.name = `${meta.name ?? ''}-${src.nodeName}`;
  meta.namespace = meta.namespace === undefined || meta.namespace === '' ? 'default' : meta.namespace;
  meta.annotations = {
    ...meta.annotations,
    [CONFIG_ANNOTATIONS.source]: src.kind,
    [CONFIG_ANNOTATIONS.hash]: meta.uid,
    [CONFIG_ANNOTATIONS.seen]: new Date(src.seenAt).toISOString(),
  };
  const spec = pod.spec ?? { containers: [] };
  spec.nodeName = src.nodeName;
  pod.spec = spec;
  pod.status = { phase: 'Pending' };
  return pod;
}

/** Parse + validate + defaults + identity. Throws ManifestError. */
export function staticPodsFromText(text: string, src: StaticSource): V1Pod[] {
  const object = src.kind === 'file' ? `file ${src.location}` : `url ${src.location}`;
  return parsePodObjects(text, object).map((p) => applyStaticIdentity(applyPodDefaults(p), src));
}

/** True for a pod that came from a file or URL (not the API). */
export function isStaticPod(pod: V1Pod): boolean {
  const s = pod.metadata?.annotations?.[CONFIG_ANNOTATIONS.source];
  return s !== undefined && s !== 'api';
}

/** True for a mirror pod (the API copy of a static pod). */
export function isMirrorPod(pod: V1Pod): boolean {
  return pod.metadata?.annotations?.[CONFIG_ANNOTATIONS.mirror] !== undefined;
}
