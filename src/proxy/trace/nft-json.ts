/**
 * Reads `nft -j list ruleset` / `nft -j list table …` output (libnftables JSON schema 1) into trace tables. Only the
 * expressions kube-proxy's layout uses are understood; anything else becomes `unknown` and is shown as such.
 */
import type { NftExpr, NftKeyField, NftTraceChain, NftTraceElement, NftTraceRule, NftTraceTable, NftVerdict } from './model.js';
import { exprText, namedPriority } from './model.js';

type J = Record<string, unknown>;

const isObj = (v: unknown): v is J => typeof v === 'object' && v !== null && !Array.isArray(v);

function verdictOf(v: unknown): NftVerdict | undefined {
  if (!isObj(v)) return undefined;
  for (const k of ['jump', 'goto'] as const) {
    const t = v[k];
    if (isObj(t) && typeof t['target'] === 'string') return { kind: k, chain: t['target'] };
  }
  for (const k of ['accept', 'drop', 'return', 'reject'] as const) if (k in v) return { kind: k };
  return undefined;
}

/** A value (address, prefix, set literal) as strings: `10.0.0.0/8`, `1.2.3.4`. */
function valuesOf(v: unknown): string[] {
  if (typeof v === 'string' || typeof v === 'number') return [String(v)];
  if (isObj(v)) {
    const p = v['prefix'];
    if (isObj(p)) return [`${String(p['addr'])}/${String(p['len'])}`];
    const r = v['range'];
    if (Array.isArray(r)) return [`${String(r[0])}-${String(r[1])}`];
    const s = v['set'];
    if (Array.isArray(s)) return s.flatMap(valuesOf);
    const e = v['elem'];
    if (isObj(e)) return valuesOf(e['val']);
  }
  return [];
}

function keyField(k: unknown): NftKeyField | undefined {
  if (!isObj(k)) return undefined;
  const p = k['payload'];
  if (isObj(p)) {
    if (p['field'] === 'daddr') return 'daddr';
    if (p['field'] === 'dport') return 'dport';
  }
  const m = k['meta'];
  if (isObj(m) && m['key'] === 'l4proto') return 'l4proto';
  return undefined;
}

function matchExpr(m: J): NftExpr {
  const op = m['op'];
  const neg = op === '!=';
  const left = m['left'];
  const right = m['right'];
  if (!isObj(left)) return { t: 'unknown', text: JSON.stringify(m) };
  const ct = left['ct'];
  if (isObj(ct) && ct['key'] === 'state') return { t: 'ct-new' };
  const payload = left['payload'];
  if (isObj(payload)) {
    const field = payload['field'];
    if (field === 'saddr' || field === 'daddr') {
      if (typeof right === 'string' && right.startsWith('@')) return { t: 'addr-set', field, neg, set: right.slice(1) };
      return { t: 'addr', field, neg, values: valuesOf(right) };
    }
    if (field === 'dport' && typeof right === 'number') return { t: 'dport', port: right };
  }
  const meta = left['meta'];
  if (isObj(meta)) {
    if (meta['key'] === 'l4proto' && typeof right === 'string') return { t: 'l4proto', proto: right };
    if (meta['key'] === 'iifname' && typeof right === 'string') return { t: 'iif', neg, name: right };
  }
  const fib = left['fib'];
  if (isObj(fib) && Array.isArray(fib['flags']) && right === 'local') {
    return { t: 'fib-local', field: fib['flags'].includes('saddr') ? 'saddr' : 'daddr', neg };
  }
  const and = left['&'];
  if (Array.isArray(and) && typeof and[1] === 'number' && right === 0 && op === '==') return { t: 'mark-zero', mask: and[1] };
  return { t: 'unknown', text: JSON.stringify(m) };
}

function exprOf(e: unknown): NftExpr | undefined {
  if (!isObj(e)) return { t: 'unknown', text: JSON.stringify(e) };
  if (isObj(e['match'])) return matchExpr(e['match']);
  if ('counter' in e) return undefined;
  const v = verdictOf(e);
  if (v !== undefined) return { t: 'verdict', v };
  const vmap = e['vmap'];
  if (isObj(vmap)) {
    const key = vmap['key'];
    const data = vmap['data'];
    if (isObj(key) && isObj(key['numgen']) && isObj(data) && Array.isArray(data['set'])) {
      const mod = Number(key['numgen']['mod']);
      const targets: (NftVerdict | undefined)[] = new Array<NftVerdict | undefined>(mod).fill(undefined);
      for (const pair of data['set']) if (Array.isArray(pair)) targets[Number(pair[0])] = verdictOf(pair[1]);
      return { t: 'numgen', mod, targets };
    }
    if (typeof data === 'string' && data.startsWith('@')) {
      const parts = isObj(key) && Array.isArray(key['concat']) ? key['concat'] : [key];
      const fields = parts.map(keyField);
      if (fields.every((f): f is NftKeyField => f !== undefined)) return { t: 'vmap', key: fields, map: data.slice(1) };
    }
  }
  const dnat = e['dnat'];
  if (isObj(dnat)) return { t: 'dnat', addr: String(dnat['addr']), ...(typeof dnat['port'] === 'number' ? { port: dnat['port'] } : {}) };
  if ('masquerade' in e) return { t: 'masquerade' };
  const mangle = e['mangle'];
  if (isObj(mangle) && isObj(mangle['value'])) {
    const val = mangle['value'];
    for (const [k, op] of [['|', 'or'], ['^', 'xor']] as const) {
      const a = val[k];
      if (Array.isArray(a) && typeof a[1] === 'number') return { t: 'mark-set', op, value: a[1] };
    }
  }
  const set = e['set'];
  if (isObj(set) && set['op'] === 'update' && typeof set['set'] === 'string') return { t: 'update', set: set['set'].replace(/^@/, '') };
  return { t: 'unknown', text: JSON.stringify(e) };
}

function ruleOf(r: J, fam: 'ip' | 'ip6'): NftTraceRule {
  const exprs = (Array.isArray(r['expr']) ? r['expr'] : []).map(exprOf).filter((x): x is NftExpr => x !== undefined);
  const comment = typeof r['comment'] === 'string' ? r['comment'] : undefined;
  const text = exprs.map((x) => exprText(x, fam)).join(' ');
  return comment === undefined ? { exprs, text } : { exprs, text, comment };
}

function elementOf(e: unknown): NftTraceElement {
  if (Array.isArray(e)) {
    const [k, v] = e as [unknown, unknown];
    const base = elementOf(k);
    const verdict = verdictOf(v);
    return verdict === undefined ? base : { ...base, verdict };
  }
  if (isObj(e) && isObj(e['elem'])) {
    const inner = elementOf(e['elem']['val']);
    const c = e['elem']['comment'];
    return typeof c === 'string' ? { ...inner, comment: c } : inner;
  }
  if (isObj(e) && Array.isArray(e['concat'])) return { key: e['concat'].flatMap(valuesOf) };
  return { key: valuesOf(e) };
}

/** All tables of a JSON listing (optionally only those named `name`). */
export function traceTablesFromJSON(json: string, name?: string): NftTraceTable[] {
  const doc = JSON.parse(json) as { nftables?: unknown[] };
  const tables = new Map<string, NftTraceTable>();
  const tableOf = (o: J): NftTraceTable | undefined => {
    const fam = o['family'];
    const tname = String(o['table'] ?? o['name']);
    if (fam !== 'ip' && fam !== 'ip6') return undefined;
    if (name !== undefined && tname !== name) return undefined;
    const id = `${fam} ${tname}`;
    let t = tables.get(id);
    if (t === undefined) tables.set(id, (t = { family: fam, name: tname, chains: new Map(), sets: new Map() }));
    return t;
  };
  for (const item of doc.nftables ?? []) {
    if (!isObj(item)) continue;
    if (isObj(item['table'])) tableOf(item['table']);
    const chain = item['chain'];
    if (isObj(chain)) {
      const t = tableOf(chain);
      const n = String(chain['name']);
      if (t === undefined) continue;
      const c: NftTraceChain = { name: n, rules: [] };
      if (typeof chain['hook'] === 'string') c.hook = { type: String(chain['type']), hook: chain['hook'], priority: namedPriority(chain['prio'] as number | string) };
      t.chains.set(n, c);
    }
    const rule = item['rule'];
    if (isObj(rule)) {
      const t = tableOf(rule);
      if (t !== undefined) t.chains.get(String(rule['chain']))?.rules.push(ruleOf(rule, t.family));
    }
    for (const kind of ['set', 'map'] as const) {
      const s = item[kind];
      if (!isObj(s)) continue;
      const t = tableOf(s);
      if (t === undefined) continue;
      const elems = Array.isArray(s['elem']) ? s['elem'] : [];
      t.sets.set(String(s['name']), elems.map(elementOf));
    }
  }
  return [...tables.values()];
}
