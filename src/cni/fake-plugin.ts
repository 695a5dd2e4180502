import { attachmentOf, type CachedAttachment } from './cache.js';
import { CniError } from './errors.js';
import { versionAtLeast } from './invoke.js';
import type { CniPlugin } from './plugin.js';
import type { CniResult, NetworkConfigList, RuntimeConf } from './types.js';

/** One recorded call of {@link FakeCniPlugin}. */
export interface FakeCniCall {
  command: 'ADD' | 'DEL' | 'CHECK';
  network: string;
  containerId: string;
  ifName: string;
  netns: string;
  args: [string, string][];
  capabilityArgs: Record<string, unknown>;
}

/** Options for {@link FakeCniPlugin}. */
export interface FakeCniPluginOptions {
  /** First three octets of the IPv4 addresses handed out (default '10.88.0'): `.2` … `.254`. */
  prefix?: string;
  /** Also hand out an IPv6 address per attachment from this /64 prefix (e.g. 'fd00:10:88::'). */
  ipv6Prefix?: string;
  /** Plugin types whose binary is "missing" (validate fails). */
  missingTypes?: string[];
}

/**
 * In-memory {@link CniPlugin}: a host-local-like allocator per network (lowest free address, or the address the
 * `ips` capability asks for when a plugin of the list declares it), a result cache that survives "agent restarts"
 * (keep the instance, build a new CniPodNetwork), recorded calls and injectable failures.
 * Passes the same contract as ExecCniPlugin.
 */
export class FakeCniPlugin implements CniPlugin {
  readonly calls: FakeCniCall[] = [];
  readonly #prefix: string;
  readonly #v6: string | undefined;
  readonly #missing: Set<string>;
  /** network → container/ifName key → allocated host octet. */
  readonly #alloc = new Map<string, Map<string, number>>();
  readonly #cache = new Map<string, CachedAttachment>();
  readonly #failures: { command: FakeCniCall['command']; message: string; afterAlloc: boolean; network: string | undefined }[] = [];
  readonly #broken = new Set<string>();

  constructor(options: FakeCniPluginOptions = {}) {
    this.#prefix = options.prefix ?? '10.88.0';
    this.#v6 = options.ipv6Prefix;
    this.#missing = new Set(options.missingTypes ?? []);
  }

  /**
   * The next `command` (on `network`, or any) fails with `message`; with `afterAlloc` an ADD fails after allocating
   * (like a chained plugin failing after IPAM).
   */
  failNext(command: FakeCniCall['command'], message: string, afterAlloc = false, network?: string): void {
    this.#failures.push({ command, message, afterAlloc, network });
  }

  /** CHECK of this container fails from now on (its interface "vanished"). */
  breakAttachment(containerId: string): void {
    this.#broken.add(containerId);
  }

  /** Drops the cached results of a container (an agent killed before the cache write). */
  forgetCached(containerId: string): void {
    for (const [k, a] of this.#cache) if (a.containerId === containerId) this.#cache.delete(k);
  }

  /** Marks a plugin type missing or present. */
  setMissing(type: string, missing: boolean): void {
    if (missing) this.#missing.add(type);
    else this.#missing.delete(type);
  }

  /** Addresses currently allocated on a network (like host-local's state directory). */
  allocations(network: string): string[] {
    return [...(this.#alloc.get(network)?.values() ?? [])].sort((a, b) => a - b).map((n) => `${this.#prefix}.${n}`);
  }

  async add(list: NetworkConfigList, rt: RuntimeConf): Promise<CniResult> {
    this.#record('ADD', list, rt);
    await this.validate(list);
    const failure = this.#takeFailure('ADD', list.name);
    if (failure !== undefined && !failure.afterAlloc) throw new CniError('plugin-error', `plugin type="${list.plugins[0]?.type ?? ''}" name="${list.name}" failed (add): ${failure.message}`);
    const requested = requestedIps(list, rt);
    const octet = this.#allocate(list.name, `${rt.containerId}/${rt.ifName}`, this.#requestedOctet(list.name, requested));
    if (failure !== undefined) throw new CniError('plugin-error', `plugin type="${list.plugins.at(-1)?.type ?? ''}" name="${list.name}" failed (add): ${failure.message}`);
    const isLo = rt.ifName === 'lo';
    const result: CniResult = {
      cniVersion: list.cniVersion,
      interfaces: [{ name: rt.ifName, sandbox: rt.netns }],
      ips: isLo
        ? [{ address: '127.0.0.1/8', interface: 0 }]
        : [
            { address: `${this.#prefix}.${octet}/24`, gateway: `${this.#prefix}.1`, interface: 0 },
            ...(this.#v6 === undefined ? [] : [{ address: requested.find((a) => a.includes(':')) ?? `${this.#v6}${octet.toString(16)}/64`, interface: 0 }]),
          ],
      routes: [],
      dns: {},
    };
    this.#cache.set(key(list.name, rt), attachmentOf(list.name, list.bytes, rt, result));
    return result;
  }

  async del(list: NetworkConfigList, rt: RuntimeConf): Promise<void> {
    this.#record('DEL', list, rt);
    const failure = this.#takeFailure('DEL', list.name);
    if (failure !== undefined) throw new CniError('plugin-error', `plugin type="${list.plugins[0]?.type ?? ''}" name="${list.name}" failed (del): ${failure.message}`);
    this.#alloc.get(list.name)?.delete(`${rt.containerId}/${rt.ifName}`);
    this.#cache.delete(key(list.name, rt));
  }

  async check(list: NetworkConfigList, rt: RuntimeConf): Promise<void> {
    this.#record('CHECK', list, rt);
    if (!versionAtLeast(list.cniVersion, '0.4.0')) throw new CniError('bad-config', `network ${list.name}: configuration version "${list.cniVersion}" does not support the CHECK command`);
    if (list.disableCheck) return;
    if (this.#cache.get(key(list.name, rt))?.result === undefined) throw new CniError('no-cached-result', `network ${list.name}: no cached result for container ${rt.containerId}`);
    const failure = this.#takeFailure('CHECK', list.name);
    if (failure !== undefined || this.#broken.has(rt.containerId)) {
      throw new CniError('plugin-error', `plugin type="${list.plugins[0]?.type ?? ''}" name="${list.name}" failed (check): ${failure?.message ?? `interface ${rt.ifName} not found`}`);
    }
  }

  async cached(networkName: string, containerId: string, ifName: string): Promise<CachedAttachment | undefined> {
    return this.#cache.get(`${networkName}-${containerId}-${ifName}`);
  }

  async listCached(containerId?: string): Promise<CachedAttachment[]> {
    return [...this.#cache.values()].filter((a) => containerId === undefined || a.containerId === containerId);
  }

  async validate(list: NetworkConfigList): Promise<void> {
    const missing = list.plugins.find((p) => this.#missing.has(p.type));
    if (missing !== undefined) throw new CniError('plugin-not-found', `failed to find plugin "${missing.type}" in path [fake] (network ${list.name})`);
  }

  /** The host octet of a requested IPv4 address (host-local: it must lie in the range); undefined without one. */
  #requestedOctet(network: string, requested: readonly string[]): number | undefined {
    const v4 = requested.find((a) => !a.includes(':'));
    if (v4 === undefined) return undefined;
    const addr = v4.split('/')[0] ?? '';
    const octet = Number(addr.slice(this.#prefix.length + 1));
    if (!addr.startsWith(`${this.#prefix}.`) || !(octet >= 2 && octet <= 254)) {
      throw new CniError('plugin-error', `plugin type="host-local" name="${network}" failed (add): requested IP address ${addr} is not in any range`);
    }
    return octet;
  }

  #allocate(network: string, owner: string, requested?: number): number {
    const used = this.#alloc.get(network) ?? new Map<string, number>();
    this.#alloc.set(network, used);
    const existing = used.get(owner);
    if (existing !== undefined) return existing;
    const taken = new Set(used.values());
    if (requested !== undefined) {
      if (taken.has(requested)) throw new CniError('plugin-error', `network ${network}: requested IP address ${this.#prefix}.${requested} is not available`);
      used.set(owner, requested);
      return requested;
    }
    for (let n = 2; n < 255; n++) {
      if (!taken.has(n)) {
        used.set(owner, n);
        return n;
      }
    }
    throw new CniError('plugin-error', `network ${network}: no IP addresses available`);
  }

  #takeFailure(command: FakeCniCall['command'], network: string): { message: string; afterAlloc: boolean } | undefined {
    const i = this.#failures.findIndex((f) => f.command === command && (f.network === undefined || f.network === network));
    return i < 0 ? undefined : this.#failures.splice(i, 1)[0];
  }

  #record(command: FakeCniCall['command'], list: NetworkConfigList, rt: RuntimeConf): void {
    this.calls.push({ command, network: list.name, containerId: rt.containerId, ifName: rt.ifName, netns: rt.netns, args: rt.args, capabilityArgs: rt.capabilityArgs });
  }
}

/** The `ips` capability as the plugins would see it: only when one of them declares it (libcni). */
function requestedIps(list: NetworkConfigList, rt: RuntimeConf): string[] {
  const ips = rt.capabilityArgs['ips'];
  if (!Array.isArray(ips) || !list.plugins.some((p) => p.capabilities?.['ips'] === true)) return [];
  return ips.filter((x): x is string => typeof x === 'string');
}

function key(network: string, rt: RuntimeConf): string {
  return `${network}-${rt.containerId}-${rt.ifName}`;
}
