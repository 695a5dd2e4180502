/**
 * Downward API field values (upstream pkg/fieldpath and podFieldSelectorRuntimeValue): the same selectors serve
 * env `fieldRef` and downwardAPI volume items.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { InvalidError } from '../../util/errors.js';

/** Runtime facts a field selector may need beyond the pod object. */
export interface FieldContext {
  podIPs: readonly string[];
  hostIPs: readonly string[];
}

/** Go `%q` for the strings that appear in labels/annotations (JSON escaping is the same for printable text). */
function quote(s: string): string {
  return JSON.stringify(s);
}

/** `key="value"` lines sorted by key, joined by newlines (upstream fieldpath.FormatMap). */
export function formatMap(m: Record<string, string> | undefined): string {
  return Object.keys(m ?? {})
    .sort()
    .map((k) => `${k}=${quote((m ?? {})[k] ?? '')}`)
    .join('\n');
}

const SUBSCRIPT = /^metadata\.(labels|annotations)\['(.*)'\]$/;

/**
 * The value of `fieldPath` for `pod`. Throws InvalidError (naming `field`) for an unsupported path, with upstream's
 * `unsupported fieldPath: …` wording. status.podIP(s)/hostIP(s) come from `ctx` (empty while not known).
 */
export function podFieldValue(pod: V1Pod, fieldPath: string, ctx: FieldContext, field = 'fieldRef.fieldPath'): string {
  const md = pod.metadata;
  switch (fieldPath) {
    case 'metadata.name':
      return md?.name ?? '';
    case 'metadata.namespace':
      return md?.namespace ?? '';
    case 'metadata.uid':
      return md?.uid ?? '';
    case 'metadata.labels':
      return formatMap(md?.labels);
    case 'metadata.annotations':
      return formatMap(md?.annotations);
    case 'spec.nodeName':
      return pod.spec?.nodeName ?? '';
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName ?? '';
    case 'status.podIP':
      return ctx.podIPs[0] ?? '';
    case 'status.podIPs':
      return ctx.podIPs.join(',');
    case 'status.hostIP':
      return ctx.hostIPs[0] ?? '';
    case 'status.hostIPs':
      return ctx.hostIPs.join(',');
  }
  const m = SUBSCRIPT.exec(fieldPath);
  if (m !== null) {
    const map = m[1] === 'labels' ? md?.labels : md?.annotations;
    return map?.[m[2] ?? ''] ?? '';
  }
  throw new InvalidError(`unsupported fieldPath: ${fieldPath}`, { field });
}
