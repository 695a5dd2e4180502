/**
 * Applying the pod field table to a pod: the fields it sets that nodelet refuses (admission) and the fields that do
 * not exist in v1.33 (static-pod schema). Pure.
 */
import { POD_FIELDS, type PodField } from './table.js';

/** One refused field of a pod. */
export interface FieldRejection {
  /** Concrete path, e.g. `spec.containers[0].restartPolicy`. */
  field: string;
  /** Admission reason (`UnsupportedPodField`, `Forbidden`, `AppArmor`, …). */
  reason: string;
  /** `<field>: <why>`. */
  message: string;
}

/** The values at `pattern` (dotted, `[]` = every list item) with their concrete paths; unset ones are skipped. */
export function valuesAt(obj: unknown, pattern: string): { path: string; value: unknown }[] {
  let cur: { path: string; value: unknown }[] = [{ path: '', value: obj }];
  for (const seg of pattern.split('.')) {
    const list = seg.endsWith('[]');
    const key = list ? seg.slice(0, -2) : seg;
    const next: { path: string; value: unknown }[] = [];
    for (const c of cur) {
      if (typeof c.value !== 'object' || c.value === null || Array.isArray(c.value)) continue;
      const v = (c.value as Record<string, unknown>)[key];
      if (v === undefined || v === null) continue;
      const p = c.path === '' ? key : `${c.path}.${key}`;
      if (!list) next.push({ path: p, value: v });
      else if (Array.isArray(v)) v.forEach((item, i) => next.push({ path: `${p}[${i}]`, value: item }));
    }
    cur = next;
  }
  return cur;
}

function refused(f: PodField, value: unknown): boolean {
  return f.rejectWhen === undefined ? true : f.rejectWhen(value);
}

/** The `rejected` fields `pod` sets, in table order. */
export function rejectedFields(pod: unknown): FieldRejection[] {
  const out: FieldRejection[] = [];
  for (const f of POD_FIELDS) {
    if (f.support !== 'rejected') continue;
    for (const { path, value } of valuesAt(pod, f.path)) {
      if (!refused(f, value)) continue;
      const why = f.reason === 'Forbidden' ? 'Forbidden: may not be set for non-init containers' : `not supported by nodelet: ${f.note}`;
      out.push({ field: path, reason: f.reason ?? 'UnsupportedPodField', message: `${path}: ${why}` });
    }
  }
  return out;
}

/** The fields `pod` sets that are not fields of a v1.33 Pod (unknown to a v1.33 API server). */
export function newerFields(pod: unknown): { field: string; message: string }[] {
  const out: { field: string; message: string }[] = [];
  for (const f of POD_FIELDS) {
    if (f.support !== 'newer') continue;
    for (const { path } of valuesAt(pod, f.path)) out.push({ field: path, message: `unknown field "${f.path.split('.').pop() ?? ''}" (not a field of a Kubernetes v1.33 Pod: ${f.note})` });
  }
  return out;
}
