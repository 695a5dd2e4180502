/** Network counters from /proc/<pid>/net/dev (the network namespace of that process). */

/** Counters of one interface. */
export interface InterfaceCounters {
  name: string;
  rxBytes: number;
  rxPackets: number;
  rxErrors: number;
  rxDropped: number;
  txBytes: number;
  txPackets: number;
  txErrors: number;
  txDropped: number;
}

/** Parses /proc/net/dev, skipping the loopback device (cAdvisor ignores it). */
export function parseNetDev(text: string): InterfaceCounters[] {
  const out: InterfaceCounters[] = [];
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim();
    if (name === '' || name === 'lo' || name.includes('|')) continue;
    const f = line.slice(colon + 1).trim().split(/\s+/).map(Number);
    if (f.length < 16 || f.some((v) => !Number.isFinite(v))) continue;
    out.push({
      name,
      rxBytes: f[0]!,
      rxPackets: f[1]!,
      rxErrors: f[2]!,
      rxDropped: f[3]!,
      txBytes: f[8]!,
      txPackets: f[9]!,
      txErrors: f[10]!,
      txDropped: f[11]!,
    });
  }
  return out;
}

/** Host interfaces cAdvisor leaves out of the node's network stats (by name prefix). */
const IGNORED_HOST_PREFIXES = ['lo', 'veth', 'docker', 'nerdctl'];

/** The node's interfaces as cAdvisor counts them (no loopback, veth or docker bridges). */
export function hostInterfaces(all: InterfaceCounters[]): InterfaceCounters[] {
  return all.filter((i) => !IGNORED_HOST_PREFIXES.some((p) => i.name.startsWith(p)));
}
