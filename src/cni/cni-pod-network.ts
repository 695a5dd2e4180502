import { silentLogger, type Logger } from '../util/index.js';
import type { CachedAttachment } from './cache.js';
import { bandwidthCapability, ipsCapability, podCniArgs, portMappingsCapability } from './capabilities.js';
import { parseConfList } from './conf.js';
import { loadDefaultNetwork, noNetworkError } from './config-dir.js';
import { errorMessage } from '../util/errors.js';
import type { CniPlugin } from './plugin.js';
import type { PodNetwork, PodNetworkStatus, SandboxNetworkRef, SandboxNetworkSpec } from './pod-network.js';
import { podIps } from './result.js';
import type { NetworkConfigList, RuntimeConf } from './types.js';

/** The built-in loopback network cri-dockerd attaches before the default network. */
export const LOOPBACK_NETWORK: NetworkConfigList = parseConfList(
  JSON.stringify({ cniVersion: '1.0.0', name: 'cni-loopback', plugins: [{ type: 'loopback' }] }),
  'built-in',
);

/** Options for {@link CniPodNetwork}. */
export interface CniPodNetworkOptions {
  plugin: CniPlugin;
  /** Directory of the network configurations (--cni-conf-dir). */
  confDir: string;
  /** Interface name inside the pod (default eth0). */
  ifName?: string;
  /**
   * Marks this network's cache records (e.g. `nodelet-docker unix:///var/run/docker.sock`); garbage collection
   * releases only records with this owner. Default 'nodelet'.
   */
  owner?: string;
  logger?: Logger;
}

/** {@link PodNetwork} through CNI plugins: loopback, then the default network of the config directory. */
export class CniPodNetwork implements PodNetwork {
  readonly #plugin: CniPlugin;
  readonly #confDir: string;
  readonly #ifName: string;
  readonly #owner: string;
  readonly #log: Logger;
  readonly #ips = new Map<string, string[]>();
  readonly #locks = new Map<string, Promise<unknown>>();

  constructor(options: CniPodNetworkOptions) {
    this.#plugin = options.plugin;
    this.#confDir = options.confDir;
    this.#ifName = options.ifName ?? 'eth0';
    this.#owner = options.owner ?? 'nodelet';
    this.#log = (options.logger ?? silentLogger()).child({ component: 'pod-network' });
  }

  setUp(sb: SandboxNetworkSpec): Promise<string[]> {
    return this.#serial(sb.id, async () => {
      const found = await loadDefaultNetwork(this.#confDir, this.#plugin);
      if (found.list === undefined) throw noNetworkError(found);
      const list = found.list;
      const caps: Record<string, unknown> = { portMappings: portMappingsCapability(sb.portMappings) };
      const bw = bandwidthCapability(sb.annotations);
      if (bw !== undefined) caps['bandwidth'] = bw;
      // Only plugins declaring `ips` get it (buildPluginConf filters by capabilities, as libcni does).
      const ips = ipsCapability(sb.annotations);
      if (ips !== undefined) caps['ips'] = ips;
      const rt: RuntimeConf = { containerId: sb.id, netns: sb.netns, ifName: this.#ifName, args: podCniArgs(sb), capabilityArgs: caps, owner: this.#owner };
      const lo: RuntimeConf = { ...rt, ifName: 'lo', capabilityArgs: {} };
      try {
        await this.#plugin.add(LOOPBACK_NETWORK, lo);
        const result = await this.#plugin.add(list, rt);
        const ips = podIps(result);
        this.#ips.set(sb.id, ips);
        this.#log.info({ sandbox: sb.id, pod: `${sb.namespace}/${sb.name}`, network: list.name, ips }, 'Attached pod sandbox to the network');
        return ips;
      } catch (err) {
        // Release whatever the plugins allocated before the failure: an IP is never leaked.
        await this.#plugin.del(list, rt).catch((e: unknown) => this.#log.warn({ err: e, sandbox: sb.id }, 'Cleanup after failed CNI ADD failed'));
        await this.#plugin.del(LOOPBACK_NETWORK, lo).catch(() => undefined);
        throw err;
      }
    });
  }

  tearDown(sb: SandboxNetworkRef): Promise<void> {
    return this.#serial(sb.id, () => this.#tearDown(sb));
  }

  async podIps(sandboxId: string): Promise<string[]> {
    const known = this.#ips.get(sandboxId);
    if (known !== undefined) return known;
    const main = (await this.#attachments(sandboxId)).find((a) => a.networkName !== LOOPBACK_NETWORK.name);
    const ips = main?.result === undefined ? [] : podIps(main.result);
    if (main !== undefined) this.#ips.set(sandboxId, ips);
    return ips;
  }

  check(sb: SandboxNetworkRef): Promise<void> {
    return this.#serial(sb.id, async () => {
      for (const a of await this.#attachments(sb.id)) {
        if (a.networkName === LOOPBACK_NETWORK.name) continue;
        await this.#plugin.check(parseConfList(a.config, `cache of ${sb.id}`), { ...rtOf(a), netns: sb.netns });
      }
    });
  }

  async status(): Promise<PodNetworkStatus> {
    try {
      const found = await loadDefaultNetwork(this.#confDir, this.#plugin);
      if (found.list !== undefined) return { ready: true, reason: '', message: '' };
      return { ready: false, reason: 'NetworkPluginNotReady', message: `docker: network plugin is not ready: ${noNetworkError(found).message}` };
    } catch (err) {
      return { ready: false, reason: 'NetworkPluginNotReady', message: `docker: network plugin is not ready: ${errorMessage(err)}` };
    }
  }

  async garbageCollect(listLive: () => Promise<ReadonlySet<string>>): Promise<number> {
    // Only our own records: another runtime sharing the cache directory keeps its attachments.
    const recorded = (await this.#plugin.listCached()).filter((a) => a.owner === this.#owner).map((a) => a.containerId);
    const live = await listLive();
    const stale = new Set(recorded.filter((id) => !live.has(id)));
    for (const id of stale) {
      this.#log.info({ sandbox: id }, 'Releasing the network of a sandbox that no longer exists');
      await this.tearDown({ id, netns: '', namespace: '', name: '', uid: '' });
    }
    return stale.size;
  }

  async #tearDown(sb: SandboxNetworkRef): Promise<void> {
    const cached = await this.#attachments(sb.id);
    const mainCached = cached.some((a) => a.networkName !== LOOPBACK_NETWORK.name);
    // Main network first, loopback last (reverse of ADD).
    const isLo = (a: CachedAttachment): boolean => a.networkName === LOOPBACK_NETWORK.name;
    for (const a of [...cached.filter((x) => !isLo(x)), ...cached.filter(isLo)]) {
      await this.#plugin.del(parseConfList(a.config, `cache of ${sb.id}`), { ...rtOf(a), netns: sb.netns });
    }
    if (!mainCached) {
      // No cache entry: ADD may have been cut short (agent killed) after allocating. DEL with today's config releases
      // host-local's allocation, which is keyed by container ID.
      const found = await loadDefaultNetwork(this.#confDir, this.#plugin);
      if (found.list !== undefined) {
        await this.#plugin.del(found.list, { containerId: sb.id, netns: sb.netns, ifName: this.#ifName, args: podCniArgs(sb), capabilityArgs: {} });
      }
    }
    this.#ips.delete(sb.id);
  }

  async #attachments(sandboxId: string): Promise<CachedAttachment[]> {
    return (await this.#plugin.listCached(sandboxId)).filter((a) => a.containerId === sandboxId);
  }

  async #serial<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.#locks.get(id) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => undefined);
    this.#locks.set(id, tail);
    try {
      return await next;
    } finally {
      if (this.#locks.get(id) === tail) this.#locks.delete(id);
    }
  }
}

function rtOf(a: CachedAttachment): RuntimeConf {
  return { containerId: a.containerId, netns: a.netns, ifName: a.ifName, args: a.args, capabilityArgs: a.capabilityArgs, owner: a.owner };
}
