/**
 * Walks the first packet of a connection through iptables-save output the way netfilter does for the proxy's
 * tables: nat PREROUTING (or nat OUTPUT for packets sent by the node), then filter INPUT/FORWARD (or OUTPUT) with
 * the DNATed destination, then nat POSTROUTING. `-m statistic --probability p` branches with probability p / 1-p;
 * `-m recent --rcheck` (ClientIP affinity) is assumed not to hold (no affinity recorded yet).
 */
import { parseSave, splitArgs, type SavedTable } from '../iptables.js';
import { ipMatches, type TracePacket, type TracePath, type TraceResult, type TraceStep } from './packet.js';

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
  end: 'continue' | 'return' | 'accept' | 'drop' | 'reject';
  reason?: string;
}

const MAX_DEPTH = 64;

function commentOf(args: readonly string[]): string | undefined {
  const i = args.indexOf('--comment');
  return i >= 0 ? args[i + 1] : undefined;
}

/** Traces `pkt` through `save` (iptables-save output with the nat and filter tables). */
export function traceIptables(save: string, pkt: TracePacket, options: { localIPs: readonly string[] }): TraceResult {
  const tables = { nat: parseSave(save, 'nat'), filter: parseSave(save, 'filter') };
  const local = ['127.0.0.0/8', '::1', ...options.localIPs];
  const isLocal = (ip: string): boolean => ipMatches(ip, local);

  /** Probability that the rule matches (0 = no, 1 = yes, p = statistic). */
  const match = (args: string[], s: State): number => {
    let p = 1;
    for (let i = 0; i < args.length; i++) {
      let neg = false;
      if (args[i] === '!') {
        neg = true;
        i++;
      }
      const a = args[i];
      const v = args[i + 1] ?? '';
      let r: boolean | undefined;
      switch (a) {
        case '-s': r = ipMatches(pkt.sourceIP, [v]); i++; break;
        case '-d': r = ipMatches(s.dst, [v]); i++; break;
        case '-i': r = pkt.fromNode !== true && (v.endsWith('+') ? (pkt.inIface ?? '').startsWith(v.slice(0, -1)) : pkt.inIface === v); i++; break;
        case '-p': r = pkt.protocol === v; i++; break;
        case '--dport': r = s.dport === Number(v); i++; break;
        case '--dst-type': r = v === 'LOCAL' && isLocal(s.dst); i++; break;
        case '--src-type': r = v === 'LOCAL' && (pkt.fromNode === true || isLocal(pkt.sourceIP)); i++; break;
        case '--mark': {
          const [val = '0', mask = '0xffffffff'] = v.split('/');
          r = (s.mark & Number(mask)) === Number(val);
          i++;
          break;
        }
        case '--ctstate': r = v.split(',').some((st) => st === 'NEW' || (st === 'DNAT' && s.dnat !== undefined)); i++; break;
        case '--probability': p = Number(v); i++; break;
        case '--rcheck': r = false; break;
        case '-j': return p;
        default: break;
      }
      if (r !== undefined && r === neg) return 0;
    }
    return p;
  };

  const walk = (t: SavedTable, table: string, chain: string, hook: string, st: State, prob: number, steps: TraceStep[], depth: number): Branch[] => {
    if (depth > MAX_DEPTH) return [{ state: st, prob, steps, end: 'drop', reason: 'jump depth limit' }];
    let live: { state: State; prob: number; steps: TraceStep[] }[] = [{ state: st, prob, steps }];
    const done: Branch[] = [];
    for (const line of t.rules.get(chain) ?? []) {
      const args = splitArgs(line).slice(2);
      const next: typeof live = [];
      for (const f of live) {
        const p = match(args, f.state);
        if (p < 1) next.push({ ...f, prob: f.prob * (1 - p) });
        if (p === 0) continue;
        const j = args.indexOf('-j');
        const target = j >= 0 ? args[j + 1] : undefined;
        const opt = (name: string): string => args[args.indexOf(name) + 1] ?? '';
        const s = { ...f.state };
        const fp = f.prob * p;
        const rule = `-A ${chain} ${args.join(' ')}`;
        const at = (what: string): TraceStep[] => [...f.steps, { hook, chain: `${table}/${chain}`, rule, what: p < 1 ? `${what} (probability ${(p * 100).toFixed(1)}%)` : what }];
        switch (target) {
          case undefined:
            next.push({ state: s, prob: fp, steps: f.steps });
            break;
          case 'ACCEPT':
            done.push({ state: s, prob: fp, steps: at('ACCEPT'), end: 'accept' });
            break;
          case 'DROP':
          case 'REJECT': {
            const c = commentOf(args);
            done.push({ state: s, prob: fp, steps: at(target), end: target === 'DROP' ? 'drop' : 'reject', ...(c !== undefined ? { reason: c } : {}) });
            break;
          }
          case 'RETURN':
            done.push({ state: s, prob: fp, steps: at('RETURN'), end: 'return' });
            break;
          case 'DNAT': {
            const to = opt('--to-destination');
            const k = to.lastIndexOf(':');
            s.dst = to.slice(0, k).replace(/^\[|\]$/g, '');
            s.dport = Number(to.slice(k + 1));
            s.dnat = to;
            done.push({ state: s, prob: fp, steps: at(`DNAT to ${to}`), end: 'accept' });
            break;
          }
          case 'MARK': {
            const [val = '0', mask = '0'] = opt('--set-xmark').split('/');
            s.mark = ((s.mark & ~Number(mask)) ^ Number(val)) >>> 0;
            next.push({ state: s, prob: fp, steps: at(`mark set to 0x${s.mark.toString(16)}`) });
            break;
          }
          case 'MASQUERADE':
            s.masquerade = true;
            done.push({ state: s, prob: fp, steps: at('MASQUERADE'), end: 'accept' });
            break;
          default: {
            for (const b of walk(t, table, target, hook, s, fp, at(`jump ${target}`), depth + 1)) {
              if (b.end === 'continue' || b.end === 'return') next.push({ state: b.state, prob: b.prob, steps: b.steps });
              else done.push(b);
            }
          }
        }
      }
      live = next.filter((f) => f.prob > 0);
    }
    return [...done, ...live.map((f) => ({ ...f, end: 'continue' as const }))];
  };

  type Flow = { state: State; prob: number; steps: TraceStep[]; end?: TracePath['outcome']; reason?: string };
  const run = (flows: Flow[], table: 'nat' | 'filter', chain: (f: Flow) => string): Flow[] =>
    flows.flatMap((f) => {
      if (f.end !== undefined) return [f];
      const c = chain(f);
      return walk(tables[table], table, c, c.toLowerCase(), f.state, f.prob, f.steps, 0).map((b) => {
        const end = b.end === 'drop' ? 'dropped' : b.end === 'reject' ? 'rejected' : undefined;
        return { state: b.state, prob: b.prob, steps: b.steps, ...(end !== undefined ? { end } : {}), ...(b.reason !== undefined ? { reason: b.reason } : {}) };
      });
    });
  let flows: Flow[] = [{ state: { dst: pkt.destIP, dport: pkt.destPort, mark: 0, masquerade: false }, prob: 1, steps: [] }];
  flows = run(flows, 'nat', () => (pkt.fromNode === true ? 'OUTPUT' : 'PREROUTING'));
  flows = run(flows, 'filter', (f) => (pkt.fromNode === true ? 'OUTPUT' : isLocal(f.state.dst) ? 'INPUT' : 'FORWARD'));
  flows = run(flows, 'nat', () => 'POSTROUTING');
  return {
    paths: flows.map((f) => ({
      probability: f.prob,
      steps: f.steps,
      outcome: f.end ?? 'accepted',
      ...(f.state.dnat !== undefined ? { dnat: f.state.dnat } : {}),
      masquerade: f.state.masquerade,
      ...(f.reason !== undefined ? { reason: f.reason } : {}),
    })),
    unknown: [],
  };
}
