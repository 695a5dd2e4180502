/**
 * FakeNft: an in-memory `table <family> kube-proxy` that applies the commands nodelet writes (`add|delete|flush table`,
 * `add|flush|delete chain`, `add rule`, `add|delete set|map`, `add|delete element`) atomically, with the kernel's
 * checks that matter for correctness: a rule needs its chain and its jump/goto targets, a chain or set still
 * referenced cannot be deleted, a missing object cannot be flushed or deleted. `failNext()` makes the next
 * transaction fail like a rejected one (nothing changes).
 */
import type { IPFamily } from '../serviceport.js';
import { NftError, type Nft } from './exec.js';
import { nftTableRef } from './base.js';
import type { NftExistingObjects } from './state.js';

/** One chain: its base-chain spec (`type nat hook prerouting priority dstnat`) if any, and its rule bodies. */
export interface FakeNftChain {
  spec: string | undefined;
  rules: string[];
}

/** A set or map: key → value ('' for plain sets) with an optional element comment. */
export interface FakeNftSet {
  spec: string;
  isMap: boolean;
  elements: Map<string, { value: string; comment?: string }>;
}

/** The table as FakeNft holds it. */
export interface FakeNftTable {
  chains: Map<string, FakeNftChain>;
  sets: Map<string, FakeNftSet>;
}

function clone(t: FakeNftTable): FakeNftTable {
  return {
    chains: new Map([...t.chains].map(([k, c]) => [k, { spec: c.spec, rules: [...c.rules] }])),
    sets: new Map([...t.sets].map(([k, s]) => [k, { spec: s.spec, isMap: s.isMap, elements: new Map(s.elements) }])),
  };
}

/** Splits `body` at top-level `sep` (outside quotes and nested braces); empty pieces are dropped. */
function splitTopLevel(body: string, sep: ',' | ';'): string[] {
  const out: string[] = [];
  let depth = 0;
  let inQ = false;
  let cur = '';
  for (const ch of body) {
    if (ch === '"') inQ = !inQ;
    if (!inQ && ch === '{') depth++;
    if (!inQ && ch === '}') depth--;
    if (!inQ && depth === 0 && ch === sep) {
      if (cur.trim() !== '') out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  if (cur.trim() !== '') out.push(cur.trim());
  return out;
}

/** Splits `{ a, b : c, d }` element lists at top-level commas. */
const splitElements = (body: string): string[] => splitTopLevel(body, ',');

/** Splits a `{ … }` block body at top-level `;`. */
const splitStatements = (body: string): string[] => splitTopLevel(body, ';');

/** The body of a trailing `{ … }` block (without the braces), or undefined. */
function blockBody(rest: string): string | undefined {
  const r = rest.trim();
  if (!r.startsWith('{') || !r.endsWith('}')) return undefined;
  return r.slice(1, -1);
}

/** Parses `key [comment "c"] [: value]`. */
export function parseElement(text: string): { key: string; value: string; comment?: string } {
  const m = /^(.*?)(?: comment "([^"]*)")?(?: : (.*))?$/.exec(text.trim());
  const key = (m?.[1] ?? text).trim();
  const value = (m?.[3] ?? '').trim();
  return m?.[2] === undefined ? { key, value } : { key, value, comment: m[2] };
}

/** Chains and sets a rule body refers to. */
function refsOf(rule: string): { chains: string[]; sets: string[] } {
  const chains = [...rule.matchAll(/\b(?:jump|goto) ([^\s,}]+)/g)].map((m) => m[1] ?? '');
  const sets = [...rule.matchAll(/@([^\s,}]+)/g)].map((m) => m[1] ?? '');
  return { chains, sets };
}

/** See the file comment. */
export class FakeNft implements Nft {
  readonly family: IPFamily;
  table: FakeNftTable | undefined;
  /** Every transaction run (successful or not), for assertions. */
  readonly transactions: string[][] = [];
  #fail = 0;

  constructor(family: IPFamily = 'IPv4') {
    this.family = family;
  }

  /** The next `n` transactions fail (nothing changes). */
  failNext(n = 1): void {
    this.#fail = n;
  }

  run(commands: readonly string[]): Promise<void> {
    this.transactions.push([...commands]);
    if (this.#fail > 0) {
      this.#fail--;
      return Promise.reject(new NftError('injected failure'));
    }
    let work = this.table === undefined ? undefined : clone(this.table);
    const t = nftTableRef(this.family);
    for (const [i, cmd] of commands.entries()) {
      try {
        work = this.#apply(work, cmd, t);
      } catch (err) {
        return Promise.reject(new NftError(`line ${i + 1}: ${cmd.slice(0, 200)}: ${(err as Error).message}`));
      }
    }
    this.table = work;
    return Promise.resolve();
  }

  list(): Promise<string> {
    return Promise.reject(new NftError('FakeNft has no JSON listing; use the table'));
  }

  deleteTable(): Promise<void> {
    this.table = undefined;
    return Promise.resolve();
  }

  #apply(work: FakeNftTable | undefined, cmd: string, t: string): FakeNftTable | undefined {
    const m = /^(add|delete|flush) (table|chain|rule|set|map|element) (\S+ \S+)(?: (\S+))?(?: (.*))?$/.exec(cmd);
    if (m === null) throw new Error('unparsable command');
    const [, verb, kind, table, name = '', rest = ''] = m;
    if (table !== t) throw new Error(`foreign table ${table ?? ''}`);
    if (kind === 'table') {
      if (verb === 'add') return work ?? { chains: new Map(), sets: new Map() };
      if (verb === 'delete' && work !== undefined) return undefined;
      if (verb === 'flush' && work !== undefined) {
        // Like the kernel: every chain's rules go; chains, sets and set elements stay.
        for (const c of work.chains.values()) c.rules = [];
        return work;
      }
      throw new Error('No such file or directory (table)');
    }
    if (work === undefined) throw new Error('No such file or directory (table)');
    const referenced = (what: 'chains' | 'sets', n: string): boolean => {
      for (const c of work.chains.values()) if (c.rules.some((r) => refsOf(r)[what].includes(n))) return true;
      if (what === 'chains') for (const s of work.sets.values()) for (const e of s.elements.values()) if (refsOf(e.value).chains.includes(n)) return true;
      return false;
    };
    switch (`${verb ?? ''} ${kind ?? ''}`) {
      case 'add chain': {
        // `add chain X { type … }` declares a base chain; `add chain X { r1 ; r2 ; }` adds X if needed and appends
        // the rules (as nft expands a chain block); `comment "…"` items are not rules.
        const body = blockBody(rest);
        const base = body !== undefined && /^\s*type /.test(body);
        if (!work.chains.has(name)) work.chains.set(name, { spec: base ? /\{ (type [^;]*)/.exec(rest)?.[1]?.trim() : undefined, rules: [] });
        if (body === undefined || base) return work;
        for (const r of splitStatements(body)) if (!r.startsWith('comment ')) this.#addRule(work, name, r);
        return work;
      }
      case 'flush chain': {
        const c = work.chains.get(name);
        if (c === undefined) throw new Error(`No such file or directory (chain ${name})`);
        c.rules = [];
        return work;
      }
      case 'delete chain': {
        if (!work.chains.has(name)) throw new Error(`No such file or directory (chain ${name})`);
        if ((work.chains.get(name)?.rules.length ?? 0) > 0) throw new Error(`Device or resource busy (chain ${name} not empty)`);
        if (referenced('chains', name)) throw new Error(`Device or resource busy (chain ${name} referenced)`);
        work.chains.delete(name);
        return work;
      }
      case 'add rule': {
        this.#addRule(work, name, rest);
        return work;
      }
      case 'add set':
      case 'add map': {
        // `add set X { spec ; elements = { … } ; }`: declares X (no-op when it exists with the same type) and adds
        // the elements.
        const m = /^(.*?)\s*elements = \{ (.*) \} ;\s*\}$/.exec(rest);
        const spec = m === null ? rest : `${m[1] ?? ''} }`;
        const cur = work.sets.get(name);
        const typeOf = (x: string): string => /type ([^;]*);/.exec(x)?.[1]?.trim() ?? '';
        if (cur === undefined) work.sets.set(name, { spec, isMap: kind === 'map', elements: new Map() });
        else if (typeOf(cur.spec) !== typeOf(spec) || cur.isMap !== (kind === 'map')) throw new Error(`File exists (set ${name} declared differently)`);
        if (m !== null) this.#addElements(work, name, m[2] ?? '');
        return work;
      }
      case 'flush set':
      case 'flush map': {
        const st = work.sets.get(name);
        if (st === undefined) throw new Error(`No such file or directory (set ${name})`);
        st.elements.clear();
        return work;
      }
      case 'delete set':
      case 'delete map': {
        if (!work.sets.has(name)) throw new Error(`No such file or directory (set ${name})`);
        if (referenced('sets', name)) throw new Error(`Device or resource busy (set ${name} referenced)`);
        work.sets.delete(name);
        return work;
      }
      case 'add element':
      case 'delete element': {
        const s = work.sets.get(name);
        if (s === undefined) throw new Error(`No such file or directory (set ${name})`);
        const body = rest.replace(/^\{\s*/, '').replace(/\s*\}$/, '');
        if (verb === 'add') {
          this.#addElements(work, name, body);
          return work;
        }
        for (const text of splitElements(body)) {
          const e = parseElement(text);
          if (!s.elements.delete(e.key)) throw new Error(`No such file or directory (element ${e.key} of ${name})`);
        }
        return work;
      }
      default:
        throw new Error('unsupported command');
    }
  }

  #addRule(work: FakeNftTable, name: string, rule: string): void {
    const c = work.chains.get(name);
    if (c === undefined) throw new Error(`No such file or directory (chain ${name})`);
    const refs = refsOf(rule);
    for (const r of refs.chains) if (!work.chains.has(r)) throw new Error(`No such file or directory (jump target ${r})`);
    for (const s of refs.sets) if (!work.sets.has(s)) throw new Error(`No such file or directory (set ${s})`);
    c.rules.push(rule);
  }

  #addElements(work: FakeNftTable, name: string, body: string): void {
    const s = work.sets.get(name);
    if (s === undefined) throw new Error(`No such file or directory (set ${name})`);
    for (const text of splitElements(body)) {
      const e = parseElement(text);
      for (const r of refsOf(e.value).chains) if (!work.chains.has(r)) throw new Error(`No such file or directory (verdict target ${r})`);
      const cur = s.elements.get(e.key);
      if (cur !== undefined && cur.value !== e.value) throw new Error(`File exists (element ${e.key} of ${name})`);
      s.elements.set(e.key, e.comment === undefined ? { value: e.value } : { value: e.value, comment: e.comment });
    }
  }

  objects(): Promise<NftExistingObjects | undefined> {
    const t = this.table;
    if (t === undefined) return Promise.resolve(undefined);
    const sets = new Map<string, number | undefined>();
    for (const [n, s] of t.sets) {
      const m = /timeout (\d+)s/.exec(s.spec);
      sets.set(n, m === null ? undefined : Number(m[1]));
    }
    return Promise.resolve({ chains: [...t.chains.keys()], sets });
  }

  /** Rules of a chain (undefined when it does not exist). */
  chain(name: string): string[] | undefined {
    return this.table?.chains.get(name)?.rules;
  }

  /** Elements of a set or map as `key` / `key : value` strings, sorted. */
  elements(name: string): string[] | undefined {
    const s = this.table?.sets.get(name);
    if (s === undefined) return undefined;
    return [...s.elements].map(([k, e]) => (e.value === '' ? k : `${k} : ${e.value}`)).sort();
  }
}
