import type { V1Node } from '@kubernetes/client-node';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Informer } from '../../api/types.js';
import { errorMessage } from '../../util/errors.js';
import { silentLogger, type Logger } from '../../util/logger.js';
import { configFileNames } from '../conf.js';
import type { PodNetworkHost } from './host.js';
import { desiredRoutes, effectiveClusterCIDRs, HOST_GW_CONF_FILE, hostGwConflist, routeChanges, type NodeRouteInfo } from './render.js';

/** Options for {@link HostGwNetwork}. */
export interface HostGwNetworkOptions {
  nodeName: string;
  /** All Nodes (list+watch; needs credentials that may list Nodes). */
  nodes: Informer<V1Node>;
  host: PodNetworkHost;
  /** CNI config directory the conflist is written to. */
  confDir: string;
  /**
   * The cluster's pod CIDRs (--cluster-cidr, one per family); a family without one uses this node's pod CIDR of that
   * family. Routes and masquerade stay inside.
   */
  clusterCIDRs: readonly string[];
  bridge?: string;
  dataDir?: string;
  /** Full resync period (default 30 s). */
  resyncMs?: number;
  logger?: Logger;
}

/** What one sync did (for tests and logs). */
export interface HostGwSyncResult {
  state: 'waiting-for-pod-cidr' | 'foreign-config' | 'synced';
  wroteConfig: boolean;
  added: number;
  removed: number;
  /** Routes that could not be installed (gateway not on a local link). */
  failed: number;
}

/** Pod CIDRs and InternalIPs of a Node. */
export function nodeRouteInfo(n: V1Node): NodeRouteInfo {
  const cidrs = n.spec?.podCIDRs?.length ? n.spec.podCIDRs : n.spec?.podCIDR ? [n.spec.podCIDR] : [];
  const ips = (n.status?.addresses ?? []).filter((a) => a.type === 'InternalIP').map((a) => a.address);
  return { name: n.metadata?.name ?? '', podCIDRs: cidrs, internalIPs: ips };
}

/**
 * The host-gw pod network of one node (kubenet / flannel host-gw): once the controller-manager has set this Node's
 * podCIDR it writes the bridge conflist (unless the operator has a CNI config of their own: then it does nothing),
 * hooks the masquerade chain of each family (iptables and ip6tables), and keeps one route per other node's pod CIDR
 * via that node's InternalIP of the same family, removing routes of nodes that are gone. Level-triggered: Node events only mark it dirty; {@link syncOnce} does the work and
 * a periodic resync repairs drift. It never removes routes on stop (pods keep running).
 */
export class HostGwNetwork {
  readonly #o: HostGwNetworkOptions;
  readonly #log: Logger;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #unsubscribe: (() => void) | undefined;
  #masqFor = '';
  #failing = new Set<string>();
  #lastState = '';

  constructor(options: HostGwNetworkOptions) {
    this.#o = options;
    this.#log = (options.logger ?? silentLogger()).child({ component: 'host-gw' });
  }

  start(): void {
    this.#unsubscribe = this.#o.nodes.addHandlers({
      onAdd: () => this.#kick(),
      onUpdate: (a, b) => {
        if (JSON.stringify(nodeRouteInfo(a)) !== JSON.stringify(nodeRouteInfo(b))) this.#kick();
      },
      onDelete: () => this.#kick(),
      onSynced: () => this.#kick(),
    });
    this.#o.nodes.start();
    this.#timer = setInterval(() => this.#kick(), this.#o.resyncMs ?? 30_000);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#unsubscribe?.();
    this.#o.nodes.stop();
    await this.#running;
  }

  /** One full sync. Safe to call directly (tests); callers do not overlap it with another. */
  async syncOnce(): Promise<HostGwSyncResult> {
    const nodes = this.#o.nodes.list().map(nodeRouteInfo);
    const self = nodes.find((n) => n.name === this.#o.nodeName);
    const result: HostGwSyncResult = { state: 'synced', wroteConfig: false, added: 0, removed: 0, failed: 0 };
    if (self === undefined || self.podCIDRs.length === 0) {
      result.state = 'waiting-for-pod-cidr';
      this.#transition(result.state, 'Waiting for the controller-manager to set Node.spec.podCIDR');
      return result;
    }
    const foreign = await this.#foreignConfigs();
    if (foreign.length > 0) {
      result.state = 'foreign-config';
      this.#transition(result.state, `The CNI config directory has the operator's own config (${foreign.join(', ')}): the host-gw pod network stays off`);
      return result;
    }
    result.wroteConfig = await this.#writeConfig(self.podCIDRs);
    // Per family: --cluster-cidr of that family, else this node's pod CIDR (IPv6 masquerade needs no IPv6 --cluster-cidr).
    const cluster = effectiveClusterCIDRs(this.#o.clusterCIDRs, self.podCIDRs);
    if (this.#masqFor !== cluster.join(',')) {
      await this.#o.host.ensureMasquerade(cluster);
      this.#masqFor = cluster.join(',');
    }
    const want = desiredRoutes(nodes, this.#o.nodeName, this.#o.clusterCIDRs);
    const change = routeChanges(want, await this.#o.host.listRoutes());
    for (const r of change.remove) await this.#o.host.deleteRoute(r);
    // One unreachable node (its InternalIP not on a local link) must not keep the others' routes out.
    const failing = new Map<string, string>();
    let added = 0;
    for (const r of change.add) {
      try {
        await this.#o.host.replaceRoute(r);
        added++;
      } catch (err) {
        failing.set(`${r.dst} via ${r.via}`, errorMessage(err));
      }
    }
    for (const [route, why] of failing) {
      if (!this.#failing.has(route)) this.#log.warn({ route, err: why }, 'Cannot route to a node\'s pod CIDR (is its InternalIP on a local network?); retrying at resync');
    }
    this.#failing = new Set(failing.keys());
    result.added = added;
    result.removed = change.remove.length;
    result.failed = failing.size;
    if (result.added + result.removed > 0) this.#log.info({ added: change.add.filter((r) => !failing.has(`${r.dst} via ${r.via}`)), removed: change.remove }, 'Updated routes to other nodes\' pod CIDRs');
    this.#transition(result.state, 'Pod network in sync', { podCIDRs: self.podCIDRs, routes: want.length });
    return result;
  }

  #kick(): void {
    if (this.#running !== undefined) {
      this.#again = true;
      return;
    }
    this.#running = (async () => {
      do {
        this.#again = false;
        try {
          await this.syncOnce();
        } catch (err) {
          this.#log.warn({ err: errorMessage(err) }, 'Pod network sync failed; retrying at the next event or resync');
        }
      } while (this.#again);
    })().finally(() => {
      this.#running = undefined;
    });
  }

  #transition(state: string, msg: string, fields: Record<string, unknown> = {}): void {
    if (state === this.#lastState) return;
    this.#lastState = state;
    this.#log.info(fields, msg);
  }

  async #foreignConfigs(): Promise<string[]> {
    try {
      return configFileNames(await readdir(this.#o.confDir)).filter((n) => n !== HOST_GW_CONF_FILE);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }

  /** Writes the conflist when its content differs (atomically); true when written. */
  async #writeConfig(podCIDRs: readonly string[]): Promise<boolean> {
    const text = hostGwConflist({ podCIDRs, ...(this.#o.bridge ? { bridge: this.#o.bridge } : {}), ...(this.#o.dataDir ? { dataDir: this.#o.dataDir } : {}) });
    const file = join(this.#o.confDir, HOST_GW_CONF_FILE);
    const current = await readFile(file, 'utf8').catch(() => undefined);
    if (current === text) return false;
    await mkdir(this.#o.confDir, { recursive: true });
    await writeFile(`${file}.tmp`, text, { mode: 0o644 });
    await rename(`${file}.tmp`, file);
    this.#log.info({ file, podCIDRs }, 'Wrote the host-gw CNI config');
    return true;
  }
}
