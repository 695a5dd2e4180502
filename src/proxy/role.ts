/**
 * The proxy role: wires informers → Proxier → BoundedFrequencyRunner, the canary monitor and the HTTP servers.
 */
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import type { Registry } from 'prom-client';
import type { KubeConfig } from '../api/kubeconfig.js';
import type { Informer, KubeObject } from '../api/types.js';
import { objectKey } from '../api/types.js';
import { RealClock, errorMessage, type Clock, type Logger } from '../util/index.js';
import type { EndpointSliceObject, ServiceObject } from './apitypes.js';
import { resolveProxyConfig, type ProxyConfig, type ResolvedProxyConfig } from './config.js';
import { ExecConntrack, type Conntrack } from './conntrack.js';
import { ExecIptables, detectBackend, namespacePrefix, runCommand, supportsRandomFully } from './exec.js';
import { ProxierHealth, startHealthzServer, startMetricsServer, type StartedServer } from './healthz.js';
import type { Iptables } from './iptables.js';
import { createProxyMetrics, type ProxyMetrics } from './metrics.js';
import { CanaryMonitor } from './monitor.js';
import { Proxier } from './proxier.js';
import { BoundedFrequencyRunner } from './runner.js';
import { ServiceHealthServer } from './svchealth.js';
import { proxyFamilies } from './families.js';
import { ProcSysctl, applyConntrackSysctls, type Sysctl } from './sysctl.js';
import { trimEndpointSlice, trimNode, trimService } from './trim.js';
import type { Nft } from './nft/exec.js';
import type { NftProxier } from './nft/proxier.js';
import { cleanupNftTables, createNftProxiers } from './nft/role.js';

/** Injected informers (tests); otherwise created from `kubeConfig`. */
export interface ProxyInformers {
  services: Informer<ServiceObject>;
  endpointSlices: Informer<EndpointSliceObject>;
  /** This node (its topology.kubernetes.io/zone label drives zone hints); optional. */
  node?: Informer<KubeObject>;
}

/** Options of {@link createProxy}. */
export interface ProxyOptions {
  config: ProxyConfig;
  kubeConfig?: KubeConfig;
  informers?: ProxyInformers;
  nodeName: string;
  /** Node IPs (both families allowed; the IPv4 proxier uses the IPv4 ones). */
  nodeIPs: string[];
  logger: Logger;
  clock?: Clock;
  /** node.spec.podCIDRs, for detectLocalMode NodeCIDR. */
  nodePodCIDRs?: string[];
  /** Program the tables of this network namespace (tests, benchmarks). */
  netns?: string;
  netnsPid?: number;
  /** Inject an iptables implementation (e.g. FakeIptables); default: the real tools, backend auto-detected. */
  iptables?: Iptables;
  /** Inject an nft implementation (e.g. FakeNft) for `mode: nftables`; default: the real `nft` tool. */
  nft?: Nft;
  conntrack?: Conntrack;
  /**
   * Where the `conntrack` sysctls are applied at start. Default: /proc and /sys of this process when the proxy
   * programs its own network namespace; NOT applied when `netns`/`netnsPid` is set unless given here (tests then pass
   * a `ProcSysctl` for the namespace, which can change only its per-namespace entries).
   */
  sysctl?: Sysctl;
  /** prom-client registry for the kubeproxy_* metrics (default: a private one served on metricsBindAddress). */
  registry?: Registry;
  /** Services per nat transaction in full syncs. */
  batchSize?: number;
}

/** The running proxy. `start` resolves once servers listen and informers run; `stop` is idempotent. */
export interface ProxyRole {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Extra surface for tests and benchmarks. */
export interface ProxyRoleInternals extends ProxyRole {
  /** The primary (first) family's proxier. */
  readonly proxier: Proxier | NftProxier | undefined;
  /** Every family's proxier (two on a dual-stack node). */
  readonly proxiers: readonly (Proxier | NftProxier)[];
  readonly metrics: ProxyMetrics;
  readonly healthzPort: number | undefined;
  readonly metricsPort: number | undefined;
}

const PROXY_LABEL_SELECTOR = '!service.kubernetes.io/service-proxy-name,!service.kubernetes.io/headless';

class ProxyRoleImpl implements ProxyRoleInternals {
  readonly name = 'proxy';
  readonly #o: ProxyOptions;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly metrics: ProxyMetrics;
  proxier: Proxier | NftProxier | undefined;
  #cfg: ResolvedProxyConfig | undefined;
  #runner: BoundedFrequencyRunner | undefined;
  readonly #monitors: CanaryMonitor[] = [];
  /** One proxier per IP family (IPv4 first); `proxier` is the first. */
  readonly proxiers: (Proxier | NftProxier)[] = [];
  #servers: StartedServer[] = [];
  #svcHealth: ServiceHealthServer | undefined;
  #cleanups: (() => void)[] = [];
  healthzPort: number | undefined;
  metricsPort: number | undefined;

  constructor(o: ProxyOptions) {
    this.#o = o;
    this.#log = o.logger.child({ component: 'proxy' });
    this.#clock = o.clock ?? new RealClock();
    this.metrics = createProxyMetrics(o.registry);
  }

  async start(): Promise<void> {
    const o = this.#o;
    const cfg = (this.#cfg = resolveProxyConfig(o.config, o.nodePodCIDRs));
    const ns = { netns: o.netns, netnsPid: o.netnsPid };
    // An injected iptables decides the (single) family; otherwise dual-stack clusters/nodes get an IPv6 proxier too.
    const families = o.iptables !== undefined ? [o.iptables.family] : proxyFamilies(cfg.clusterCIDRs, o.nodeIPs);
    const backend = o.iptables === undefined ? await detectBackend(ns) : 'nft';
    const randomFully = o.iptables === undefined ? await supportsRandomFully(ns, backend) : false;
    // nftables mode does not support localhost NodePorts (as upstream): route_localnet is left alone there.
    if (cfg.mode === 'iptables' && o.iptables === undefined && cfg.localhostNodePorts && families.includes('IPv4')) await this.#routeLocalnet();
    // Switching modes cleans up the other mode (as upstream): the iptables mode removes the nftables tables.
    if (cfg.mode === 'iptables' && o.iptables === undefined) await cleanupNftTables(ns, this.#log);
    const sysctl = o.sysctl ?? (o.iptables === undefined && o.netns === undefined && o.netnsPid === undefined ? new ProcSysctl() : undefined);
    if (sysctl !== undefined) {
      // Like upstream, a sysctl that cannot be set fails the start (set the value to 0 to leave an entry alone).
      await applyConntrackSysctls({ sysctl, config: cfg.conntrack, numCPU: os.cpus().length || os.availableParallelism(), logger: this.#log });
    }
    const health = new ProxierHealth(this.#clock, 2 * cfg.syncPeriodMs);
    this.#svcHealth = new ServiceHealthServer({ logger: this.#log, proxyHealthy: () => health.status().healthy });
    await this.#startServers(cfg, health);
    if (cfg.mode === 'nftables') {
      const nftFamilies = o.nft !== undefined ? [o.nft.family] : proxyFamilies(cfg.clusterCIDRs, o.nodeIPs);
      const svcHealth = this.#svcHealth;
      this.proxiers.push(
        ...(await createNftProxiers({
          ...{ families: nftFamilies, ns, config: cfg, nodeName: o.nodeName, nodeIPs: o.nodeIPs, logger: this.#log, clock: this.#clock },
          ...{ metrics: this.metrics, health, serviceHealth: svcHealth, nft: o.nft, conntrack: o.conntrack },
          requestSync: () => this.#runner?.run(),
          retryAfter: (ms) => this.#runner?.retryAfter(ms),
        })),
      );
    }
    for (const [i, family] of (cfg.mode === 'nftables' ? [] : families).entries()) {
      const iptables = o.iptables ?? new ExecIptables({ ...ns, family, backend, randomFully });
      const log = families.length > 1 ? this.#log.child({ ipFamily: family }) : this.#log;
      const proxier = new Proxier({
        iptables,
        config: family === 'IPv4' ? cfg : { ...cfg, localDetector: cfg.localDetectorIPv6 },
        nodeName: o.nodeName,
        nodeIPs: o.nodeIPs.filter((ip) => (family === 'IPv4') === !ip.includes(':')),
        logger: log,
        clock: this.#clock,
        metrics: this.metrics,
        conntrack: o.conntrack ?? (o.iptables === undefined ? new ExecConntrack({ ...ns, family, logger: log }) : undefined),
        health,
        // One health-check server per node port: the primary family's proxier drives it (as the local endpoint count).
        serviceHealth: i === 0 ? this.#svcHealth : undefined,
        batchSize: o.batchSize,
        requestSync: () => this.#runner?.run(),
        retryAfter: (ms) => this.#runner?.retryAfter(ms),
      });
      this.proxiers.push(proxier);
      this.#monitors.push(new CanaryMonitor({ iptables, clock: this.#clock, intervalMs: cfg.syncPeriodMs, logger: log, onLost: () => proxier.forceFullSync() }));
    }
    this.proxier = this.proxiers[0];
    const proxiers = this.proxiers;
    this.#runner = new BoundedFrequencyRunner({
      fn: async () => {
        for (const p of proxiers) await p.sync();
      },
      minIntervalMs: cfg.minSyncPeriodMs,
      maxIntervalMs: cfg.syncPeriodMs,
      burst: 2,
      clock: this.#clock,
    });
    health.updated();
    this.#runner.start();
    for (const m of this.#monitors) m.start();
    await this.#startInformers(proxiers);
    this.#log.info({ nodeName: o.nodeName, ipFamilies: families, syncPeriodMs: cfg.syncPeriodMs, minSyncPeriodMs: cfg.minSyncPeriodMs }, 'Proxy started');
  }

  async #routeLocalnet(): Promise<void> {
    const pre = namespacePrefix(this.#o);
    try {
      if (pre.length === 0) await writeFile('/proc/sys/net/ipv4/conf/all/route_localnet', '1');
      else await runCommand([...pre, 'sysctl', '-qw', 'net.ipv4.conf.all.route_localnet=1']);
    } catch (err) {
      this.#log.warn({ err: errorMessage(err) }, 'Failed to set route_localnet=1; localhost NodePorts will not work');
    }
  }

  async #startServers(cfg: ResolvedProxyConfig, health: ProxierHealth): Promise<void> {
    const tryStart = async (what: string, fn: () => Promise<StartedServer>): Promise<StartedServer | undefined> => {
      try {
        const s = await fn();
        this.#servers.push(s);
        return s;
      } catch (err) {
        if (cfg.bindAddressHardFail) throw err;
        this.#log.error({ err: errorMessage(err) }, `Failed to start the ${what} server`);
        return undefined;
      }
    };
    const healthz = cfg.healthz;
    const metrics = cfg.metrics;
    if (healthz !== undefined) this.healthzPort = (await tryStart('healthz', () => startHealthzServer(healthz, health, this.metrics)))?.port;
    if (metrics !== undefined && this.#o.registry === undefined) {
      this.metricsPort = (await tryStart('metrics', () => startMetricsServer(metrics, this.metrics)))?.port;
    }
  }

  async #startInformers(proxiers: readonly (Proxier | NftProxier)[]): Promise<void> {
    const each = (fn: (p: Proxier | NftProxier) => void): void => {
      for (const p of proxiers) fn(p);
    };
    let inf = this.#o.informers;
    if (inf === undefined) {
      const kc = this.#o.kubeConfig;
      if (kc === undefined) throw new Error('createProxy: kubeConfig or informers is required');
      const { createInformer } = await import('../api/informer.js');
      // Transforms keep only the fields the proxy reads (no managedFields, targetRefs, …) in the caches.
      inf = {
        services: createInformer<ServiceObject>(kc, { path: '/api/v1/services', labelSelector: PROXY_LABEL_SELECTOR }, this.#log, { transform: trimService }),
        endpointSlices: createInformer<EndpointSliceObject>(
          kc,
          { path: '/apis/discovery.k8s.io/v1/endpointslices', labelSelector: PROXY_LABEL_SELECTOR },
          this.#log,
          { transform: trimEndpointSlice },
        ),
        node: createInformer<KubeObject>(kc, { path: '/api/v1/nodes', fieldSelector: `metadata.name=${this.#o.nodeName}` }, this.#log, { transform: trimNode }),
      };
      const created = inf;
      this.#cleanups.push(() => {
        created.services.stop();
        created.endpointSlices.stop();
        created.node?.stop();
      });
    }
    this.#cleanups.push(
      inf.services.addHandlers({
        onAdd: (s) => each((p) => p.onService(objectKey(s), s)),
        onUpdate: (_old, s) => each((p) => p.onService(objectKey(s), s)),
        onDelete: (s) => each((p) => p.onService(objectKey(s), undefined)),
        onSynced: () => each((p) => p.onServicesSynced()),
      }),
      inf.endpointSlices.addHandlers({
        onAdd: (s) => each((p) => p.onEndpointSlice(s, false)),
        onUpdate: (_old, s) => each((p) => p.onEndpointSlice(s, false)),
        onDelete: (s) => each((p) => p.onEndpointSlice(s, true)),
        onSynced: () => each((p) => p.onEndpointSlicesSynced()),
      }),
    );
    const node = inf.node;
    if (node !== undefined) {
      this.#cleanups.push(
        node.addHandlers({
          onAdd: (n) => each((p) => p.onNodeLabels(n.metadata?.labels)),
          onUpdate: (_old, n) => each((p) => p.onNodeLabels(n.metadata?.labels)),
        }),
      );
      node.start();
    }
    inf.services.start();
    inf.endpointSlices.start();
    // Handlers added after the first list was delivered get no onSynced: catch up from hasSynced().
    if (inf.services.hasSynced()) each((p) => p.onServicesSynced());
    if (inf.endpointSlices.hasSynced()) each((p) => p.onEndpointSlicesSynced());
  }

  async stop(): Promise<void> {
    for (const c of this.#cleanups.splice(0).reverse()) c();
    this.#runner?.stop();
    for (const m of this.#monitors) m.stop();
    await this.#svcHealth?.close();
    for (const s of this.#servers.splice(0)) await s.close();
  }
}

/** Creates the proxy role (nothing runs until `start()`). `start` throws ConfigError for invalid config. */
export function createProxy(options: ProxyOptions): ProxyRoleInternals {
  return new ProxyRoleImpl(options);
}
