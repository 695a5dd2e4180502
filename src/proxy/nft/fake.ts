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

/** Splits `{ a, b : c, d }` element lists at top-level commas. */
function splitElements(body: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let inQ = false;
  let cur = '';
  for (const ch of body) {
    if (ch === '"') inQ = !inQ;
    if (!inQ && ch === '{') depth++;
    if (!inQ && ch === '}') depth--;
    if (!inQ && depth === 0 && ch === ',') {
      out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  if (cur.trim() !== '') out.push(cur.trim());
  return out;
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
        if (!work.chains.has(name)) work.chains.set(name, { spec: /\{ (type [^;]*)/.exec(rest)?.[1]?.trim(), rules: [] });
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
        const c = work.chains.get(name);
        if (c === undefined) throw new Error(`No such file or directory (chain ${name})`);
        const refs = refsOf(rest);
        for (const r of refs.chains) if (!work.chains.has(r)) throw new Error(`No such file or directory (jump target ${r})`);
        for (const s of refs.sets) if (!work.sets.has(s)) throw new Error(`No such file or directory (set ${s})`);
        c.rules.push(rest);
        return work;
      }
      case 'add set':
      case 'add map': {
        if (!work.sets.has(name)) work.sets.set(name, { spec: rest, isMap: kind === 'map', elements: new Map() });
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
        for (const text of splitElements(body)) {
          const e = parseElement(text);
          if (verb === 'delete') {
            if (!s.elements.delete(e.key)) throw new Error(`No such file or directory (element ${e.key} of ${name})`);
            continue;
          }
          for (const r of refsOf(e.value).chains) if (!work.chains.has(r)) throw new Error(`No such file or directory (verdict target ${r})`);
          const cur = s.elements.get(e.key);
          if (cur !== undefined && cur.value !== e.value) throw new Error(`File exists (element ${e.key} of ${name})`);
          s.elements.set(e.key, e.comment === undefined ? { value: e.value } : { value: e.value, comment: e.comment });
        }
        return work;
      }
      default:
        throw new Error('unsupported command');
    }
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
