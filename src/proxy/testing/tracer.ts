/**
 * A packet tracer over FakeIptables (after upstream proxier_test.go's tracePacket): walks a new connection through
 * nat PREROUTING/OUTPUT, the filter hook, and nat POSTROUTING, following every `-m statistic` branch, and reports
 * which endpoints it can reach, whether it is rejected/dropped, and whether it is masqueraded.
 */
import ipaddr from 'ipaddr.js';
import { splitArgs } from '../iptables.js';
import type { Table } from '../render-top.js';
import type { FakeIptables } from './fake-iptables.js';

/** The first packet of a connection. */
export interface TracePacket {
  sourceIP: string;
  destIP: string;
  destPort: number;
  protocol?: 'tcp' | 'udp' | 'sctp';
  /** Sent by a process on the node (nat OUTPUT) rather than arriving from a pod/outside (nat PREROUTING). */
  fromNode?: boolean;
  inIface?: string;
}

/** Outcome of a trace. */
export interface TraceResult {
  /** Reachable endpoints `ip:port` sorted and joined by ', '; 'REJECT'/'DROP'; '' when not DNATed and accepted. */
  endpoints: string;
  /** Masqueraded on every path (throws when paths disagree). */
  masquerade: boolean;
}

interface State {
  dest: string;
  dport: number;
  mark: number;
  dnat: boolean;
}

type Verdict = 'ACCEPT' | 'DROP' | 'REJECT' | 'CONTINUE' | 'RETURN';

interface Branch {
  state: State;
  verdict: Verdict;
}

function inCIDR(ip: string, cidr: string): boolean {
  try {
    const a = ipaddr.parse(ip);
    const [base, len] = cidr.includes('/') ? ipaddr.parseCIDR(cidr) : [ipaddr.parse(cidr), a.kind() === 'ipv4' ? 32 : 128];
    return a.kind() === base.kind() && a.match(base, len);
  } catch {
    return false;
  }
}

/** Walks packets through a FakeIptables. `localIPs` are the node's addresses (127.0.0.0/8 is always local). */
export class PacketTracer {
  readonly #ipt: FakeIptables;
  readonly #local: string[];
  readonly #maxDepth = 50;

  constructor(ipt: FakeIptables, localIPs: readonly string[]) {
    this.#ipt = ipt;
    this.#local = [...localIPs];
  }

  #isLocal(ip: string): boolean {
    return inCIDR(ip, '127.0.0.0/8') || this.#local.includes(ip);
  }

  /** Traces one packet. */
  trace(pkt: TracePacket): TraceResult {
    const start: State = { dest: pkt.destIP, dport: pkt.destPort, mark: 0, dnat: false };
    const nat = this.#walk('nat', pkt.fromNode ? 'OUTPUT' : 'PREROUTING', pkt, start, 0);
    const endpoints = new Set<string>();
    const masq = new Set<boolean>();
    let verdicts = new Set<string>();
    for (const b of nat) {
      const filterHook = pkt.fromNode ? 'OUTPUT' : this.#isLocal(b.state.dest) ? 'INPUT' : 'FORWARD';
      const filtered = this.#walk('filter', filterHook, pkt, b.state, 0);
      for (const f of filtered) {
        if (f.verdict === 'DROP' || f.verdict === 'REJECT') {
          verdicts.add(f.verdict);
          continue;
        }
        if (f.state.dnat) endpoints.add(`${f.state.dest}:${f.state.dport}`);
        const post = this.#walk('nat', 'POSTROUTING', pkt, f.state, 0);
        for (const p of post) masq.add(p.state.mark === -1);
      }
    }
    if (endpoints.size > 0 && verdicts.size > 0) verdicts = new Set([...verdicts, 'PARTIAL']);
    if (masq.size > 1) throw new Error(`inconsistent masquerading for ${JSON.stringify(pkt)}`);
    const eps = [...endpoints].sort().join(', ');
    return { endpoints: verdicts.size > 0 && eps === '' ? [...verdicts].sort().join(', ') : eps, masquerade: masq.has(true) };
  }

  /** Walks one chain; returns all branches that leave it (ACCEPT/DROP/REJECT or falling off / RETURN as CONTINUE). */
  #walk(table: Table, chain: string, pkt: TracePacket, state: State, depth: number): Branch[] {
    if (depth > this.#maxDepth) throw new Error(`jump loop at ${table}/${chain}`);
    let live: State[] = [{ ...state }];
    const done: Branch[] = [];
    for (const body of this.#ipt.tables.get(table)?.get(chain)?.rules ?? []) {
      const next: State[] = [];
      for (const s of live) {
        const args = splitArgs(body);
        const m = this.#match(args, pkt, s);
        if (m === 'both') next.push({ ...s });
        if (m === false) {
          next.push(s);
          continue;
        }
        const outs = this.#target(table, args, pkt, { ...s }, depth);
        for (const o of outs) {
          if (o.verdict === 'CONTINUE') next.push(o.state);
          else if (o.verdict === 'RETURN') done.push({ state: o.state, verdict: 'CONTINUE' });
          else done.push(o);
        }
      }
      live = next;
    }
    return [...done, ...live.map((s) => ({ state: s, verdict: 'CONTINUE' as const }))];
  }

  /** true / false / 'both' (statistic: the rule may or may not match). */
  #match(args: string[], pkt: TracePacket, s: State): boolean | 'both' {
    let both = false;
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
        case '-s': r = inCIDR(pkt.sourceIP, v); i++; break;
        case '-d': r = inCIDR(s.dest, v); i++; break;
        case '-i': r = v.endsWith('+') ? (pkt.inIface ?? '').startsWith(v.slice(0, -1)) : pkt.inIface === v; i++; break;
        case '-p': r = (pkt.protocol ?? 'tcp') === v; i++; break;
        case '--dport': r = s.dport === Number(v); i++; break;
        case '--dst-type': r = v === 'LOCAL' ? this.#isLocal(s.dest) : false; i++; break;
        case '--src-type': r = v === 'LOCAL' ? pkt.fromNode === true || this.#isLocal(pkt.sourceIP) : false; i++; break;
        case '--mark': {
          const [val = '0', mask = '0xffffffff'] = v.split('/');
          r = ((s.mark === -1 ? 0x4000 : s.mark) & Number(mask)) === Number(val);
          i++;
          break;
        }
        case '--ctstate': r = v.split(',').some((st) => st === 'NEW' || (st === 'DNAT' && s.dnat)); i++; break;
        case '--probability': both = true; i++; break;
        case '--rcheck': r = false; break;
        case '-j': return both ? 'both' : true;
        default: break;
      }
      if (r !== undefined && r === neg) return false;
    }
    return both ? 'both' : true;
  }

  #target(table: Table, args: string[], pkt: TracePacket, s: State, depth: number): Branch[] {
    const j = args.indexOf('-j');
    const t = j >= 0 ? args[j + 1] : undefined;
    const opt = (name: string): string => args[args.indexOf(name) + 1] ?? '';
    switch (t) {
      case undefined: return [{ state: s, verdict: 'CONTINUE' }];
      case 'ACCEPT': case 'DROP': case 'REJECT': return [{ state: s, verdict: t }];
      case 'RETURN': return [{ state: s, verdict: 'RETURN' }];
      case 'DNAT': {
        const to = opt('--to-destination');
        const k = to.lastIndexOf(':');
        return [{ state: { ...s, dest: to.slice(0, k).replace(/^\[|\]$/g, ''), dport: Number(to.slice(k + 1)), dnat: true }, verdict: 'ACCEPT' }];
      }
      case 'MARK': {
        const [val = '0', mask = '0'] = opt('--set-xmark').split('/');
        const cur = s.mark === -1 ? 0x4000 : s.mark;
        return [{ state: { ...s, mark: (cur & ~Number(mask)) ^ Number(val) }, verdict: 'CONTINUE' }];
      }
      case 'MASQUERADE': return [{ state: { ...s, mark: -1 }, verdict: 'ACCEPT' }];
      default: {
        // A user chain: RETURN/fall-off continues here; a terminal verdict ends the walk.
        return this.#walk(table, t, pkt, s, depth + 1);
      }
    }
  }
}
