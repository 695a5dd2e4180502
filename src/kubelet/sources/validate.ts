/**
 * Strict checking of a Pod manifest against the API schema of @kubernetes/client-node's model metadata (generated
 * into pod-schema.generated.ts, so the agent does not load that library): every unknown or misspelled key at any depth is reported with its
 * path (`spec.volumes[0].emptuDir`), with a suggestion when a known key is close, and values of the wrong JSON type
 * are reported too. Plus the few semantic checks without which a pod cannot run (containers, names, images).
 */
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { POD_SCHEMA } from './pod-schema.generated.js';
import { newerFields, rejectedFields } from '../podfields/index.js';

/** One problem in a manifest. */
export interface FieldProblem {
  /** Dotted path, e.g. `spec.containers[0].lables`. */
  field: string;
  message: string;
}

/** JSON key → type string of a model, or undefined for a type that is not a model. */
function model(type: string): Readonly<Record<string, string>> | undefined {
  return Object.hasOwn(POD_SCHEMA, type) ? POD_SCHEMA[type] : undefined;
}

function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) (d[0] as number[])[j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = d[i] as number[];
      const prev = d[i - 1] as number[];
      row[j] = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1,
        (prev[j - 1] as number) + (a[i - 1]?.toLowerCase() === b[j - 1]?.toLowerCase() ? 0 : 1));
    }
  }
  return (d[a.length] as number[])[b.length] as number;
}

function suggest(key: string, known: string[]): string {
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const dd = distance(key, k);
    if (dd < bestD) {
      bestD = dd;
      best = k;
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(key.length / 4)) ? ` (did you mean "${best}"?)` : '';
}

const kindOf = (v: unknown): string => (Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v);

/** Quantity-typed fields (strings in the model) accept YAML numbers, as the API does. */
const QUANTITY_PATH = /\.(requests|limits|overhead)\.[^.]+$|\.sizeLimit$/;

function check(value: unknown, type: string, path: string, out: FieldProblem[]): void {
  if (value === null || value === undefined) return;
  const arr = /^Array<(.+)>$/.exec(type);
  if (arr !== null) {
    if (!Array.isArray(value)) {
      out.push({ field: path, message: `expected a list, got ${kindOf(value)}` });
      return;
    }
    value.forEach((v, i) => check(v, arr[1] as string, `${path}[${i}]`, out));
    return;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map !== null) {
    if (kindOf(value) !== 'object') {
      out.push({ field: path, message: `expected a map, got ${kindOf(value)}` });
      return;
    }
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      check(v, map[1] as string, `${path}.${k}`, out);
    }
    return;
  }
  switch (type) {
    case 'string':
      if (typeof value !== 'string' && !(QUANTITY_PATH.test(path) && typeof value === 'number')) {
        out.push({ field: path, message: `expected a string, got ${kindOf(value)}` });
      }
      return;
    case 'number':
      if (typeof value !== 'number') out.push({ field: path, message: `expected a number, got ${kindOf(value)}` });
      return;
    case 'boolean':
      if (typeof value !== 'boolean') out.push({ field: path, message: `expected a boolean, got ${kindOf(value)}` });
      return;
    case 'IntOrString':
      if (typeof value !== 'string' && typeof value !== 'number') {
        out.push({ field: path, message: `expected an integer or string, got ${kindOf(value)}` });
      }
      return;
    case 'Date':
      if (typeof value !== 'string' && !(value instanceof Date)) out.push({ field: path, message: 'expected a timestamp' });
      return;
    case 'any':
    case 'object':
      return;
  }
  const m = model(type);
  if (m === undefined) return;
  if (kindOf(value) !== 'object') {
    out.push({ field: path, message: `expected an object, got ${kindOf(value)}` });
    return;
  }
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const t = Object.hasOwn(m, k) ? m[k] : undefined;
    const p = path === '' ? k : `${path}.${k}`;
    if (t === undefined) {
      out.push({ field: p, message: `unknown field "${k}"${suggest(k, Object.keys(m))}` });
      continue;
    }
    check(v, t, p, out);
  }
}

/** Unknown fields and wrong value types of a Pod object, in document order. */
export function schemaProblems(obj: unknown): FieldProblem[] {
  const out: FieldProblem[] = [];
  check(obj, 'V1Pod', '', out);
  return out;
}

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** The semantic minimum: a named Pod with uniquely named containers that have images. */
export function semanticProblems(obj: V1Pod): FieldProblem[] {
  const out: FieldProblem[] = [];
  if (obj.kind !== undefined && obj.kind !== 'Pod') out.push({ field: 'kind', message: `expected "Pod", got "${obj.kind}"` });
  if (obj.apiVersion !== undefined && obj.apiVersion !== 'v1') {
    out.push({ field: 'apiVersion', message: `expected "v1", got "${obj.apiVersion}"` });
  }
  const name = obj.metadata?.name;
  if (name === undefined || name === '') out.push({ field: 'metadata.name', message: 'Required value: name is required' });
  else if (name.length > 253 || !DNS1123_SUBDOMAIN.test(name)) {
    out.push({ field: 'metadata.name', message: `Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'` });
  }
  const containers = obj.spec?.containers;
  if (obj.spec === undefined) out.push({ field: 'spec', message: 'Required value' });
  else if (!Array.isArray(containers) || containers.length === 0) out.push({ field: 'spec.containers', message: 'Required value' });
  const seen = new Set<string>();
  const each = (list: V1Container[] | undefined, key: string): void => {
    (Array.isArray(list) ? list : []).forEach((c, i) => {
      const p = `spec.${key}[${i}]`;
      if (typeof c.name !== 'string' || c.name === '') out.push({ field: `${p}.name`, message: 'Required value' });
      else if (c.name.length > 63 || !DNS1123_LABEL.test(c.name)) {
        out.push({ field: `${p}.name`, message: `Invalid value: "${c.name}": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-'` });
      } else if (seen.has(c.name)) out.push({ field: `${p}.name`, message: `Duplicate value: "${c.name}"` });
      else seen.add(c.name);
      if (typeof c.image !== 'string' || c.image.trim() === '') out.push({ field: `${p}.image`, message: 'Required value' });
    });
  };
  each(obj.spec?.initContainers, 'initContainers');
  each(containers, 'containers');
  const rp = obj.spec?.restartPolicy;
  if (rp !== undefined && rp !== 'Always' && rp !== 'OnFailure' && rp !== 'Never') {
    out.push({ field: 'spec.restartPolicy', message: `Unsupported value: "${rp}": supported values: "Always", "OnFailure", "Never"` });
  }
  return out;
}

/**
 * All problems (schema first, then semantics, then the v1.33 pod field table of src/kubelet/podfields: fields that
 * are not in a v1.33 Pod, and fields nodelet refuses, with the reason).
 */
export function validatePodObject(obj: unknown): FieldProblem[] {
  const schema = schemaProblems(obj);
  if (kindOf(obj) !== 'object') return schema;
  const table = [...newerFields(obj), ...rejectedFields(obj).map((r) => ({ field: r.field, message: r.message.slice(r.field.length + 2) }))];
  return [...schema, ...semanticProblems(obj as V1Pod), ...table];
}
