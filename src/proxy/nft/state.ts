/**
 * What nodelet has written into its nft table, and the transactions that move it to a desired state. The kernel is
 * never listed: the state is what the last successful transactions wrote (a failed transaction changes nothing in
 * the kernel, and the proxier answers it with a full rewrite).
 *
 * A full transaction replaces the table atomically (`add table; delete table; add table …` in one `nft -f`); a
 * partial one touches only the changed service ports: new chains and sets first, then element deletions, chain
 * rewrites (`flush chain` + rules) and element additions, and last the deletion of chains and sets no longer used
 * (so nothing still references them when they go).
 */
import { baseTableCommands, nftTableRef, usesNodePortSet, type NftBaseOptions } from './base.js';
import type { NftElement, NftMapName, NftServicePortRules } from './render.js';
import type { IPFamily } from '../serviceport.js';

/**
 * A prepared transaction: `prepare` (if any) then `commands`, each one `nft -f` run; `commit()` records them as
 * written once both succeeded.
 */
export interface NftTransaction {
  prepare?: string[];
  commands: string[];
  /** Chains/rules/elements written (for metrics). */
  counts: { chains: number; rules: number; elements: number };
  commit(): void;
}

interface ElemState {
  value: string;
  comment: string | undefined;
  count: number;
}

const ELEMENT_BATCH = 1000;

function elemId(e: NftElement): string {
  return `${e.map}\u0000${e.key}`;
}

function elemText(e: { key: string; value: string; comment?: string | undefined }): string {
  const c = e.comment === undefined ? '' : ` comment "${e.comment}"`;
  return e.value === '' ? `${e.key}${c}` : `${e.key}${c} : ${e.value}`;
}

function sameRules(a: readonly string[] | undefined, b: readonly string[]): boolean {
  return a !== undefined && a.length === b.length && a.every((r, i) => r === b[i]);
}

/** See the file comment. One instance per IP family. */
export class NftState {
  readonly #t: string;
  readonly #family: IPFamily;
  #ports = new Map<string, NftServicePortRules>();
  #elems = new Map<string, ElemState>();
  #written = false;

  constructor(family: IPFamily) {
    this.#family = family;
    this.#t = nftTableRef(family);
  }

  /** True once a full transaction has been committed (partial ones need a known starting point). */
  get written(): boolean {
    return this.#written;
  }

  /** Forgets the kernel's state: the next full transaction replaces the table (as the first one does). */
  reset(): void {
    this.#written = false;
  }

  /** Totals currently written: chains (per-service only), rules in them, and map/set elements. */
  totals(): { chains: number; rules: number; elements: number } {
    let chains = 0;
    let rules = 0;
    for (const p of this.#ports.values()) {
      chains += p.chains.size;
      for (const r of p.chains.values()) rules += r.length;
    }
    return { chains, rules, elements: this.#elems.size };
  }

  /**
   * The whole table for `desired` (service port name → its rules), in two transactions: `prepare` creates every chain
   * and set that will be needed (empty and unreferenced, so harmless on its own), `commands` then atomically swaps
   * the content (`flush table` and the shared maps, all rules and elements, deletion of chains and sets no longer
   * used). Rules that
   * refer to chains created in the same transaction make the kernel look each one up by transaction id, a linear
   * scan of the transaction: one transaction for everything is quadratic (minutes at 10,000 services).
   * The very first full sync (nothing known about the kernel) replaces the table in `prepare` instead, so leftovers
   * of an earlier run go too.
   */
  full(base: NftBaseOptions, desired: ReadonlyMap<string, NftServicePortRules>): NftTransaction {
    const t = this.#t;
    const first = !this.#written;
    const baseCmds = baseTableCommands(base);
    const isDecl = (c: string): boolean => /^add (chain|set|map) /.test(c);
    const prepare = first ? [`add table ${t}`, `delete table ${t}`] : [];
    prepare.push(`add table ${t} { comment "rules for kube-proxy" ; }`, ...baseCmds.filter(isDecl));
    // `flush table` empties the chains only: the shared maps and sets are flushed one by one (affinity sets are
    // left alone, so ClientIP affinity survives a full sync).
    const sets = ['cluster-ips', ...(usesNodePortSet(base) ? ['nodeport-ips'] : [])];
    const maps = ['no-endpoint-services', 'no-endpoint-nodeports', 'firewall-ips', 'service-ips', 'service-nodeports'];
    const cmds = first ? [] : [`flush table ${t}`, ...sets.map((n) => `flush set ${t} ${n}`), ...maps.map((n) => `flush map ${t} ${n}`)];
    const elems = new Map<string, ElemState>();
    const byMap = new Map<NftMapName, string[]>();
    let rules = 0;
    let chains = 0;
    const wantChains = new Set<string>();
    const wantSets = new Set<string>();
    for (const p of desired.values()) {
      for (const name of p.chains.keys()) {
        prepare.push(`add chain ${t} ${name}`);
        wantChains.add(name);
      }
      chains += p.chains.size;
      for (const [name, timeout] of p.affinitySets) {
        wantSets.add(name);
        const old = first ? undefined : this.#setTimeout(name);
        if (old !== undefined && old !== timeout) cmds.push(`delete set ${t} ${name}`, this.#addSet(name, timeout));
        else prepare.push(this.#addSet(name, timeout));
      }
    }
    cmds.push(...baseCmds.filter((c) => !isDecl(c)));
    for (const p of desired.values()) {
      for (const [name, list] of p.chains) {
        for (const r of list) cmds.push(`add rule ${t} ${name} ${r}`);
        rules += list.length;
      }
      for (const e of p.elements) {
        const id = elemId(e);
        const cur = elems.get(id);
        if (cur !== undefined) {
          cur.count++;
          continue;
        }
        elems.set(id, { value: e.value, comment: e.comment, count: 1 });
        let list = byMap.get(e.map);
        if (list === undefined) byMap.set(e.map, (list = []));
        list.push(elemText(e));
      }
    }
    for (const [map, list] of byMap) this.#pushElements(cmds, 'add', map, list);
    if (!first) {
      for (const p of this.#ports.values()) {
        for (const c of p.chains.keys()) if (!wantChains.has(c)) cmds.push(`delete chain ${t} ${c}`);
        for (const s of p.affinitySets.keys()) if (!wantSets.has(s)) cmds.push(`delete set ${t} ${s}`);
      }
    }
    return {
      prepare,
      commands: cmds,
      counts: { chains, rules, elements: elems.size },
      commit: () => {
        this.#ports = new Map(desired);
        this.#elems = elems;
        this.#written = true;
      },
    };
  }

  #setTimeout(name: string): number | undefined {
    for (const p of this.#ports.values()) {
      const v = p.affinitySets.get(name);
      if (v !== undefined) return v;
    }
    return undefined;
  }

  /**
   * Moves the changed service ports (name → rules, undefined = gone) from their written state to the new one.
   * Undefined when only a full transaction can do it (an affinity timeout changed).
   */
  partial(changes: ReadonlyMap<string, NftServicePortRules | undefined>): NftTransaction | undefined {
    const t = this.#t;
    const early: string[] = [];
    const rewrite: string[] = [];
    const lateChains: string[] = [];
    const lateSets: string[] = [];
    const overlay = new Map<string, ElemState | undefined>();
    const get = (id: string): ElemState | undefined => (overlay.has(id) ? overlay.get(id) : this.#elems.get(id));
    const dels = new Map<NftMapName, string[]>();
    const adds = new Map<NftMapName, string[]>();
    const push = (m: Map<NftMapName, string[]>, map: NftMapName, s: string): void => {
      let l = m.get(map);
      if (l === undefined) m.set(map, (l = []));
      l.push(s);
    };
    let rules = 0;
    let chains = 0;
    for (const [name, next] of changes) {
      const prev = this.#ports.get(name);
      const nextChains = next?.chains ?? new Map<string, string[]>();
      for (const [chain, list] of nextChains) {
        const old = prev?.chains.get(chain);
        if (sameRules(old, list)) continue;
        if (old === undefined) early.push(`add chain ${t} ${chain}`);
        else if (old.length > 0) rewrite.push(`flush chain ${t} ${chain}`);
        for (const r of list) rewrite.push(`add rule ${t} ${chain} ${r}`);
        rules += list.length;
        chains++;
      }
      for (const [chain, list] of prev?.chains ?? []) {
        if (nextChains.has(chain)) continue;
        // The kernel deletes only empty chains.
        if (list.length > 0) rewrite.push(`flush chain ${t} ${chain}`);
        lateChains.push(`delete chain ${t} ${chain}`);
      }
      for (const [set, timeout] of next?.affinitySets ?? []) {
        const old = prev?.affinitySets.get(set);
        // A changed timeout means re-creating a set that rules still reference: left to a full transaction.
        if (old !== undefined && old !== timeout) return undefined;
        if (old === undefined) early.push(this.#addSet(set, timeout));
      }
      for (const set of prev?.affinitySets.keys() ?? []) if (next?.affinitySets.has(set) !== true) lateSets.push(`delete set ${t} ${set}`);
      // Elements: release the old ones, then claim the new ones (ref-counted: a ClusterIP is shared by all ports).
      const nextIds = new Map((next?.elements ?? []).map((e) => [elemId(e), e] as const));
      for (const e of prev?.elements ?? []) {
        const id = elemId(e);
        const n = nextIds.get(id);
        if (n !== undefined && n.value === e.value && n.comment === e.comment) {
          nextIds.delete(id);
          continue;
        }
        const cur = get(id);
        if (cur === undefined) continue;
        if (cur.count > 1 && n === undefined) {
          overlay.set(id, { ...cur, count: cur.count - 1 });
          continue;
        }
        push(dels, e.map, e.key);
        overlay.set(id, undefined);
      }
      for (const [id, e] of nextIds) {
        const cur = get(id);
        if (cur !== undefined && cur.value === e.value && cur.comment === e.comment) {
          overlay.set(id, { ...cur, count: cur.count + 1 });
          continue;
        }
        if (cur !== undefined) push(dels, e.map, e.key);
        push(adds, e.map, elemText(e));
        overlay.set(id, { value: e.value, comment: e.comment, count: 1 });
      }
    }
    const cmds = [...early];
    for (const [map, list] of dels) this.#pushElements(cmds, 'delete', map, list);
    cmds.push(...rewrite);
    let elements = 0;
    for (const [map, list] of adds) {
      this.#pushElements(cmds, 'add', map, list);
      elements += list.length;
    }
    cmds.push(...lateChains, ...lateSets);
    return {
      commands: cmds,
      counts: { chains, rules, elements },
      commit: () => {
        for (const [name, next] of changes) {
          if (next === undefined) this.#ports.delete(name);
          else this.#ports.set(name, next);
        }
        for (const [id, s] of overlay) {
          if (s === undefined) this.#elems.delete(id);
          else this.#elems.set(id, s);
        }
      },
    };
  }

  #addSet(name: string, timeoutSeconds: number): string {
    const addr = this.#family === 'IPv4' ? 'ipv4_addr' : 'ipv6_addr';
    return `add set ${this.#t} ${name} { type ${addr} ; flags dynamic,timeout ; size 65535 ; timeout ${timeoutSeconds}s ; }`;
  }

  #pushElements(cmds: string[], verb: 'add' | 'delete', map: NftMapName, list: readonly string[]): void {
    for (let i = 0; i < list.length; i += ELEMENT_BATCH) cmds.push(`${verb} element ${this.#t} ${map} { ${list.slice(i, i + ELEMENT_BATCH).join(', ')} }`);
  }
}
