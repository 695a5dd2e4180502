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

/** Printable verdict. */
export function verdictText(v: NftVerdict): string {
  return v.kind === 'jump' || v.kind === 'goto' ? `${v.kind} ${v.chain}` : v.kind;
}
