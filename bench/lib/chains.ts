/**
 * Host iptables/ip6tables chains a benchmark's agents leave behind: the upstream kubelet's KUBE-FIREWALL,
 * KUBE-KUBELET-CANARY and KUBE-IPTABLES-HINT, the CNI portmap plugin's CNI-* chains. A benchmark snapshots the chains
 * before it starts anything and, at the end, removes those that appeared since (never one that was there before).
 */
import { spawnSync } from 'node:child_process';

const TOOLS = ['iptables', 'ip6tables'] as const;
const TABLES = ['filter', 'nat', 'mangle', 'raw'] as const;

/** One chain in one table of one tool, e.g. `iptables filter KUBE-FIREWALL`. */
export interface ChainRef {
  tool: (typeof TOOLS)[number];
  table: (typeof TABLES)[number];
  chain: string;
}

const key = (c: ChainRef): string => `${c.tool} ${c.table} ${c.chain}`;

function rules(tool: string, table: string): string[] {
  const r = spawnSync(tool, ['-w', '5', '-t', table, '-S'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.split('\n').filter((l) => l !== '') : [];
}

/** The user-defined chains whose names match `pattern`, in every table of iptables and ip6tables. */
export function listChains(pattern: RegExp): ChainRef[] {
  const out: ChainRef[] = [];
  for (const tool of TOOLS) {
    for (const table of TABLES) {
      for (const l of rules(tool, table)) {
        const m = /^-N (\S+)$/.exec(l);
        if (m?.[1] !== undefined && pattern.test(m[1])) out.push({ tool, table, chain: m[1] });
      }
    }
  }
  return out;
}

/** The chains matching `pattern` now that are not in `before` (a {@link listChains} snapshot). */
export function newChains(before: readonly ChainRef[], pattern: RegExp): ChainRef[] {
  const had = new Set(before.map(key));
  return listChains(pattern).filter((c) => !had.has(key(c)));
}

/**
 * The `-D <chain> <rule…>` argument lists that delete every rule of an `iptables -S` dump jumping to `target`, except
 * rules inside the chains in `skip` (they go with their chain). Pure: `-S` prints rules in the syntax `-D` accepts;
 * quoted words (comments) become one argument without the quotes, as a shell would pass them.
 */
export function jumpsTo(dump: readonly string[], target: string, skip: ReadonlySet<string> = new Set()): string[][] {
  const out: string[][] = [];
  for (const l of dump) {
    const m = /^-A (\S+) (.*)$/.exec(l);
    if (m?.[1] === undefined || m[2] === undefined || skip.has(m[1])) continue;
    const args = m[2].match(/"[^"]*"|\S+/g)?.map((a) => a.replace(/^"(.*)"$/, '$1')) ?? [];
    const j = args.findIndex((a, i) => (a === '-j' || a === '-g') && args[i + 1] === target);
    if (j >= 0) out.push(['-D', m[1], ...args]);
  }
  return out;
}

/**
 * Removes `chains`: first every rule elsewhere that jumps to one of them, then flushes and deletes them (in two
 * passes, so chains jumping to each other go too). Best effort and idempotent; returns the ones still present.
 */
export function removeChains(chains: readonly ChainRef[]): ChainRef[] {
  for (const c of chains) {
    const skip = new Set(chains.filter((o) => o.tool === c.tool && o.table === c.table).map((o) => o.chain));
    for (const del of jumpsTo(rules(c.tool, c.table), c.chain, skip)) spawnSync(c.tool, ['-w', '5', '-t', c.table, ...del], { stdio: 'ignore' });
  }
  for (let pass = 0; pass < 2; pass++) {
    for (const c of chains) {
      spawnSync(c.tool, ['-w', '5', '-t', c.table, '-F', c.chain], { stdio: 'ignore' });
      spawnSync(c.tool, ['-w', '5', '-t', c.table, '-X', c.chain], { stdio: 'ignore' });
    }
  }
  const left = new Set(listChains(/./).map(key));
  return chains.filter((c) => left.has(key(c)));
}

/** True when a process named `comm` (e.g. `kubelet`) other than `except` runs on this machine. */
export function otherProcessRuns(comm: string, except: readonly number[] = []): boolean {
  const r = spawnSync('ps', ['-eo', 'pid=,stat=,comm='], { encoding: 'utf8' });
  return r.stdout.split('\n').some((l) => {
    const [pid, stat, name] = l.trim().split(/\s+/);
    return name === comm && !stat?.startsWith('Z') && !except.includes(Number(pid));
  });
}

/** Removes the chains this run's agents and plugins created (the kubelet's only when no other kubelet runs). */
export function removeLeftoverChains(before: ChainRef[]): string {
  const kube = newChains(before, /^KUBE-(FIREWALL|KUBELET-CANARY|IPTABLES-HINT)$/);
  const otherKubelet = otherProcessRuns('kubelet');
  // CNI-* chains: only empty ones (a non-empty one may be another run's portmap state).
  const cni = newChains(before, /^CNI-/).filter((c) => spawnSync(c.tool, ['-w', '5', '-t', c.table, '-S', c.chain], { encoding: 'utf8' }).stdout.trim().split('\n').length <= 1);
  const remove = [...(otherKubelet ? [] : kube), ...cni];
  const left = removeChains(remove);
  const msg = `chains: ${kube.length} KUBE-* new (${otherKubelet ? 'left: another kubelet runs' : 'removed'}), ${cni.length} empty CNI-* removed, ${left.length} could not be removed`;
  console.log(msg);
  return msg;
}
