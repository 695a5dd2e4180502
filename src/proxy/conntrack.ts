/**
 * Stale UDP conntrack entries (upstream conntrack.CleanStaleEntries): when a UDP service goes away, loses an
 * endpoint, or gets its first endpoint, entries pinned to the old state must be deleted or clients keep talking to
 * nothing. Computing what to delete is pure; `ExecConntrack` runs the `conntrack` tool.
 */
import type { Logger } from '../util/index.js';
import type { ServiceEndpoints } from './endpoints.js';
import { endpointPortKey } from './endpoints.js';
import { namespacePrefix, runCommand } from './exec.js';
import type { ServicePortInfo } from './serviceport.js';
import type { Change } from './tracker.js';

/** One `conntrack -D` filter (UDP only). */
export type ConntrackFilter =
  | { kind: 'origDst'; ip: string; dnat?: string }
  | { kind: 'dport'; port: number; dnat?: string };

/** Deletes conntrack entries. */
export interface Conntrack {
  clear(filters: readonly ConntrackFilter[]): Promise<void>;
}

function serviceIPs(s: ServicePortInfo): string[] {
  return [s.clusterIP, ...s.externalIPs, ...s.loadBalancerVIPs];
}

const udp = (s: ServicePortInfo): boolean => s.protocol === 'udp';

/** Filters for the changes of one sync. `ports(name)` are the current ports of a service. Pure. */
export function staleConntrackFilters(
  svcChanges: readonly Change<Map<string, ServicePortInfo>>[],
  epChanges: readonly Change<ServiceEndpoints>[],
  ports: (service: string) => Map<string, ServicePortInfo> | undefined,
): ConntrackFilter[] {
  const out: ConntrackFilter[] = [];
  const seen = new Set<string>();
  const push = (f: ConntrackFilter): void => {
    const k = JSON.stringify(f);
    if (!seen.has(k)) {
      seen.add(k);
      out.push(f);
    }
  };
  // Deleted or changed UDP service ports: entries to their old IPs/ports.
  for (const c of svcChanges) {
    for (const [name, old] of c.previous ?? []) {
      if (!udp(old)) continue;
      const now = c.current?.get(name);
      for (const ip of serviceIPs(old)) if (now === undefined || !serviceIPs(now).includes(ip)) push({ kind: 'origDst', ip });
      if (old.nodePort !== 0 && now?.nodePort !== old.nodePort) push({ kind: 'dport', port: old.nodePort });
    }
  }
  for (const c of epChanges) {
    const svcPorts = ports(c.name);
    if (svcPorts === undefined) continue;
    for (const s of svcPorts.values()) {
      if (!udp(s)) continue;
      const key = endpointPortKey(s.portName, s.protocol);
      const before = (c.previous?.get(key) ?? []).filter((e) => e.ready || (e.serving && e.terminating));
      const after = (c.current?.get(key) ?? []).filter((e) => e.ready || (e.serving && e.terminating));
      const afterSet = new Set(after.map((e) => e.endpoint));
      for (const e of before) {
        if (afterSet.has(e.endpoint)) continue;
        for (const ip of serviceIPs(s)) push({ kind: 'origDst', ip, dnat: e.ip });
        if (s.nodePort !== 0) push({ kind: 'dport', port: s.nodePort, dnat: e.ip });
      }
      // First endpoints: entries created while the service rejected traffic never got DNATed.
      if (before.length === 0 && after.length > 0) {
        for (const ip of serviceIPs(s)) push({ kind: 'origDst', ip });
        if (s.nodePort !== 0) push({ kind: 'dport', port: s.nodePort });
      }
    }
  }
  return out;
}

/** Runs `conntrack -D` (exit 1 = nothing matched, not an error). */
export class ExecConntrack implements Conntrack {
  readonly #ns: { netns?: string; netnsPid?: number };
  readonly #family: 'IPv4' | 'IPv6';
  readonly #log: Logger;

  constructor(options: { netns?: string; netnsPid?: number; family?: 'IPv4' | 'IPv6'; logger: Logger }) {
    this.#ns = { netns: options.netns, netnsPid: options.netnsPid };
    this.#family = options.family ?? 'IPv4';
    this.#log = options.logger;
  }

  async clear(filters: readonly ConntrackFilter[]): Promise<void> {
    for (const f of filters) {
      const args = ['conntrack', '-D', '-f', this.#family === 'IPv4' ? 'ipv4' : 'ipv6', '-p', 'udp'];
      if (f.kind === 'origDst') args.push('--orig-dst', f.ip);
      else args.push('--dport', String(f.port));
      if (f.dnat !== undefined) args.push('--dst-nat', f.dnat);
      const r = await runCommand([...namespacePrefix(this.#ns), ...args]);
      if (r.code !== 0 && r.code !== 1) this.#log.warn({ args, stderr: r.stderr.trim() }, 'Failed to delete stale conntrack entries');
    }
  }
}
