/**
 * The small rule language the nft tracer understands: exactly the expressions kube-proxy's nftables layout uses,
 * produced from nft's JSON listing (nft-json.ts, the live kernel) or from nodelet's own rule text (nft-text.ts, unit
 * tests over rendered rules). Anything else becomes `unknown` and is reported, never guessed.
 */

/** A verdict. */
export type NftVerdict = { kind: 'accept' | 'drop' | 'return' | 'reject' } | { kind: 'jump' | 'goto'; chain: string };

/** Fields a concatenated map key is built from. */
export type NftKeyField = 'daddr' | 'l4proto' | 'dport';

/** One expression or statement of a rule. */
export type NftExpr =
  | { t: 'ct-new' }
  | { t: 'addr'; field: 'saddr' | 'daddr'; neg: boolean; values: string[] }
  | { t: 'addr-set'; field: 'saddr' | 'daddr'; neg: boolean; set: string }
  | { t: 'l4proto'; proto: string }
  | { t: 'dport'; port: number }
  | { t: 'fib-local'; field: 'saddr' | 'daddr'; neg: boolean }
  | { t: 'iif'; neg: boolean; name: string }
  | { t: 'mark-zero'; mask: number }
  | { t: 'vmap'; key: NftKeyField[]; map: string }
  | { t: 'numgen'; mod: number; targets: (NftVerdict | undefined)[] }
  | { t: 'dnat'; addr: string; port?: number }
  | { t: 'masquerade' }
  | { t: 'mark-set'; op: 'or' | 'xor'; value: number }
  | { t: 'update'; set: string }
  | { t: 'verdict'; v: NftVerdict }
  | { t: 'unknown'; text: string };

/** A rule: its expressions, a printable form, and its comment. */
export interface NftTraceRule {
  exprs: NftExpr[];
  text: string;
  comment?: string;
}

/** A chain; `hook` set for base chains. */
export interface NftTraceChain {
  name: string;
  hook?: { type: string; hook: string; priority: number };
  rules: NftTraceRule[];
}

/** An element of a set (`verdict` undefined) or verdict map; `key` parts are addresses/CIDRs, protocols, ports. */
export interface NftTraceElement {
  key: string[];
  verdict?: NftVerdict;
  comment?: string;
}

/** One table. */
export interface NftTraceTable {
  family: 'ip' | 'ip6';
  name: string;
  chains: Map<string, NftTraceChain>;
  sets: Map<string, NftTraceElement[]>;
}

/** Named priorities nft prints or accepts. */
export function namedPriority(p: string | number): number {
  if (typeof p === 'number') return p;
  const m = /^(\w+)\s*([+-])?\s*(\d+)?$/.exec(p.trim());
  const base: Record<string, number> = { raw: -300, mangle: -150, dstnat: -100, filter: 0, security: 50, srcnat: 100 };
  if (m === null) return Number(p);
  const b = base[m[1] ?? ''] ?? Number(m[1]);
  const off = m[3] === undefined ? 0 : Number(m[3]) * (m[2] === '-' ? -1 : 1);
  return b + off;
}

/** nft-like text of one expression (for rules read from JSON). */
export function exprText(e: NftExpr, fam: 'ip' | 'ip6' = 'ip'): string {
  switch (e.t) {
    case 'ct-new': return 'ct state new';
    case 'addr': return `${fam} ${e.field} ${e.neg ? '!= ' : ''}${e.values.length === 1 ? (e.values[0] ?? '') : `{ ${e.values.join(', ')} }`}`;
    case 'addr-set': return `${fam} ${e.field} ${e.neg ? '!= ' : ''}@${e.set}`;
    case 'l4proto': return `meta l4proto ${e.proto}`;
    case 'dport': return `th dport ${e.port}`;
    case 'fib-local': return `fib ${e.field} type ${e.neg ? '!= ' : ''}local`;
    case 'iif': return `iifname ${e.neg ? '!= ' : ''}"${e.name}"`;
    case 'mark-zero': return `meta mark & 0x${e.mask.toString(16)} == 0`;
    case 'vmap': return `${e.key.map((k) => (k === 'daddr' ? `${fam} daddr` : k === 'l4proto' ? 'meta l4proto' : 'th dport')).join(' . ')} vmap @${e.map}`;
    case 'numgen': return `numgen random mod ${e.mod} vmap { ${e.targets.map((v, i) => `${i} : ${v === undefined ? '?' : verdictText(v)}`).join(', ')} }`;
    case 'dnat': return `dnat to ${e.addr.includes(':') ? `[${e.addr}]` : e.addr}${e.port !== undefined ? `:${e.port}` : ''}`;
    case 'masquerade': return 'masquerade';
    case 'mark-set': return `meta mark set meta mark ${e.op === 'or' ? '|' : '^'} 0x${e.value.toString(16)}`;
    case 'update': return `update @${e.set} { ${fam} saddr }`;
    case 'verdict': return verdictText(e.v);
    case 'unknown': return e.text;
  }
}

/** Printable verdict. */
export function verdictText(v: NftVerdict): string {
  return v.kind === 'jump' || v.kind === 'goto' ? `${v.kind} ${v.chain}` : v.kind;
}
