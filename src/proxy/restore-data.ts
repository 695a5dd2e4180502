/**
 * Assembles the iptables-restore input of one sync from rendered rules. Pure.
 *
 * iptables-nft's `--noflush` restore is quadratic in the number of chains written in ONE transaction (5,000
 * services × 5 endpoints in one COMMIT took minutes; see docs/benchmarks.md), so a full sync writes the service
 * chains in batches of `batchSize` services, each batch its own `*nat … COMMIT` transaction in the SAME
 * iptables-restore run, and swaps KUBE-SERVICES/KUBE-NODEPORTS over in the last transaction. Every batch replaces
 * whole services (their SVC/SVL/EXT/FW/SEP chains together), so traffic sees either the old or the new rules of a
 * service, never a mix. Stale chains are deleted in the last transaction, after nothing jumps to them any more.
 */
import type { ServiceRules } from './render-service.js';
import { CANARY_CHAIN, FILTER_TOP_CHAINS, jumpInsertLine, type JumpRule, type TopRules } from './render-top.js';

/** Input of {@link buildRestoreData}. */
export interface RestoreInput {
  /** All service ports in a stable order. */
  services: readonly (readonly [string, ServiceRules])[];
  top: TopRules;
  /** Service ports whose nat chains are (re)written; 'all' for a full sync. */
  write: ReadonlySet<string> | 'all';
  /** nat chains to flush and delete (not referenced by anything written). */
  staleNatChains: readonly string[];
  /** Jump rules missing from built-in chains. */
  jumps: readonly JumpRule[];
  /** Declare the canary chains (full syncs). */
  canary: boolean;
  /** Services per nat transaction when writing many (0 = one transaction). */
  batchSize: number;
}

/** The restore text plus counts for metrics. */
export interface RestoreData {
  text: string;
  filterRules: number;
  natRules: number;
  /** nat rules of all services, written or not (kubeproxy_sync_proxy_rules_iptables_total{table="nat"}). */
  natRulesTotal: number;
  transactions: number;
}

const chainLine = (c: string): string => `:${c} - [0:0]`;

/** Builds the restore input. */
export function buildRestoreData(input: RestoreInput): RestoreData {
  const out: string[] = [];
  let transactions = 0;
  const { top, services } = input;
  const writeAll = input.write === 'all';
  const writes = (name: string): boolean => writeAll || (input.write as ReadonlySet<string>).has(name);

  if (input.canary) {
    out.push('*mangle', chainLine(CANARY_CHAIN), 'COMMIT');
    transactions++;
  }

  // filter: always rewritten whole (it is small).
  const filterChains = [...FILTER_TOP_CHAINS];
  if (top.filterKubeletFirewall !== null) filterChains.push('KUBE-FIREWALL');
  if (input.canary) filterChains.push(CANARY_CHAIN);
  const filterRules: string[] = [];
  const fs: string[] = [];
  const fe: string[] = [];
  const fn: string[] = [];
  const ff: string[] = [];
  let natRulesTotal = top.natPostrouting.length + top.natMarkMasq.length + top.natServicesTail.length;
  for (const [, r] of services) {
    fs.push(...r.filterServices);
    fe.push(...r.filterExternal);
    fn.push(...r.filterNodePorts);
    ff.push(...r.filterFirewall);
    natRulesTotal += r.natServices.length + r.natNodePorts.length;
    for (const rules of r.natChains.values()) natRulesTotal += rules.length;
  }
  filterRules.push(...fs, ...fe, ...top.filterForward, ...fn, ...ff, ...(top.filterKubeletFirewall ?? []));
  const filterJumps = input.jumps.filter((j) => j.table === 'filter').map(jumpInsertLine);
  out.push('*filter', ...filterChains.map(chainLine), ...filterRules, ...filterJumps, 'COMMIT');
  transactions++;

  // nat
  let natRules = 0;
  const header = [chainLine('KUBE-MARK-MASQ'), chainLine('KUBE-POSTROUTING'), ...top.natMarkMasq, ...top.natPostrouting];
  natRules += top.natMarkMasq.length + top.natPostrouting.length;
  const svcChainLines: string[] = [];
  const svcRuleLines: string[] = [];
  const batched = input.batchSize > 0 && writeAll && services.length > input.batchSize;
  let inBatch = 0;
  const flushBatch = (): void => {
    if (svcChainLines.length === 0) return;
    out.push('*nat', ...svcChainLines, ...svcRuleLines, 'COMMIT');
    transactions++;
    svcChainLines.length = 0;
    svcRuleLines.length = 0;
    inBatch = 0;
  };
  if (batched) {
    // KUBE-MARK-MASQ must exist before the batches jump to it.
    out.push('*nat', ...header, 'COMMIT');
    transactions++;
  }
  const servicesRules: string[] = [];
  const nodePortRules: string[] = [];
  for (const [name, r] of services) {
    servicesRules.push(...r.natServices);
    nodePortRules.push(...r.natNodePorts);
    if (!writes(name)) continue;
    for (const [chain, rules] of r.natChains) {
      svcChainLines.push(chainLine(chain));
      for (const l of rules) svcRuleLines.push(l);
      natRules += rules.length;
    }
    if (batched && ++inBatch >= input.batchSize) flushBatch();
  }
  if (batched) flushBatch();
  servicesRules.push(...top.natServicesTail);
  natRules += servicesRules.length + nodePortRules.length;
  const natChains = [chainLine('KUBE-SERVICES'), chainLine('KUBE-NODEPORTS')];
  if (!batched) natChains.unshift(...header.slice(0, 2));
  if (input.canary) natChains.push(chainLine(CANARY_CHAIN));
  const last = ['*nat', ...natChains, ...svcChainLines];
  last.push(...staleLines(input.staleNatChains).chains);
  if (!batched) last.push(...header.slice(2));
  last.push(...svcRuleLines, ...servicesRules, ...nodePortRules);
  last.push(...staleLines(input.staleNatChains).deletes);
  last.push(...input.jumps.filter((j) => j.table === 'nat').map(jumpInsertLine), 'COMMIT');
  out.push(...last);
  transactions++;
  out.push('');
  return { text: out.join('\n'), filterRules: filterRules.length, natRules, natRulesTotal, transactions };
}

function staleLines(chains: readonly string[]): { chains: string[]; deletes: string[] } {
  return { chains: chains.map(chainLine), deletes: chains.map((c) => `-X ${c}`) };
}
