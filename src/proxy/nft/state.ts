/**
 * What nodelet has written into its nft table, and the transactions that move it to a desired state. The kernel is
 * listed at most once (before the first full transaction, to adopt a table an earlier run left); afterwards the state
 * is what the last successful transactions wrote (a failed transaction changes nothing in the kernel, and the
 * proxier answers it with a full rewrite).
 *
 * A full transaction swaps the whole content (`flush table`, shared sets/maps flushed, everything written again); the
 * ClientIP affinity sets are kept with their elements. A partial one touches only the changed service ports and is
 * written so that `nft` needs no copy of the table: `nft` (v1.0.x) lists EVERY chain of the table from the kernel
 * before it evaluates an `add rule`, `add element` or any `delete`, which at 10,000 services costs more than the
 * change itself. So a partial transaction uses `add chain X { rules }` for chain contents, `add map M { … ;
 * elements = { … } }` for new elements (re-declaring an existing set with the same body changes nothing), and
 * `flush chain` for chains no longer used; those chains and unused affinity sets become *stale* (empty and
 * unreferenced) and are deleted later in one batch: in the next full transaction, in a transaction that must delete
 * map elements anyway (a `delete element` has the listing cost already), or once STALE_LIMIT of them piled up or the
 * oldest is STALE_MAX_AGE_MS old. Like upstream, a stale chain is deleted at the earliest a second after it was
 * emptied.
 */
import { baseTableCommands, nftSetDeclaration, nftTableRef, usesNodePortSet, type NftBaseOptions } from './base.js';
import { isNftServiceChain } from './names.js';
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
  /** Stale chains and sets this transaction deletes. */
  collected: number;
  commit(): void;
}

/** Objects of an existing table (an earlier run's), as listed before the first full transaction. */
export interface NftExistingObjects {
  chains: readonly string[];
  /** Sets → their timeout in seconds (undefined: none). */
  sets: ReadonlyMap<string, number | undefined>;
}

interface ElemState {
  value: string;
  comment: string | undefined;
  count: number;
}

const ELEMENT_BATCH = 1000;
/** Stale objects are deleted at the earliest this long after they were emptied (upstream: one second). */
export const STALE_MIN_AGE_MS = 1000;
/** A partial transaction deletes the stale objects once this many piled up... */
export const STALE_LIMIT = 500;
/** ...or once the oldest is this old. */
export const STALE_MAX_AGE_MS = 10 * 60_000;

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

/** `add chain <t> <name> { r1 ; r2 ; }` (or a bare `add chain` for an empty chain). */
function chainBlock(t: string, name: string, rules: readonly string[]): string {
  return rules.length === 0 ? `add chain ${t} ${name}` : `add chain ${t} ${name} { ${rules.join(' ; ')} ; }`;
}

/** Named sets a rule body refers to (`@name`). */
function setRefs(rules: readonly string[]): string[] {
  const out: string[] = [];
  for (const r of rules) for (const m of r.matchAll(/@([^\s,}]+)/g)) out.push(m[1] ?? '');
  return out;
}

/** See the file comment. One instance per IP family. */
export class NftState {
  readonly #t: string;
  readonly #family: IPFamily;
  #ports = new Map<string, NftServicePortRules>();
  #elems = new Map<string, ElemState>();
  /** Stale (empty, unreferenced) chains → when they were emptied (monotonic ms). */
  #staleChains = new Map<string, number>();
  /** Stale affinity sets → when they went out of use, and their timeout. */
  #staleSets = new Map<string, { since: number; timeout: number | undefined }>();
  #chains = 0;
  #rules = 0;
  #written = false;

  constructor(family: IPFamily) {
    this.#family = family;
    this.#t = nftTableRef(family);
  }

  /** True once a full transaction has been committed (partial ones need a known starting point). */
  get written(): boolean {
    return this.#written;
  }

  /**
   * Forgets that anything was written: the next full transaction starts from the kernel again (takes over what
   * `Nft.objects()` lists, or replaces the table). What this state wrote is still deleted if unwanted.
   */
  reset(): void {
    this.#written = false;
  }

  /** Totals currently written: chains (per-service only, stale ones not counted), rules in them, map/set elements. */
  totals(): { chains: number; rules: number; elements: number } {
    return { chains: this.#chains, rules: this.#rules, elements: this.#elems.size };
  }

  /** Names of the stale chains and sets (empty, unreferenced, waiting to be deleted in a later batch). */
  stale(): { chains: string[]; sets: string[] } {
    return { chains: [...this.#staleChains.keys()], sets: [...this.#staleSets.keys()] };
  }

  #count(ports: Iterable<NftServicePortRules>): void {
    let chains = 0;
    let rules = 0;
    for (const p of ports) {
      chains += p.chains.size;
      for (const r of p.chains.values()) rules += r.length;
    }
    this.#chains = chains;
    this.#rules = rules;
  }

  /**
   * The whole table for `desired` (service port name → its rules), in two transactions: `prepare` creates every chain
   * and set that will be needed (empty and unreferenced, so harmless on its own), `commands` then atomically swaps
   * the content (`flush table` and the shared maps, all rules and elements, deletion of chains and sets no longer
   * used). Rules that refer to chains created in the same transaction make the kernel look each one up by
   * transaction id, a linear scan of the transaction: one transaction for everything is quadratic (minutes at
   * 10,000 services).
   *
   * The first full transaction either adopts the table an earlier run left (`existing`, as listed from the kernel:
   * its service chains and affinity sets that are no longer wanted are deleted, wanted affinity sets keep their
   * elements, so ClientIP affinity survives a restart as upstream), or, when nothing could be listed, replaces the
   * table in `prepare`.
   */
  full(base: NftBaseOptions, desired: ReadonlyMap<string, NftServicePortRules>, existing?: NftExistingObjects): NftTransaction {
    const t = this.#t;
    const replace = !this.#written && existing === undefined;
    const baseCmds = baseTableCommands(base);
    const isDecl = (c: string): boolean => /^add (chain|set|map) /.test(c);
    const prepare = replace ? [`add table ${t}`, `delete table ${t}`] : [];
    prepare.push(`add table ${t} { comment "rules for kube-proxy" ; }`, ...baseCmds.filter(isDecl));
    // `flush table` empties the chains only: the shared maps and sets are flushed one by one (affinity sets are
    // left alone, so ClientIP affinity survives a full sync).
    const sets = ['cluster-ips', ...(usesNodePortSet(base) ? ['nodeport-ips'] : [])];
    const maps = ['no-endpoint-services', 'no-endpoint-nodeports', 'firewall-ips', 'service-ips', 'service-nodeports'];
    const cmds = replace ? [] : [`flush table ${t}`, ...sets.map((n) => `flush set ${t} ${n}`), ...maps.map((n) => `flush map ${t} ${n}`)];
    // What the kernel may hold besides the base objects: written chains/sets, stale ones, and an earlier run's.
    const knownChains = new Set<string>(this.#staleChains.keys());
    const knownSets = new Map<string, number | undefined>([...this.#staleSets].map(([n, s]) => [n, s.timeout]));
    if (!replace) {
      for (const p of this.#ports.values()) {
        for (const c of p.chains.keys()) knownChains.add(c);
        for (const [s, timeout] of p.affinitySets) knownSets.set(s, timeout);
      }
      for (const c of existing?.chains ?? []) if (isNftServiceChain(c)) knownChains.add(c);
      for (const [s, timeout] of existing?.sets ?? []) if (s.startsWith('affinity-')) knownSets.set(s, timeout);
      // nodeport-ips from an earlier configuration (upstream: add + delete).
      if (!usesNodePortSet(base)) cmds.push(`add set ${t} nodeport-ips { type ${this.#family === 'IPv4' ? 'ipv4_addr' : 'ipv6_addr'} ; comment "IPs that accept NodePort traffic" ; }`, `delete set ${t} nodeport-ips`);
    }
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
        const known = knownSets.has(name);
        const old = knownSets.get(name);
        if (known && old !== timeout) cmds.push(this.#addSet(name, old), `delete set ${t} ${name}`, this.#addSet(name, timeout));
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
    // `add` before `delete` (as upstream): the object may be gone already (someone deleted the table), and a
    // delete of a missing object would fail the whole transaction.
    let collected = 0;
    for (const c of knownChains) {
      if (wantChains.has(c)) continue;
      cmds.push(`add chain ${t} ${c}`, `delete chain ${t} ${c}`);
      collected++;
    }
    for (const [s, timeout] of knownSets) {
      if (wantSets.has(s)) continue;
      cmds.push(this.#addSet(s, timeout), `delete set ${t} ${s}`);
      collected++;
    }
    return {
      prepare,
      commands: cmds,
      counts: { chains, rules, elements: elems.size },
      collected,
      commit: () => {
        this.#ports = new Map(desired);
        this.#elems = elems;
        this.#staleChains.clear();
        this.#staleSets.clear();
        this.#chains = chains;
        this.#rules = rules;
        this.#written = true;
      },
    };
  }

  /**
   * Moves the changed service ports (name → rules, undefined = gone) from their written state to the new one; `now`
   * is the monotonic time in ms (stale objects are timed by it). Undefined when only a full transaction can do it (an
   * affinity timeout changed).
   */
  partial(changes: ReadonlyMap<string, NftServicePortRules | undefined>, now: number): NftTransaction | undefined {
    const t = this.#t;
    const newSets: string[] = [];
    const newChains: string[] = [];
    const rewrite: string[] = [];
    const declared = new Set<string>();
    const overlay = new Map<string, ElemState | undefined>();
    const get = (id: string): ElemState | undefined => (overlay.has(id) ? overlay.get(id) : this.#elems.get(id));
    const dels = new Map<NftMapName, string[]>();
    const adds = new Map<NftMapName, string[]>();
    const push = (m: Map<NftMapName, string[]>, map: NftMapName, s: string): void => {
      let l = m.get(map);
      if (l === undefined) m.set(map, (l = []));
      l.push(s);
    };
    const staledChains = new Set<string>();
    const revivedChains = new Set<string>();
    const staledSets = new Map<string, number>();
    const revivedSets = new Set<string>();
    let rules = 0;
    let chains = 0;
    let ruleDelta = 0;
    let chainDelta = 0;
    for (const [name, next] of changes) {
      const prev = this.#ports.get(name);
      const nextChains = next?.chains ?? new Map<string, string[]>();
      const nextSets = next?.affinitySets ?? new Map<string, number>();
      for (const [set, timeout] of nextSets) {
        const old = prev?.affinitySets.get(set) ?? this.#staleSets.get(set)?.timeout;
        const known = prev?.affinitySets.has(set) === true || this.#staleSets.has(set);
        // A changed timeout means re-creating a set that rules still reference: left to a full transaction.
        if (known && old !== timeout) return undefined;
        if (this.#staleSets.has(set)) revivedSets.add(set);
      }
      for (const [chain, list] of nextChains) {
        const old = prev?.chains.get(chain);
        if (sameRules(old, list)) continue;
        if (old === undefined) {
          if (this.#staleChains.has(chain)) revivedChains.add(chain);
          else newChains.push(`add chain ${t} ${chain}`);
        } else if (old.length > 0) {
          rewrite.push(`flush chain ${t} ${chain}`);
        }
        if (list.length > 0) {
          // `nft` resolves `@set` in a chain block from what it knows: the sets the rules use are declared first.
          for (const s of setRefs(list)) {
            if (declared.has(s) || !nextSets.has(s)) continue;
            declared.add(s);
            newSets.push(this.#addSet(s, nextSets.get(s) ?? 0));
          }
          rewrite.push(chainBlock(t, chain, list));
        }
        rules += list.length;
        chains++;
      }
      for (const [chain, list] of prev?.chains ?? []) {
        if (nextChains.has(chain)) continue;
        if (list.length > 0) rewrite.push(`flush chain ${t} ${chain}`);
        staledChains.add(chain);
      }
      for (const [set, timeout] of nextSets) {
        if (prev?.affinitySets.has(set) === true || this.#staleSets.has(set) || declared.has(set)) continue;
        declared.add(set);
        newSets.push(this.#addSet(set, timeout));
      }
      for (const [set, timeout] of prev?.affinitySets ?? []) if (!nextSets.has(set)) staledSets.set(set, timeout);
      for (const list of prev?.chains.values() ?? []) ruleDelta -= list.length;
      for (const list of nextChains.values()) ruleDelta += list.length;
      chainDelta += nextChains.size - (prev?.chains.size ?? 0);
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
    // A chain emptied and wanted again in the same transaction is simply rewritten.
    for (const c of revivedChains) staledChains.delete(c);
    for (const c of newChains) staledChains.delete(c.slice(`add chain ${t} `.length));
    const cmds = [...newSets, ...newChains];
    for (const [map, list] of dels) this.#pushElements(cmds, 'delete', map, list);
    cmds.push(...rewrite);
    let elements = 0;
    for (const [map, list] of adds) {
      this.#pushDeclared(cmds, map, list);
      elements += list.length;
    }
    const collect = this.#collectable(now, dels.size > 0, revivedChains, revivedSets);
    for (const c of collect.chains) cmds.push(`delete chain ${t} ${c}`);
    for (const s of collect.sets) cmds.push(`delete set ${t} ${s}`);
    return {
      commands: cmds,
      counts: { chains, rules, elements },
      collected: collect.chains.length + collect.sets.length,
      commit: () => {
        for (const [name, next] of changes) {
          if (next === undefined) this.#ports.delete(name);
          else this.#ports.set(name, next);
        }
        for (const [id, s] of overlay) {
          if (s === undefined) this.#elems.delete(id);
          else this.#elems.set(id, s);
        }
        for (const c of collect.chains) this.#staleChains.delete(c);
        for (const s of collect.sets) this.#staleSets.delete(s);
        for (const c of revivedChains) this.#staleChains.delete(c);
        for (const s of revivedSets) this.#staleSets.delete(s);
        for (const c of staledChains) this.#staleChains.set(c, now);
        for (const [s, timeout] of staledSets) if (!revivedSets.has(s)) this.#staleSets.set(s, { since: now, timeout });
        this.#chains += chainDelta;
        this.#rules += ruleDelta;
      },
    };
  }

  /** Stale chains and sets to delete in this partial transaction (see the file comment); none most of the time. */
  #collectable(now: number, listingAnyway: boolean, revivedChains: ReadonlySet<string>, revivedSets: ReadonlySet<string>): { chains: string[]; sets: string[] } {
    const total = this.#staleChains.size + this.#staleSets.size;
    if (total === 0) return { chains: [], sets: [] };
    let oldest = Infinity;
    for (const since of this.#staleChains.values()) oldest = Math.min(oldest, since);
    for (const s of this.#staleSets.values()) oldest = Math.min(oldest, s.since);
    if (!listingAnyway && total < STALE_LIMIT && now - oldest < STALE_MAX_AGE_MS) return { chains: [], sets: [] };
    const due = (since: number): boolean => now - since >= STALE_MIN_AGE_MS;
    return {
      chains: [...this.#staleChains].filter(([c, since]) => due(since) && !revivedChains.has(c)).map(([c]) => c),
      sets: [...this.#staleSets].filter(([s, v]) => due(v.since) && !revivedSets.has(s)).map(([s]) => s),
    };
  }

  /** An affinity set's declaration (timeout undefined: a set listed without one). */
  #addSet(name: string, timeoutSeconds: number | undefined): string {
    const addr = this.#family === 'IPv4' ? 'ipv4_addr' : 'ipv6_addr';
    const timeout = timeoutSeconds === undefined ? '' : `timeout ${timeoutSeconds}s ; `;
    return `add set ${this.#t} ${name} { type ${addr} ; flags dynamic,timeout ; size 65535 ; ${timeout}}`;
  }

  #pushElements(cmds: string[], verb: 'add' | 'delete', map: NftMapName, list: readonly string[]): void {
    for (let i = 0; i < list.length; i += ELEMENT_BATCH) cmds.push(`${verb} element ${this.#t} ${map} { ${list.slice(i, i + ELEMENT_BATCH).join(', ')} }`);
  }

  /** New elements as a re-declaration of their set/map with `elements = { … }` (see the file comment). */
  #pushDeclared(cmds: string[], map: NftMapName, list: readonly string[]): void {
    const d = nftSetDeclaration(this.#family, map);
    for (let i = 0; i < list.length; i += ELEMENT_BATCH) {
      cmds.push(`add ${d.kind} ${this.#t} ${map} { ${d.body} elements = { ${list.slice(i, i + ELEMENT_BATCH).join(', ')} } ; }`);
    }
  }
}
