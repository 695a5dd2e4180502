/** Which jump rules from built-in chains are missing, judged from iptables-save output. Pure. */
import type { SavedTable } from './iptables.js';
import type { JumpRule } from './render-top.js';

/**
 * A jump counts as present when its source chain has a rule jumping to the target with the same comment (argument
 * order and quoting may differ between writers, e.g. kube-proxy vs nodelet).
 */
export function missingJumps(wanted: readonly JumpRule[], saved: { nat: SavedTable; filter: SavedTable }): JumpRule[] {
  return wanted.filter((j) => {
    if (j.table === 'mangle') return false;
    const rules = saved[j.table].rules.get(j.from) ?? [];
    const ci = j.args.indexOf('--comment');
    const comment = ci >= 0 ? (j.args[ci + 1] ?? '') : '';
    return !rules.some((r) => r.endsWith(` -j ${j.to}`) && (comment === '' || r.includes(comment)));
  });
}
