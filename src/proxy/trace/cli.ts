/**
 * `nodelet trace`: explains what the proxy's LIVE rules do with one packet. Reads the kernel's rules (nft -j list
 * ruleset for the nftables mode, iptables-save for the iptables mode; both when both are present) and the node's
 * addresses, traces the packet and prints every path: the chains and rules it went through, the DNAT result with
 * each endpoint's probability, masquerading, and why it was dropped or rejected.
 */
import { Command, CommanderError, Option } from 'commander';
import ipaddr from 'ipaddr.js';
import { ExecIptables, detectBackend, namespacePrefix, runCommand } from '../exec.js';
import { traceIptables } from './iptables-trace.js';
import { traceTablesFromJSON } from './nft-json.js';
import { traceNft } from './nft-trace.js';
import type { TracePacket, TraceResult } from './packet.js';

/** Where the rules are read from. */
export interface TraceSource {
  /** `nft -j list ruleset` output, or undefined when nft is missing. */
  nftRuleset(): Promise<string | undefined>;
  /** iptables-save output of the family (nat + filter), or undefined when unavailable. */
  iptablesSave(family: 'IPv4' | 'IPv6'): Promise<string | undefined>;
  /** The node's addresses. */
  localIPs(): Promise<string[]>;
}

/** Reads everything from the kernel (optionally in a network namespace). */
export function kernelTraceSource(ns: { netns?: string } = {}): TraceSource {
  const pre = namespacePrefix(ns);
  return {
    async nftRuleset() {
      const r = await runCommand([...pre, 'nft', '-j', 'list', 'ruleset']);
      return r.code === 0 ? r.stdout : undefined;
    },
    async iptablesSave(family) {
      try {
        const backend = await detectBackend(ns);
        return await new ExecIptables({ ...ns, family, backend }).save();
      } catch {
        return undefined;
      }
    },
    async localIPs() {
      const r = await runCommand([...pre, 'ip', '-j', 'addr', 'show']);
      if (r.code !== 0) return [];
      const links = JSON.parse(r.stdout) as { addr_info?: { local?: string }[] }[];
      return links.flatMap((l) => (l.addr_info ?? []).map((a) => a.local ?? '')).filter((a) => a !== '');
    },
  };
}

/** One traced mode. */
export interface ModeTrace {
  mode: 'nftables' | 'iptables';
  result: TraceResult;
}

/** Traces `pkt` through whichever modes have rules (or only `mode`). Throws when no proxy rules are found. */
export async function traceLive(src: TraceSource, pkt: TracePacket, mode: 'auto' | 'nftables' | 'iptables'): Promise<ModeTrace[]> {
  const family = pkt.destIP.includes(':') ? 'IPv6' : 'IPv4';
  const localIPs = await src.localIPs();
  const out: ModeTrace[] = [];
  if (mode !== 'iptables') {
    const json = await src.nftRuleset();
    const tables = json === undefined ? [] : traceTablesFromJSON(json, 'kube-proxy').filter((t) => (t.family === 'ip6') === (family === 'IPv6'));
    if (tables.some((t) => t.chains.size > 0)) out.push({ mode: 'nftables', result: traceNft(tables, pkt, { localIPs }) });
  }
  if (mode !== 'nftables') {
    const save = await src.iptablesSave(family);
    if (save !== undefined && /^:KUBE-SERVICES /m.test(save)) out.push({ mode: 'iptables', result: traceIptables(save, pkt, { localIPs }) });
  }
  if (out.length === 0) throw new Error(`no ${mode === 'auto' ? 'proxy' : mode} rules found for ${family} (is the proxy running here?)`);
  return out;
}

/** Human-readable report. */
export function formatTrace(pkt: TracePacket, traces: readonly ModeTrace[], verbose: boolean): string {
  const lines: string[] = [];
  const dst = pkt.destIP.includes(':') ? `[${pkt.destIP}]:${pkt.destPort}` : `${pkt.destIP}:${pkt.destPort}`;
  lines.push(`packet: ${pkt.protocol} ${pkt.sourceIP} -> ${dst}${pkt.inIface !== undefined ? ` in ${pkt.inIface}` : ''}${pkt.fromNode === true ? ' (from this node)' : ''}`);
  for (const { mode, result } of traces) {
    lines.push('', `${mode} mode:`);
    const groups = new Map<string, { p: number; paths: typeof result.paths }>();
    for (const p of result.paths) {
      const key = p.dnat !== undefined && p.outcome === 'accepted' ? `DNAT to ${p.dnat}${p.masquerade ? ', masqueraded' : ', not masqueraded'}` : p.outcome === 'accepted' ? `accepted, not DNATed (not a service address)${p.masquerade ? ', masqueraded' : ''}` : `${p.outcome.toUpperCase()}${p.reason !== undefined ? `: ${p.reason}` : ''}`;
      const g = groups.get(key) ?? { p: 0, paths: [] };
      g.p += p.probability;
      g.paths.push(p);
      groups.set(key, g);
    }
    for (const [k, g] of groups) lines.push(`  ${(g.p * 100).toFixed(1).padStart(5)}%  ${k}`);
    const shown = verbose ? result.paths : [...groups.values()].map((g) => g.paths[0]).filter((p) => p !== undefined);
    for (const p of shown) {
      lines.push(`  path (${(p.probability * 100).toFixed(1)}%): ${p.outcome}${p.dnat !== undefined ? ` -> ${p.dnat}` : ''}`);
      for (const s of p.steps) lines.push(`    [${s.hook}] ${s.chain}: ${s.what}${s.rule !== undefined ? `    (${s.rule})` : ''}`);
    }
    if (result.unknown.length > 0) lines.push(`  note: rule parts not understood (result may be incomplete): ${result.unknown.slice(0, 3).join(' | ')}`);
  }
  return lines.join('\n');
}

function ip(v: string): string {
  if (!ipaddr.isValid(v)) throw new Error(`invalid IP address ${JSON.stringify(v)}`);
  return ipaddr.parse(v).toString();
}

/** Entry point of `nodelet trace <args>`; returns the exit code. `src` is injected by tests. */
export async function runTrace(args: readonly string[], out: (s: string) => void = (s) => process.stdout.write(`${s}\n`), src?: TraceSource): Promise<number> {
  const cmd = new Command('nodelet trace')
    .description("Explains what the proxy's live rules (nftables or iptables) do with one packet")
    .requiredOption('--src <ip>', 'source IP of the packet')
    .requiredOption('--dst <ip>', 'destination IP (a ClusterIP, external/LB IP or node IP)')
    .requiredOption('--dport <port>', 'destination port')
    .addOption(new Option('--proto <protocol>', 'protocol').choices(['tcp', 'udp', 'sctp']).default('tcp'))
    .option('--in-iface <name>', 'incoming interface')
    .option('--from-node', 'the packet is sent by a process on this node (output path)')
    .addOption(new Option('--mode <mode>', 'which rules to trace').choices(['auto', 'nftables', 'iptables']).default('auto'))
    .option('--netns <name>', 'read the rules of this network namespace (ip netns)')
    .option('--json', 'print JSON')
    .option('-v, --verbose', 'print every path, not one per outcome')
    .exitOverride()
    .configureOutput({ writeOut: (s) => out(s.trimEnd()), writeErr: (s) => out(s.trimEnd()) });
  try {
    cmd.parse(['node', 'trace', ...args]);
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    throw err;
  }
  const o = cmd.opts<{ src: string; dst: string; dport: string; proto: 'tcp' | 'udp' | 'sctp'; inIface?: string; fromNode?: boolean; mode: 'auto' | 'nftables' | 'iptables'; netns?: string; json?: boolean; verbose?: boolean }>();
  try {
    const port = Number(o.dport);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`invalid port ${JSON.stringify(o.dport)}`);
    const pkt: TracePacket = { sourceIP: ip(o.src), destIP: ip(o.dst), destPort: port, protocol: o.proto, ...(o.inIface !== undefined ? { inIface: o.inIface } : {}), ...(o.fromNode === true ? { fromNode: true } : {}) };
    const traces = await traceLive(src ?? kernelTraceSource(o.netns !== undefined ? { netns: o.netns } : {}), pkt, o.mode);
    out(o.json === true ? JSON.stringify({ packet: pkt, traces }, null, 2) : formatTrace(pkt, traces, o.verbose === true));
    return 0;
  } catch (err) {
    out(`nodelet trace: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}
