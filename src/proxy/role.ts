/**
 * The proxy role: wires informers → Proxier → BoundedFrequencyRunner, the canary monitor and the HTTP servers.
 */
import os from 'node:os';
import { Registry } from 'prom-client';
import type { Informer, KubeObject } from '../api/types.js';
import { objectKey } from '../api/types.js';
import { RealClock, errorMessage, type Clock, type Logger } from '../util/index.js';
import type { EndpointSliceObject, ServiceObject } from './apitypes.js';
import { resolveProxyConfig, type ProxyConfig, type ResolvedProxyConfig } from './config.js';
import { ProxierHealth, startHealthzServer, startMetricsServer, type StartedServer } from './healthz.js';
import { ROUTE_LOCALNET_PATH, type ProxyHost } from './host.js';
import { createProxyMetrics, type ProxyMetrics } from './metrics.js';
import { CanaryMonitor } from './monitor.js';
import { Proxier } from './proxier.js';
import { BoundedFrequencyRunner } from './runner.js';
import { ServiceHealthServer } from './svchealth.js';
import { proxyFamilies } from './families.js';
import { applyConntrackSysctls, type Sysctl } from './sysctl.js';
import { InvalidObjectReporter } from './validate.js';
import type { NftProxier } from './nft/proxier.js';
import { cleanupNftTables, createNftProxiers } from './nft/role.js';

/**
 * The informers the role reads (src/cli builds them with the trims of trim.ts and the label selector
 * {@link PROXY_LABEL_SELECTOR}; tests pass FakeInformers).
 */
export interface ProxyInformers {
  services: Informer<ServiceObject>;
  endpointSlices: Informer<EndpointSliceObject>;
  /** This node (its topology.kubernetes.io/zone label drives zone hints); optional. */
  node?: Informer<KubeObject>;
  /**
   * networking.k8s.io/v1 ServiceCIDRs (nftables mode: traffic to unallocated ClusterIPs in them is dropped, as
   * upstream); optional, started only in nftables mode.
   */
  serviceCIDRs?: Informer<KubeObject>;
}

/** Options of {@link createProxy}. */
export interface ProxyOptions {
  config: ProxyConfig;
  informers: ProxyInformers;
  /** Every outside effect: iptables/nft runners, conntrack, sysctls (src/cli: createExecProxyHost; tests: FakeProxyHost). */
  host: ProxyHost;
  nodeName: string;
  /** Node IPs (both families allowed; the IPv4 proxier uses the IPv4 ones). */
  nodeIPs: string[];
  logger: Logger;
  clock?: Clock;
  /** node.spec.podCIDRs, for detectLocalMode NodeCIDR. */
  nodePodCIDRs?: string[];
  /** prom-client registry for the kubeproxy_* metrics (default: a private one served on metricsBindAddress). */
  registry?: Registry;
  /**
   * More registries served with the kubeproxy_* metrics on metricsBindAddress (src/cli: the process's nodejs_* /
   * process_* metrics, as upstream kube-proxy serves its go_* / process_*). Their names must not clash with kubeproxy_*.
   */
  alsoServe?: Registry[];
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

/** The label selector of the Service and EndpointSlice informers (as upstream kube-proxy). */
export const PROXY_LABEL_SELECTOR = '!service.kubernetes.io/service-proxy-name,!service.kubernetes.io/headless';

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
    const host = o.host;
    // Dual-stack clusters/nodes get an IPv6 proxier too.
    const families = proxyFamilies(cfg.clusterCIDRs, o.nodeIPs);
    const sysctl = host.sysctl;
    if (sysctl === undefined) this.#log.info('No Sysctl given: leaving route_localnet and the conntrack sysctls alone');
    // nftables mode does not support localhost NodePorts (as upstream): route_localnet is left alone there.
    if (sysctl !== undefined && cfg.mode === 'iptables' && cfg.localhostNodePorts && families.includes('IPv4')) await this.#routeLocalnet(sysctl);
    // Switching modes cleans up the other mode (as upstream): the iptables mode removes the nftables tables.
    if (cfg.mode === 'iptables') await cleanupNftTables((family) => host.nft(family), this.#log);
    if (sysctl !== undefined) {
      // Like upstream, a sysctl that cannot be set fails the start (set the value to 0 to leave an entry alone).
      await applyConntrackSysctls({ sysctl, config: cfg.conntrack, numCPU: os.cpus().length || os.availableParallelism(), logger: this.#log });
    }
    const health = new ProxierHealth(this.#clock, 2 * cfg.syncPeriodMs);
    this.#svcHealth = new ServiceHealthServer({ logger: this.#log, proxyHealthy: () => health.status().healthy });
    await this.#startServers(cfg, health);
    if (cfg.mode === 'nftables') {
      const svcHealth = this.#svcHealth;
      this.proxiers.push(
        ...(await createNftProxiers({
          ...{ families, host, config: cfg, nodeName: o.nodeName, nodeIPs: o.nodeIPs, logger: this.#log, clock: this.#clock },
          ...{ metrics: this.metrics, health, serviceHealth: svcHealth },
          requestSync: () => this.#runner?.run(),
          retryAfter: (ms) => this.#runner?.retryAfter(ms),
        })),
      );
    }
    for (const [i, family] of (cfg.mode === 'nftables' ? [] : families).entries()) {
      const iptables = await host.iptables(family);
      const log = families.length > 1 ? this.#log.child({ ipFamily: family }) : this.#log;
      const proxier = new Proxier({
        iptables,
        config: family === 'IPv4' ? cfg : { ...cfg, localDetector: cfg.localDetectorIPv6 },
        nodeName: o.nodeName,
        nodeIPs: o.nodeIPs.filter((ip) => (family === 'IPv4') === !ip.includes(':')),
        logger: log,
        clock: this.#clock,
        metrics: this.metrics,
        conntrack: host.conntrack(family, log),
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

  async #routeLocalnet(sysctl: Sysctl): Promise<void> {
    try {
      if ((await sysctl.get(ROUTE_LOCALNET_PATH).catch(() => undefined)) !== 1) {
        this.#log.info({ entry: 'net/ipv4/conf/all/route_localnet', value: 1 }, 'Set sysctl');
        await sysctl.set(ROUTE_LOCALNET_PATH, 1);
      }
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
      const more = this.#o.alsoServe ?? [];
      const registry = more.length === 0 ? this.metrics.registry : Registry.merge([this.metrics.registry, ...more]);
      this.metricsPort = (await tryStart('metrics', () => startMetricsServer(metrics, registry)))?.port;
    }
  }

  /** nftables mode: every ServiceCIDR's spec.cidrs go to the proxiers (upstream OnServiceCIDRsChanged). */
  #watchServiceCIDRs(inf: Informer<KubeObject> | undefined, proxiers: readonly (Proxier | NftProxier)[]): void {
    const nft = proxiers.filter((p): p is NftProxier => 'onServiceCIDRs' in p);
    if (inf === undefined || nft.length === 0) return;
    const update = (): void => {
      const cidrs = [...new Set(inf.list().flatMap((o) => serviceCIDRsOf(o)))].sort();
      for (const p of nft) p.onServiceCIDRs(cidrs);
    };
    this.#cleanups.push(inf.addHandlers({ onAdd: update, onUpdate: update, onDelete: update, onSynced: update }), () => inf.stop());
    inf.start();
  }

  async #startInformers(proxiers: readonly (Proxier | NftProxier)[]): Promise<void> {
    const each = (fn: (p: Proxier | NftProxier) => void): void => {
      for (const p of proxiers) fn(p);
    };
    const inf = this.#o.informers;
    // The role starts the informers, so it stops them too.
    this.#cleanups.push(() => {
      inf.services.stop();
      inf.endpointSlices.stop();
      inf.node?.stop();
    });
    // Invalid objects are logged and counted here, once per event in both modes, not once per family's proxier.
    const invalid = new InvalidObjectReporter({ metrics: this.metrics, logger: this.#log });
    const onService = (s: ServiceObject, deleted: boolean): void => {
      const key = objectKey(s);
      const obj = deleted ? undefined : s;
      invalid.service(key, obj);
      each((p) => p.onService(key, obj));
    };
    const onSlice = (s: EndpointSliceObject, deleted: boolean): void => {
      invalid.endpointSlice(s, deleted);
      each((p) => p.onEndpointSlice(s, deleted));
    };
    this.#cleanups.push(
      inf.services.addHandlers({
        onAdd: (s) => onService(s, false),
        onUpdate: (_old, s) => onService(s, false),
        onDelete: (s) => onService(s, true),
        onSynced: () => each((p) => p.onServicesSynced()),
      }),
      inf.endpointSlices.addHandlers({
        onAdd: (s) => onSlice(s, false),
        onUpdate: (_old, s) => onSlice(s, false),
        onDelete: (s) => onSlice(s, true),
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
    this.#watchServiceCIDRs(inf.serviceCIDRs, proxiers);
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

/** `spec.cidrs` of a ServiceCIDR object (strings only). */
function serviceCIDRsOf(o: KubeObject): string[] {
  const cidrs = (o as { spec?: { cidrs?: unknown } }).spec?.cidrs;
  return Array.isArray(cidrs) ? cidrs.filter((c): c is string => typeof c === 'string') : [];
}

/** Creates the proxy role (nothing runs until `start()`). `start` throws ConfigError for invalid config. */
export function createProxy(options: ProxyOptions): ProxyRoleInternals {
  return new ProxyRoleImpl(options);
}
