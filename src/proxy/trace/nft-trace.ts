/**
 * Walks the first packet of a connection through nft tables the way netfilter does: the base chains of each hook
 * in priority order (prerouting, then input or forward after the routing decision, then postrouting; output instead
 * of prerouting for packets sent by the node), following jumps, gotos and verdict maps, and branching at
 * `numgen random` with the probability of each branch. Affinity sets are consulted with their current contents.
 */
import type { NftExpr, NftTraceChain, NftTraceTable, NftVerdict } from './model.js';
import { verdictText } from './model.js';
import { ipMatches, type TracePacket, type TracePath, type TraceResult, type TraceStep } from './packet.js';

/** Options of {@link traceNft}. */
export interface NftTraceOptions {
  /** The node's addresses (fib … type local, the routing decision); loopback always counts. */
  localIPs: readonly string[];
}

interface State {
  dst: string;
  dport: number;
  mark: number;
  dnat?: string;
  masquerade: boolean;
}

interface Branch {
  state: State;
  prob: number;
  steps: TraceStep[];
  /** 'continue' = fell off the chain or returned. */
  end: 'continue' | 'accept' | 'drop' | 'reject' | 'nat';
  reason?: string;
}

const MAX_DEPTH = 64;

class Walker {
  readonly unknown = new Set<string>();
  constructor(
    readonly tables: readonly NftTraceTable[],
    readonly pkt: TracePacket,
    readonly local: readonly string[],
  ) {}

  isLocal(ip: string): boolean {
    return ipMatches(ip, ['127.0.0.0/8', '::1', ...this.local]);
  }

  /** Evaluates one chain; each returned branch says how it ended. */
  chain(t: NftTraceTable, c: NftTraceChain, hook: string, st: State, prob: number, steps: TraceStep[], depth: number): Branch[] {
    if (depth > MAX_DEPTH) return [{ state: st, prob, steps: [...steps, { hook, chain: c.name, what: 'loop limit reached' }], end: 'drop', reason: 'jump depth limit' }];
    return this.rules(t, c, 0, hook, st, prob, steps, depth);
  }

  rules(t: NftTraceTable, c: NftTraceChain, from: number, hook: string, st: State, prob: number, steps: TraceStep[], depth: number): Branch[] {
    for (let i = from; i < c.rules.length; i++) {
      const rule = c.rules[i];
      if (rule === undefined) continue;
      const r = this.rule(t, c, rule.exprs, rule.text, rule.comment, hook, st, prob, steps, depth);
      if (r === undefined) continue;
      // A verdict was reached: branches ending in 'continue' after a jump go on with the next rule.
      const out: Branch[] = [];
      for (const b of r) {
        if (b.end === 'continue' && (b as Branch & { resume?: boolean }).resume === true) {
          delete (b as Branch & { resume?: boolean }).resume;
          out.push(...this.rules(t, c, i + 1, hook, b.state, b.prob, b.steps, depth));
        } else out.push(b);
      }
      return out;
    }
    return [{ state: st, prob, steps, end: 'continue' }];
  }

  /** Undefined when the rule does not match (evaluation goes on with the next rule). */
  rule(t: NftTraceTable, c: NftTraceChain, exprs: readonly NftExpr[], text: string, comment: string | undefined, hook: string, st0: State, prob: number, steps0: TraceStep[], depth: number): Branch[] | undefined {
    const st = { ...st0 };
    let steps = steps0;
    const p = this.pkt;
    const step = (what: string): void => {
      steps = [...steps, { hook, chain: c.name, rule: comment === undefined ? text : `${text} comment "${comment}"`, what }];
    };
    for (const [i, e] of exprs.entries()) {
      switch (e.t) {
        case 'ct-new':
          break;
        case 'addr': {
          const ip = e.field === 'saddr' ? p.sourceIP : st.dst;
          if (ipMatches(ip, e.values) === e.neg) return undefined;
          break;
        }
        case 'addr-set': {
          const ip = e.field === 'saddr' ? p.sourceIP : st.dst;
          const elems = t.sets.get(e.set) ?? [];
          if (elems.some((x) => ipMatches(ip, x.key)) === e.neg) return undefined;
          break;
        }
        case 'l4proto':
          if (e.proto !== p.protocol) return undefined;
          break;
        case 'dport':
          if (e.port !== st.dport) return undefined;
          break;
        case 'fib-local':
          if (this.isLocal(e.field === 'saddr' ? p.sourceIP : st.dst) === e.neg) return undefined;
          break;
        case 'iif': {
          const name = p.inIface ?? '';
          const m = e.name.endsWith('*') ? name.startsWith(e.name.slice(0, -1)) : name === e.name;
          if (m === e.neg || (p.fromNode === true && !e.neg)) return undefined;
          break;
        }
        case 'mark-zero':
          if ((st.mark & e.mask) !== 0) return undefined;
          break;
        case 'mark-set':
          st.mark = e.op === 'or' ? st.mark | e.value : st.mark ^ e.value;
          break;
        case 'update':
          break;
        case 'masquerade':
          step('masquerade');
          st.masquerade = true;
          return [{ state: st, prob, steps, end: 'nat' }];
        case 'dnat': {
          const to = e.addr.includes(':') ? `[${e.addr}]:${e.port ?? st.dport}` : `${e.addr}:${e.port ?? st.dport}`;
          step(`DNAT to ${to}`);
          st.dst = e.addr;
          st.dport = e.port ?? st.dport;
          st.dnat = to;
          return [{ state: st, prob, steps, end: 'nat' }];
        }
        case 'vmap': {
          const key = e.key.map((f) => (f === 'daddr' ? st.dst : f === 'l4proto' ? p.protocol : String(st.dport)));
          const elems = t.sets.get(e.map) ?? [];
          const hit = elems.find((x) => x.key.length === key.length && x.key.every((k, j) => (j === e.key.indexOf('daddr') ? ipMatches(key[j] ?? '', [k]) : k === key[j])));
          if (hit?.verdict === undefined) return undefined;
          step(`${key.join(' . ')} found in @${e.map}${hit.comment !== undefined ? ` (${hit.comment})` : ''}: ${verdictText(hit.verdict)}`);
          return this.verdict(t, c, hit.verdict, hook, st, prob, steps, depth, hit.comment !== undefined ? `${hit.comment}: @${e.map}` : `@${e.map}`);
        }
        case 'numgen': {
          const out: Branch[] = [];
          for (const [n, v] of e.targets.entries()) {
            if (v === undefined) continue;
            const s = [...steps, { hook, chain: c.name, rule: text, what: `numgen picks ${n} of ${e.mod} (${(100 / e.mod).toFixed(1)}%): ${verdictText(v)}` }];
            out.push(...this.verdict(t, c, v, hook, { ...st }, prob / e.mod, s, depth, undefined));
          }
          return out;
        }
        case 'verdict': {
          if (i === exprs.length - 1 || exprs.slice(i + 1).every((x) => x.t === 'unknown')) step(verdictText(e.v));
          return this.verdict(t, c, e.v, hook, st, prob, steps, depth, comment);
        }
        case 'unknown':
          this.unknown.add(e.text);
          return undefined;
      }
    }
    // Every match held and no verdict: the statements (mark set, set update) took effect; go on with the next rule.
    if (exprs.some((x) => x.t === 'mark-set')) step(`mark set to 0x${st.mark.toString(16)}`);
    return [Object.assign({ state: st, prob, steps, end: 'continue' as const }, { resume: true })];
  }

  verdict(t: NftTraceTable, _c: NftTraceChain, v: NftVerdict, hook: string, st: State, prob: number, steps: TraceStep[], depth: number, reason: string | undefined): Branch[] {
    switch (v.kind) {
      case 'accept':
        return [{ state: st, prob, steps, end: 'accept' }];
      case 'drop':
        return [{ state: st, prob, steps, end: 'drop', ...(reason !== undefined ? { reason } : {}) }];
      case 'reject':
        return [{ state: st, prob, steps, end: 'reject', ...(reason !== undefined ? { reason } : {}) }];
      case 'return':
        return [{ state: st, prob, steps, end: 'continue' }];
      case 'jump':
      case 'goto': {
        const target = t.chains.get(v.chain);
        if (target === undefined) return [{ state: st, prob, steps, end: 'drop', reason: `missing chain ${v.chain}` }];
        const res = this.chain(t, target, hook, st, prob, steps, depth + 1);
        return res.map((b) => {
          // A rejecting helper chain (reject-chain) reports the reason of the element that sent the packet there.
          const withReason = (b.end === 'reject' || b.end === 'drop') && b.reason === undefined && reason !== undefined ? { ...b, reason } : b;
          if (v.kind === 'jump' && withReason.end === 'continue') return Object.assign(withReason, { resume: true });
          return withReason;
        });
      }
    }
  }
}

function baseChains(tables: readonly NftTraceTable[], hook: string): [NftTraceTable, NftTraceChain][] {
  const out: [NftTraceTable, NftTraceChain][] = [];
  for (const t of tables) for (const c of t.chains.values()) if (c.hook?.hook === hook) out.push([t, c]);
  return out.sort((a, b) => (a[1].hook?.priority ?? 0) - (b[1].hook?.priority ?? 0));
}

/**
 * Traces `pkt` through `tables` (only tables of the packet's family are used). Each path carries its probability;
 * the probabilities of all paths add up to 1.
 */
export function traceNft(allTables: readonly NftTraceTable[], pkt: TracePacket, options: NftTraceOptions): TraceResult {
  const v6 = pkt.destIP.includes(':');
  const tables = allTables.filter((t) => (t.family === 'ip6') === v6);
  const w = new Walker(tables, pkt, options.localIPs);
  type Flow = { state: State; prob: number; steps: TraceStep[]; end?: TracePath['outcome']; reason?: string };
  let flows: Flow[] = [{ state: { dst: pkt.destIP, dport: pkt.destPort, mark: 0, masquerade: false }, prob: 1, steps: [] }];
  const runHook = (hookOf: (f: Flow) => string): void => {
    const next: Flow[] = [];
    for (const f of flows) {
      if (f.end !== undefined) {
        next.push(f);
        continue;
      }
      const hook = hookOf(f);
      let cur: Flow[] = [f];
      for (const [t, c] of baseChains(tables, hook)) {
        const after: Flow[] = [];
        for (const g of cur) {
          if (g.end !== undefined) {
            after.push(g);
            continue;
          }
          for (const b of w.chain(t, c, hook, g.state, g.prob, g.steps, 0)) {
            const end = b.end === 'drop' ? 'dropped' : b.end === 'reject' ? 'rejected' : undefined;
            after.push({ state: b.state, prob: b.prob, steps: b.steps, ...(end !== undefined ? { end } : {}), ...(b.reason !== undefined ? { reason: b.reason } : {}) });
          }
        }
        cur = after;
      }
      next.push(...cur);
    }
    flows = next;
  };
  runHook(() => (pkt.fromNode === true ? 'output' : 'prerouting'));
  if (pkt.fromNode !== true) runHook((f) => (w.isLocal(f.state.dst) ? 'input' : 'forward'));
  runHook(() => 'postrouting');
  return {
    paths: flows.map((f) => ({
      probability: f.prob,
      steps: f.steps,
      outcome: f.end ?? 'accepted',
      ...(f.state.dnat !== undefined ? { dnat: f.state.dnat } : {}),
      masquerade: f.state.masquerade,
      ...(f.reason !== undefined ? { reason: f.reason } : {}),
    })),
    unknown: [...w.unknown],
  };
}
