/** The packet a trace follows, and what a trace reports. Shared by the nftables and iptables tracers. */
import ipaddr from 'ipaddr.js';

/** The first packet of a connection. */
export interface TracePacket {
  sourceIP: string;
  destIP: string;
  destPort: number;
  protocol: 'tcp' | 'udp' | 'sctp';
  /** Sent by a process on the node (output path) instead of arriving on an interface (prerouting path). */
  fromNode?: boolean;
  /** Incoming interface (matched by `iifname` / `-i` rules). */
  inIface?: string;
}

/** One step of a path: where the packet was, and what happened there. */
export interface TraceStep {
  hook: string;
  chain: string;
  /** The matching rule (printable), when a rule matched. */
  rule?: string;
  what: string;
}

/** One possible path (several when the rules pick an endpoint at random). */
export interface TracePath {
  probability: number;
  steps: TraceStep[];
  outcome: 'accepted' | 'dropped' | 'rejected';
  /** `ip:port` the packet was DNATed to, if any. */
  dnat?: string;
  masquerade: boolean;
  /** Why it was dropped or rejected (rule/element comment or the map it matched in). */
  reason?: string;
}

/** Result of a trace. */
export interface TraceResult {
  paths: TracePath[];
  /** Rule parts the tracer did not understand (the result may then be incomplete). */
  unknown: string[];
}

/** True when `ip` is in one of `values` (addresses, CIDRs, or `a-b` ranges are not supported and never match). */
export function ipMatches(ip: string, values: readonly string[]): boolean {
  let a: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    a = ipaddr.parse(ip);
  } catch {
    return false;
  }
  return values.some((v) => {
    try {
      const [base, len] = v.includes('/') ? ipaddr.parseCIDR(v) : [ipaddr.parse(v), a.kind() === 'ipv4' ? 32 : 128];
      return a.kind() === base.kind() && a.match(base, len);
    } catch {
      return false;
    }
  });
}

/** Joins endpoints with their probabilities: `10.0.0.1:80 (50%)`. */
export function summarize(r: TraceResult): string {
  const byOutcome = new Map<string, number>();
  for (const p of r.paths) {
    const k = p.dnat !== undefined ? `${p.dnat}${p.masquerade ? ' masqueraded' : ''}` : `${p.outcome}${p.reason !== undefined ? ` (${p.reason})` : ''}${p.masquerade ? ' masqueraded' : ''}`;
    byOutcome.set(k, (byOutcome.get(k) ?? 0) + p.probability);
  }
  return [...byOutcome].map(([k, p]) => `${k} ${(p * 100).toFixed(1)}%`).join(', ');
}
