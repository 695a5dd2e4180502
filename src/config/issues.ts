/**
 * Turns zod issues into one clear line each: the field (as a dotted path or the flag that set it), what was wrong,
 * and what is allowed. Unknown fields get a "did you mean" suggestion from the schema's own field names.
 */
import * as z from 'zod';

/** One problem found in configuration. */
export interface ConfigProblem {
  /** Dotted field path (`iptables.syncPeriod`) or flag (`--max-pods`). */
  field: string;
  message: string;
}

function pathText(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out === '' ? String(p) : `.${String(p)}`;
  }
  return out;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let cur = input;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[p];
  }
  return cur;
}

function schemaAt(schema: z.ZodType, path: readonly PropertyKey[]): z.ZodType | undefined {
  let cur: z.ZodType | undefined = schema;
  for (const p of path) {
    while (cur instanceof z.ZodOptional) cur = cur.unwrap() as z.ZodType;
    if (cur instanceof z.ZodObject && typeof p === 'string') cur = (cur.shape as Record<string, z.ZodType>)[p];
    else if (cur instanceof z.ZodArray && typeof p === 'number') cur = cur.element as z.ZodType;
    else return undefined;
  }
  while (cur instanceof z.ZodOptional) cur = cur.unwrap() as z.ZodType;
  return cur;
}

function knownKeys(s: z.ZodType | undefined): string[] {
  if (s instanceof z.ZodObject) return Object.keys(s.shape as object);
  if (s instanceof z.ZodRecord && s.keyType instanceof z.ZodEnum) return (s.keyType.options as unknown[]).map(String);
  return [];
}

function distance(a: string, b: string): number {
  const al = a.toLowerCase();
  const bl = b.toLowerCase();
  const row = Array.from({ length: bl.length + 1 }, (_, i) => i);
  for (let i = 1; i <= al.length; i++) {
    let prev = row[0] ?? 0;
    row[0] = i;
    for (let j = 1; j <= bl.length; j++) {
      const tmp = row[j] ?? 0;
      row[j] = Math.min((row[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, prev + (al[i - 1] === bl[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[bl.length] ?? 0;
}

/** The closest known name to `unknown`, when it is close enough to be a likely typo. */
export function suggest(unknown: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const d = distance(unknown, k);
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(unknown.length / 3)) ? best : undefined;
}

function shown(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** Converts the issues of a failed parse into problems, one per issue (unknown keys: one per key). */
export function describeIssues(
  schema: z.ZodType,
  input: unknown,
  issues: readonly z.core.$ZodIssue[],
  nameOf: (field: string) => string = (f) => `field "${f}"`,
): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      const s = schemaAt(schema, issue.path);
      const known = knownKeys(s);
      for (const key of issue.keys) {
        const field = pathText([...issue.path, key]);
        const hint = suggest(key, known);
        const allowed = known.length > 0 ? `; known fields here: ${known.join(', ')}` : '';
        out.push({
          field,
          message: `unknown field "${field}"${hint === undefined ? '' : ` (did you mean "${pathText([...issue.path, hint])}"?)`}${hint === undefined ? allowed : ''}`,
        });
      }
      continue;
    }
    const field = pathText(issue.path);
    const got = valueAt(input, issue.path);
    const gotText = got === undefined ? 'nothing' : shown(got);
    out.push({ field, message: `${nameOf(field)}: ${issue.message} (got ${gotText})` });
  }
  return out;
}
