/**
 * Assembles the iptables-restore input of one sync from rendered rules. Pure.
 *
 * iptables-nft's `--noflush` restore is quadratic in the number of chains written in ONE transaction (5,000
 * services × 5 endpoints in one COMMIT took minutes; see docs/benchmarks.md), so a full sync writes the service
 * chains in batches of `batchSize` services, each batch its own `*nat … COMMIT` transaction in the SAME
 * iptables-restore run, and swaps KUBE-SERVICES/KUBE-NODEPORTS over in the last transaction.
 *
 * Atomicity: the batches only CREATE chains the kernel does not have yet (`existingNatChain` says which it has);
 * nothing references them until the last transaction. Every chain the kernel already has (a changed service's SVC
 * chain, KUBE-MARK-MASQ, …) is rewritten in that last transaction, together with the top-level chains and the
 * deletion of stale chains. If the run fails at any batch, the kernel's reachable rules are therefore still exactly
 * the old set (plus unreferenced new chains, removed by the next full sync); if it succeeds, exactly the new set —
 * as with kube-proxy's single transaction, while the many new chains of a large first sync still go in batches.
 *
 * Partial syncs also skip the top-level chains whose content did not change since the last successful write
 * (`previous`): a single endpoint change then rewrites one service's chains only, not the 5,000-rule KUBE-SERVICES.
 *
 * Memory: the transactions are produced lazily, one at a time, while they are piped into iptables-restore, and
 * `release` is told after each batch which services' rules are in the input, so the whole restore text (18 MB at
 * 10,000 services) never exists at once.
 */
import type { ServiceRules } from './render-service.js';
import { CANARY_CHAIN, FILTER_TOP_CHAINS, jumpInsertLine, type JumpRule, type TopRules } from './render-top.js';

/** Text of the top-level chains as last written (compared to skip unchanged ones in partial syncs). */
export interface WrittenTop {
  filter: string;
  natHeader: string;
  natServices: string;
  natNodePorts: string;
}

/** Input of {@link buildRestoreData}. */
export interface RestoreInput {
  /** All service ports in a stable order. */
  services: readonly (readonly [string, ServiceRules])[];
  top: TopRules;
  /** Service ports whose nat chains are (re)written, or 'all'. */
  write: ReadonlySet<string> | 'all';
  /** A full sync: top-level chains are always written (`previous` is ignored). */
  full: boolean;
  /** Nothing top-level changed: `services` holds only the written ones; no filter/KUBE-SERVICES/KUBE-NODEPORTS. */
  skipTop?: boolean;
  /** nat chains to flush and delete (not referenced by anything written). */
  staleNatChains: readonly string[];
  /** Jump rules missing from built-in chains. */
  jumps: readonly JumpRule[];
  /** Declare the canary chains (full syncs). */
  canary: boolean;
  /** Services per nat transaction when writing many (0 = one transaction). */
  batchSize: number;
  /** What the last successful sync wrote; unchanged top-level chains are skipped (never on a full sync). */
  previous?: WrittenTop;
  /** Called with each service port whose nat chain lines have been turned into restore text (may drop them). */
  release?: (name: string) => void;
  /** The nat chains (with lines) of a written service port, when not those in `services` (deferred rendering). */
  chainsOf?: (name: string) => ReadonlyMap<string, readonly string[]>;
  /**
   * Whether the kernel has nat chain `chain` now (batched writes only create chains it does not have; see the module
   * comment). Default: every chain exists, so everything goes in the last transaction.
   */
  existingNatChain?: (chain: string) => boolean;
}

/**
 * The restore text plus counts for metrics. `chunks` is single-use and lazy; `bytes`, `natRules` and `transactions`
 * are final once it has been iterated to the end.
 */
export interface RestoreData {
  /** The restore text in pieces (transactions `*table … COMMIT\n`, split into small strings); may yield nothing. */
  chunks: Iterable<string>;
  bytes: number;
  filterRules: number;
  natRules: number;
  /** nat rules of all services, written or not (kubeproxy_sync_proxy_rules_iptables_total{table="nat"}). */
  natRulesTotal: number;
  transactions: number;
  written: WrittenTop;
  /** Names of the service nat chains written (final once `chunks` has been iterated). */
  writtenNatChains: string[];
}

const chainLine = (c: string): string => `:${c} - [0:0]`;
/** Lines per string handed to iptables-restore (about 30 KB). */
const PIECE_LINES = 200;

/** Builds the restore input. Pure apart from `input.release`, which is called while `chunks` is iterated. */
export function buildRestoreData(input: RestoreInput): RestoreData {
  const { top, services } = input;
  const prev = input.full ? undefined : input.previous;

  // Collect the top-level content (one or two lines per service: kept, it is compared with the next sync's).
  const fs: string[] = [];
  const fe: string[] = [];
  const fn: string[] = [];
  const ff: string[] = [];
  const servicesRules: string[] = [];
  const nodePortRules: string[] = [];
  let natRulesTotal = top.natPostrouting.length + top.natMarkMasq.length + top.natServicesTail.length;
  for (const [, r] of services) {
    fs.push(...r.filterServices);
    fe.push(...r.filterExternal);
    fn.push(...r.filterNodePorts);
    ff.push(...r.filterFirewall);
    servicesRules.push(...r.natServices);
    nodePortRules.push(...r.natNodePorts);
    natRulesTotal += r.natServices.length + r.natNodePorts.length;
    for (const rules of r.natChains.values()) natRulesTotal += rules.length;
  }
  servicesRules.push(...top.natServicesTail);
  const filterChains = [...FILTER_TOP_CHAINS];
  if (top.filterKubeletFirewall !== null) filterChains.push('KUBE-FIREWALL');
  const filterRules = [...fs, ...fe, ...top.filterForward, ...fn, ...ff, ...(top.filterKubeletFirewall ?? [])];
  const header = [chainLine('KUBE-MARK-MASQ'), chainLine('KUBE-POSTROUTING'), ...top.natMarkMasq, ...top.natPostrouting];
  const written: WrittenTop = input.skipTop
    ? { filter: '', natHeader: '', natServices: '', natNodePorts: '' }
    : {
        filter: [...filterChains, ...filterRules].join('\n'),
        natHeader: header.join('\n'),
        natServices: servicesRules.join('\n'),
        natNodePorts: nodePortRules.join('\n'),
      };
  const changed = (k: keyof WrittenTop): boolean => !input.skipTop && (prev === undefined || prev[k] !== written[k]);
  const out: RestoreData = { chunks: [], bytes: 0, filterRules: filterRules.length, natRules: 0, natRulesTotal, transactions: 0, written, writtenNatChains: [] };
  out.chunks = transactions(input, out, {
    filterChains,
    filterRules,
    header,
    servicesRules,
    nodePortRules,
    writeFilter: changed('filter'),
    writeHeader: changed('natHeader'),
    writeServices: changed('natServices'),
    writeNodePorts: changed('natNodePorts'),
  });
  return out;
}

interface TopContent {
  filterChains: string[];
  filterRules: string[];
  header: string[];
  servicesRules: string[];
  nodePortRules: string[];
  writeFilter: boolean;
  writeHeader: boolean;
  writeServices: boolean;
  writeNodePorts: boolean;
}

/** The transactions, produced one at a time; counts go into `out`. */
function* transactions(input: RestoreInput, out: RestoreData, t: TopContent): Generator<string, void, undefined> {
  // One transaction as pieces of at most PIECE_LINES lines: strings stay small (V8 puts strings over ~128 KB in
  // its large-object space, where a 10,000-service sync's batches would pile up as old-generation garbage).
  const text = (...lines: string[]): string[] => {
    const pieces: string[] = [];
    for (let i = 0; i < lines.length; i += PIECE_LINES) {
      const s = `${lines.slice(i, i + PIECE_LINES).join('\n')}\n`;
      out.bytes += s.length;
      pieces.push(s);
    }
    out.transactions++;
    return pieces;
  };
  const { services } = input;
  const writeAll = input.write === 'all';
  const writes = (name: string): boolean => writeAll || (input.write as ReadonlySet<string>).has(name);

  if (input.canary) yield* text('*mangle', chainLine(CANARY_CHAIN), 'COMMIT');

  // nat
  const svcChainLines: string[] = [];
  const svcRuleLines: string[] = [];
  const inBatch: string[] = [];
  const writeCount = writeAll ? services.length : (input.write as ReadonlySet<string>).size;
  const batched = input.batchSize > 0 && writeCount > input.batchSize;
  const batchText = (): string[] => {
    const s = text('*nat', ...svcChainLines, ...svcRuleLines, 'COMMIT');
    svcChainLines.length = 0;
    svcRuleLines.length = 0;
    for (const n of inBatch) input.release?.(n);
    inBatch.length = 0;
    return s;
  };
  const existing = input.existingNatChain ?? ((): boolean => true);
  // Chains the kernel has already: rewritten in the last transaction only (atomicity, see the module comment).
  const lastChainLines: string[] = [];
  const lastRuleLines: string[] = [];
  const headerFirst = batched && t.writeHeader && !existing('KUBE-MARK-MASQ');
  if (headerFirst) {
    // KUBE-MARK-MASQ must exist before the batches jump to it; it does not exist yet, so nothing uses it.
    yield* text('*nat', ...t.header, 'COMMIT');
    out.natRules += t.header.length - 2;
  }
  for (const [name, r] of services) {
    if (!writes(name)) continue;
    for (const [chain, rules] of input.chainsOf?.(name) ?? r.natChains) {
      const last = !batched || existing(chain);
      (last ? lastChainLines : svcChainLines).push(chainLine(chain));
      const dst = last ? lastRuleLines : svcRuleLines;
      for (const l of rules) dst.push(l);
      out.natRules += rules.length;
      out.writtenNatChains.push(chain);
    }
    inBatch.push(name);
    if (batched && inBatch.length >= input.batchSize && svcChainLines.length > 0) yield* batchText();
  }
  if (batched && svcChainLines.length > 0) yield* batchText();
  // filter: small, rewritten whole when anything in it changed; after the batches, right before the last nat
  // transaction, so a failed batch leaves it old too.
  const filterJumps = input.jumps.filter((j) => j.table === 'filter').map(jumpInsertLine);
  if (t.writeFilter || filterJumps.length > 0 || input.canary) {
    const fchains = input.canary ? [...t.filterChains, CANARY_CHAIN] : t.filterChains;
    yield* text('*filter', ...fchains.map(chainLine), ...t.filterRules, ...filterJumps, 'COMMIT');
  }
  const chains: string[] = [];
  const rules: string[] = [];
  if (t.writeHeader && !headerFirst) {
    chains.push(...t.header.slice(0, 2));
    rules.push(...t.header.slice(2));
  }
  if (t.writeServices) {
    chains.push(chainLine('KUBE-SERVICES'));
    rules.push(...t.servicesRules);
  }
  if (t.writeNodePorts) {
    chains.push(chainLine('KUBE-NODEPORTS'));
    rules.push(...t.nodePortRules);
  }
  if (input.canary) chains.push(chainLine(CANARY_CHAIN));
  const natJumps = input.jumps.filter((j) => j.table === 'nat').map(jumpInsertLine);
  out.natRules += rules.length;
  if (chains.length + lastChainLines.length + input.staleNatChains.length + natJumps.length > 0) {
    const stale = input.staleNatChains;
    const s = text('*nat', ...chains, ...lastChainLines, ...stale.map(chainLine), ...rules, ...lastRuleLines, ...stale.map((c) => `-X ${c}`), ...natJumps, 'COMMIT');
    for (const n of inBatch) input.release?.(n);
    yield* s;
  }
}
