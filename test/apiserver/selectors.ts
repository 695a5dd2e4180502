import { badRequest } from './status.js';
import { getPath, isObject, type JsonObject } from './json.js';

/** One parsed label requirement. */
export interface LabelRequirement {
  key: string;
  op: 'in' | 'notin' | 'exists' | '!' | '=' | '!=';
  values: string[];
}

/** Parsed field requirement (only =, ==, != exist for fields). */
export interface FieldRequirement {
  field: string;
  op: '=' | '!=';
  value: string;
}

/** Splits on commas that are not inside parentheses. */
function splitTop(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.map((x) => x.trim()).filter((x) => x !== '');
}

const KEY = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/** Parses a label selector (`a=b,c!=d,e in (x,y),f notin (z),g,!h`); throws 400 BadRequest on bad syntax. */
export function parseLabelSelector(sel: string): LabelRequirement[] {
  const reqs: LabelRequirement[] = [];
  for (const term of splitTop(sel)) {
    let m = /^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(term);
    let r: LabelRequirement | undefined;
    if (m) r = { key: m[1]!, op: m[2] as 'in' | 'notin', values: m[3]!.split(',').map((v) => v.trim()).filter((v) => v) };
    else if ((m = /^!\s*(\S+)$/.exec(term))) r = { key: m[1]!, op: '!', values: [] };
    else if ((m = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(term))) {
      r = { key: m[1]!, op: m[2] === '!=' ? '!=' : '=', values: [m[3]!] };
    } else if (KEY.test(term)) r = { key: term, op: 'exists', values: [] };
    if (r === undefined || !KEY.test(r.key)) {
      throw badRequest(`unable to parse requirement: found '${term}', expected: in, notin, =, ==, !=, gt, lt`);
    }
    reqs.push(r);
  }
  return reqs;
}

/** True when `labels` satisfy every requirement. */
export function matchLabels(reqs: LabelRequirement[], labels: Record<string, unknown> | undefined): boolean {
  return reqs.every((r) => {
    const v = labels?.[r.key];
    const has = typeof v === 'string';
    switch (r.op) {
      case 'exists':
        return has;
      case '!':
        return !has;
      case '=':
        return has && v === r.values[0];
      case '!=':
        return !has || v !== r.values[0];
      case 'in':
        return has && r.values.includes(v);
      case 'notin':
        return !has || !r.values.includes(v);
    }
  });
}

/** Parses a field selector; rejects labels not in `allowed` with the server's exact message. */
export function parseFieldSelector(sel: string, allowed: string[]): FieldRequirement[] {
  const reqs: FieldRequirement[] = [];
  for (const term of splitTop(sel)) {
    const m = /^([^=!]+?)\s*(==|=|!=)\s*(.*)$/.exec(term);
    if (!m) throw badRequest(`invalid selector: '${sel}'; can't understand '${term}'`);
    const field = m[1]!;
    if (!allowed.includes(field)) throw badRequest(`field label not supported: ${field}`);
    reqs.push({ field, op: m[2] === '!=' ? '!=' : '=', value: m[3]! });
  }
  return reqs;
}

/** The string value of a selectable field as the server's field-set functions compute it. */
export function fieldValue(o: JsonObject, field: string): string {
  if (field === 'source') return String(getPath(o, 'source.component') ?? '');
  if (field === 'status.podIPs') {
    const ips = getPath(o, 'status.podIPs');
    return Array.isArray(ips) ? ips.map((x) => (isObject(x) ? String(x.ip ?? '') : '')).join(',') : '';
  }
  const v = getPath(o, field);
  if (v === undefined || v === null) {
    // Go zero values: booleans print "false".
    if (field === 'spec.hostNetwork' || field === 'spec.unschedulable') return 'false';
    return '';
  }
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

/** True when `o` satisfies every field requirement. */
export function matchFields(reqs: FieldRequirement[], o: JsonObject): boolean {
  return reqs.every((r) => (fieldValue(o, r.field) === r.value) === (r.op === '='));
}
