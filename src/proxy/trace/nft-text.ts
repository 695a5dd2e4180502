/**
 * Parses nodelet's own nft rule text (what nft/render.ts and nft/base.ts write) into the tracer's rule language,
 * and turns a FakeNft table into a trace table. Only the syntax nodelet writes is understood.
 */
import type { FakeNftTable } from '../nft/fake.js';
import { namedPriority, type NftExpr, type NftKeyField, type NftTraceElement, type NftTraceRule, type NftTraceTable, type NftVerdict } from './model.js';

/** Parses a verdict (`goto x`, `drop`, …) or returns undefined. */
export function parseVerdict(s: string): NftVerdict | undefined {
  const m = /^(jump|goto) (\S+)$/.exec(s.trim());
  if (m !== null) return { kind: m[1] as 'jump' | 'goto', chain: m[2] ?? '' };
  const k = s.trim();
  if (k === 'accept' || k === 'drop' || k === 'return' || k === 'reject') return { kind: k };
  return undefined;
}

const KEYS: Record<string, NftKeyField> = { 'ip daddr': 'daddr', 'ip6 daddr': 'daddr', 'meta l4proto': 'l4proto', 'th dport': 'dport' };

type Step = [RegExp, (m: RegExpExecArray) => NftExpr];

const STEPS: Step[] = [
  [/^ct state new/, () => ({ t: 'ct-new' })],
  [/^((?:ip6? daddr|meta l4proto|th dport)(?: \. (?:ip6? daddr|meta l4proto|th dport))+) vmap @(\S+)/, (m) => ({ t: 'vmap', key: (m[1] ?? '').split(' . ').map((k) => KEYS[k] ?? 'daddr'), map: m[2] ?? '' })],
  [/^numgen random mod (\d+) vmap \{ ([^}]*) \}/, (m) => {
    const mod = Number(m[1]);
    const targets: (NftVerdict | undefined)[] = new Array<NftVerdict | undefined>(mod).fill(undefined);
    for (const part of (m[2] ?? '').split(',')) {
      const [i, v] = part.split(' : ');
      targets[Number(i)] = parseVerdict(v ?? '');
    }
    return { t: 'numgen', mod, targets };
  }],
  [/^ip6? (saddr|daddr) (!= )?@(\S+)/, (m) => ({ t: 'addr-set', field: m[1] as 'saddr' | 'daddr', neg: m[2] !== undefined, set: m[3] ?? '' })],
  [/^ip6? (saddr|daddr) (!= )?\{ ([^}]*) \}/, (m) => ({ t: 'addr', field: m[1] as 'saddr' | 'daddr', neg: m[2] !== undefined, values: (m[3] ?? '').split(',').map((s) => s.trim()) })],
  [/^ip6? (saddr|daddr) (!= )?([0-9a-fA-F.:/]+)/, (m) => ({ t: 'addr', field: m[1] as 'saddr' | 'daddr', neg: m[2] !== undefined, values: [m[3] ?? ''] })],
  [/^meta l4proto (\w+)/, (m) => ({ t: 'l4proto', proto: m[1] ?? '' })],
  [/^(?:tcp|udp|sctp|th) dport (\d+)/, (m) => ({ t: 'dport', port: Number(m[1]) })],
  [/^fib (saddr|daddr) type (!= )?local/, (m) => ({ t: 'fib-local', field: m[1] as 'saddr' | 'daddr', neg: m[2] !== undefined })],
  [/^iifname (!= )?"([^"]*)"/, (m) => ({ t: 'iif', neg: m[1] !== undefined, name: m[2] ?? '' })],
  [/^mark and (0x[0-9a-f]+) == 0\b/, (m) => ({ t: 'mark-zero', mask: Number(m[1]) })],
  [/^mark set mark (or|xor) (0x[0-9a-f]+)/, (m) => ({ t: 'mark-set', op: m[1] as 'or' | 'xor', value: Number(m[2]) })],
  [/^update @(\S+) \{ ip6? saddr \}/, (m) => ({ t: 'update', set: m[1] ?? '' })],
  [/^dnat to (?:\[([0-9a-fA-F:]+)\]|([0-9.]+)):(\d+)/, (m) => ({ t: 'dnat', addr: m[1] ?? m[2] ?? '', port: Number(m[3]) })],
  [/^masquerade(?: fully-random)?/, () => ({ t: 'masquerade' })],
  [/^(jump|goto) (\S+)/, (m) => ({ t: 'verdict', v: { kind: m[1] as 'jump' | 'goto', chain: m[2] ?? '' } })],
  [/^(accept|drop|return|reject)\b/, (m) => ({ t: 'verdict', v: { kind: m[1] as 'accept' | 'drop' | 'return' | 'reject' } })],
];

/** Parses one rule body. Unknown parts become `unknown` expressions. */
export function parseRuleText(text: string): NftTraceRule {
  let rest = text.trim();
  let comment: string | undefined;
  const c = / comment "([^"]*)"$/.exec(rest);
  if (c !== null) {
    comment = c[1];
    rest = rest.slice(0, c.index).trim();
  }
  const exprs: NftExpr[] = [];
  while (rest.length > 0) {
    let hit = false;
    for (const [re, make] of STEPS) {
      const m = re.exec(rest);
      if (m === null) continue;
      exprs.push(make(m));
      rest = rest.slice(m[0].length).trim();
      hit = true;
      break;
    }
    if (!hit) {
      exprs.push({ t: 'unknown', text: rest });
      break;
    }
  }
  return comment === undefined ? { exprs, text } : { exprs, text, comment };
}

/** A FakeNft table as a trace table. */
export function traceTableFromFake(t: FakeNftTable, family: 'ip' | 'ip6'): NftTraceTable {
  const chains = new Map<string, NftTraceTable['chains'] extends Map<string, infer C> ? C : never>();
  for (const [name, c] of t.chains) {
    const h = c.spec === undefined ? undefined : /type (\w+) hook (\w+) priority ([^;]+)/.exec(c.spec);
    chains.set(name, {
      name,
      ...(h === null || h === undefined ? {} : { hook: { type: h[1] ?? '', hook: h[2] ?? '', priority: namedPriority((h[3] ?? '0').trim()) } }),
      rules: c.rules.map(parseRuleText),
    });
  }
  const sets = new Map<string, NftTraceElement[]>();
  for (const [name, s] of t.sets) {
    sets.set(
      name,
      [...s.elements].map(([k, e]) => {
        const v = e.value === '' ? undefined : parseVerdict(e.value);
        return { key: k.split(' . ').map((p) => p.trim()), ...(v === undefined ? {} : { verdict: v }), ...(e.comment === undefined ? {} : { comment: e.comment }) };
      }),
    );
  }
  return { family, name: 'kube-proxy', chains, sets };
}
