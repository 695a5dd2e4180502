/**
 * The iptables/ip6tables chains an upstream kubelet creates on start (KUBE-FIREWALL, KUBE-KUBELET-CANARY,
 * KUBE-IPTABLES-HINT) and does not remove on exit: benchmarks that run one note whether they were there before and
 * remove them afterwards when no other kubelet runs.
 */
import { spawnSync } from 'node:child_process';

const CHAINS = ['KUBE-FIREWALL', 'KUBE-KUBELET-CANARY', 'KUBE-IPTABLES-HINT'];
const BINS = ['iptables', 'ip6tables'];
const TABLES = ['filter', 'nat', 'mangle'];

const rules = (bin: string, table: string): string[] => spawnSync(bin, ['-w', '-t', table, '-S'], { encoding: 'utf8' }).stdout.split('\n');

/** True when any of the kubelet's chains exists in any table of iptables or ip6tables. */
export function kubeletChainsPresent(): boolean {
  return BINS.some((bin) => TABLES.some((t) => rules(bin, t).some((l) => CHAINS.some((c) => l === `-N ${c}`))));
}

/** True when a process named `kubelet` other than `exceptPid` runs on the machine. */
export function otherKubeletRunning(exceptPid?: number): boolean {
  const out = spawnSync('pgrep', ['-x', 'kubelet'], { encoding: 'utf8' }).stdout;
  return out.split('\n').some((p) => p !== '' && Number(p) !== exceptPid);
}

/** Deletes the rules jumping to the kubelet's chains, then the chains, in every table of iptables and ip6tables. */
export function removeKubeletChains(): void {
  for (const bin of BINS) {
    for (const table of TABLES) {
      const lines = rules(bin, table);
      for (const l of lines) {
        if (!l.startsWith('-A ') || !CHAINS.some((c) => l.includes(`-j ${c}`))) continue;
        // The -S output is a valid argument list except for quoted comments: split on spaces outside quotes.
        const args = (l.slice(3).match(/"[^"]*"|\S+/g) ?? []).map((a) => a.replace(/^"(.*)"$/, '$1'));
        spawnSync(bin, ['-w', '-t', table, '-D', ...args], { stdio: 'ignore' });
      }
      for (const c of CHAINS) {
        if (!lines.includes(`-N ${c}`)) continue;
        spawnSync(bin, ['-w', '-t', table, '-F', c], { stdio: 'ignore' });
        spawnSync(bin, ['-w', '-t', table, '-X', c], { stdio: 'ignore' });
      }
    }
  }
}
