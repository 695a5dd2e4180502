/**
 * Removes everything the proxy installed (for `nodelet --cleanup`): the jump rules from built-in chains, every
 * KUBE-SVC/SVL/EXT/FW/SEP chain, the top-level chains and the canaries. Other programs' rules are left alone.
 * Unlike upstream kube-proxy, the filter KUBE-FIREWALL chain (localnet DROP) and its plain INPUT/OUTPUT jumps are
 * removed too: in nodelet only the proxy role creates them, so nothing else would ever remove them. The chain is kept
 * only when some other rule (not one of the proxy's exact jumps) still references it.
 */
import { errorMessage, type Logger } from '../util/index.js';
import { parseSave, type Iptables, type SavedTable } from './iptables.js';
import { isServiceChainName } from './names.js';
import { CANARY_CHAIN, FILTER_TOP_CHAINS, JUMP_RULES, KUBELET_JUMP_RULES, type JumpRule, type Table } from './render-top.js';

const NAT_TOP = ['KUBE-SERVICES', 'KUBE-NODEPORTS', 'KUBE-POSTROUTING', 'KUBE-MARK-MASQ', CANARY_CHAIN];
const FILTER_TOP = [...FILTER_TOP_CHAINS, CANARY_CHAIN];
const BATCH = 1000;
const FIREWALL = 'KUBE-FIREWALL';

/** True when a rule of a chain outside `deleting` still jumps (or goes) to `target`. */
function referencedElsewhere(rules: ReadonlyMap<string, readonly string[]>, target: string, deleting: (c: string) => boolean): boolean {
  const ref = new RegExp(`\\s-[jg] ${target}(\\s|$)`);
  for (const [chain, list] of rules) if (!deleting(chain) && list.some((l) => ref.test(l))) return true;
  return false;
}

/** Restore text flushing then deleting `chains` of `table` (all flushes first, so references never block a delete). */
export function deleteChainsData(table: Table, chains: readonly string[]): string {
  const out: string[] = [];
  for (let i = 0; i < chains.length; i += BATCH) out.push(`*${table}`, ...chains.slice(i, i + BATCH).map((c) => `:${c} - [0:0]`), 'COMMIT');
  for (let i = 0; i < chains.length; i += BATCH) out.push(`*${table}`, ...chains.slice(i, i + BATCH).map((c) => `-X ${c}`), 'COMMIT');
  out.push('');
  return out.join('\n');
}

/** True when the dump (undefined: unknown) may hold jump `j` (a rule of its built-in chain jumping to its target). */
function mayHoldJump(dump: ReadonlyMap<Table, SavedTable> | undefined, j: JumpRule): boolean {
  if (dump === undefined) return true;
  const ref = ` -j ${j.to}`;
  return dump.get(j.table)?.rules.get(j.from)?.some((l) => l.endsWith(ref) || l.includes(`${ref} `)) ?? false;
}

/**
 * Removes the proxy's rules. Returns true when everything went cleanly (errors are logged, never thrown). Starts from
 * one dump of all tables: only jumps it shows are checked and deleted, so a node without iptables-mode rules (the
 * nftables mode's start, every time) costs one iptables-save instead of one iptables process per jump rule.
 */
export async function cleanupIptables(ipt: Iptables, logger: Logger): Promise<boolean> {
  let clean = true;
  const tables = ['nat', 'filter', 'mangle'] as const;
  let dump: Map<Table, SavedTable> | undefined = await ipt.save().then(
    (text) => new Map(tables.map((t) => [t, parseSave(text, t)] as const)),
    () => undefined,
  );
  for (const j of [...JUMP_RULES, ...KUBELET_JUMP_RULES]) {
    if (!mayHoldJump(dump, j)) continue;
    const args = [...j.args, '-j', j.to];
    // A rule may have been inserted more than once (e.g. by kube-proxy and nodelet); delete every copy.
    for (let i = 0; i < 10 && (await ipt.ruleExists(j.table, j.from, args)); i++) {
      await ipt.deleteRule(j.table, j.from, args);
      // The dump predates the deletion (the KUBE-FIREWALL reference check below needs the state after it).
      dump = undefined;
    }
  }
  const plan: [Table, (c: string) => boolean][] = [
    ['nat', (c) => isServiceChainName(c) || NAT_TOP.includes(c)],
    ['filter', (c) => FILTER_TOP.includes(c)],
    ['mangle', (c) => c === CANARY_CHAIN],
  ];
  for (const [table, ours] of plan) {
    try {
      const saved = dump?.get(table) ?? parseSave(await ipt.save(table));
      const chains = saved.chains.filter(ours);
      if (table === 'filter' && saved.chains.includes(FIREWALL)) {
        // Only the proxy's exact jumps were deleted above; a foreign reference keeps the chain (a delete would fail).
        if (referencedElsewhere(saved.rules, FIREWALL, ours)) logger.warn({ table, chain: FIREWALL }, 'Chain still referenced by other rules; leaving it');
        else chains.push(FIREWALL);
      }
      if (chains.length > 0) await ipt.restore(deleteChainsData(table, chains), { noflush: true });
    } catch (err) {
      clean = false;
      logger.error({ table, err: errorMessage(err) }, 'Failed to remove proxy chains');
    }
  }
  return clean;
}
