/**
 * The proxy role: wires informers → Proxier → BoundedFrequencyRunner, the canary monitor and the HTTP servers.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { writeFile } from 'node:fs/promises';
import type { Registry } from 'prom-client';
import type { Informer } from '../api/types.js';
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

/** Injected informers (tests); otherwise created from `kubeConfig`. */
export interface ProxyInformers {
  services: Informer<ServiceObject>;
  endpointSlices: Informer<EndpointSliceObject>;
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
  conntrack?: Conntrack;
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
  readonly proxier: Proxier | undefined;
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
  proxier: Proxier | undefined;
  #cfg: ResolvedProxyConfig | undefined;
  #runner: BoundedFrequencyRunner | undefined;
  #monitor: CanaryMonitor | undefined;
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
    const iptables =
      o.iptables ?? new ExecIptables({ ...ns, backend: await detectBackend(ns), randomFully: await supportsRandomFully(ns) });
    if (o.iptables === undefined && cfg.localhostNodePorts) await this.#routeLocalnet();
    const health = new ProxierHealth(this.#clock, 2 * cfg.syncPeriodMs);
    this.#svcHealth = new ServiceHealthServer({ logger: this.#log, proxyHealthy: () => health.status().healthy });
    await this.#startServers(cfg, health);
    const nodeIPs = o.nodeIPs.filter((ip) => (iptables.family === 'IPv4') === !ip.includes(':'));
    const proxier = new Proxier({
      iptables,
      config: cfg,
      nodeName: o.nodeName,
      nodeIPs,
      logger: this.#log,
      clock: this.#clock,
      metrics: this.metrics,
      conntrack: o.conntrack ?? (o.iptables === undefined ? new ExecConntrack({ ...ns, logger: this.#log }) : undefined),
      health,
      serviceHealth: this.#svcHealth,
      batchSize: o.batchSize,
      requestSync: () => this.#runner?.run(),
      retryAfter: (ms) => this.#runner?.retryAfter(ms),
    });
    this.proxier = proxier;
    this.#runner = new BoundedFrequencyRunner({
      fn: async () => void (await proxier.sync()),
      minIntervalMs: cfg.minSyncPeriodMs,
      maxIntervalMs: cfg.syncPeriodMs,
      burst: 2,
      clock: this.#clock,
    });
    this.#monitor = new CanaryMonitor({ iptables, clock: this.#clock, intervalMs: cfg.syncPeriodMs, logger: this.#log, onLost: () => proxier.forceFullSync() });
    health.updated();
    this.#runner.start();
    this.#monitor.start();
    await this.#startInformers(proxier);
    this.#log.info({ nodeName: o.nodeName, syncPeriodMs: cfg.syncPeriodMs, minSyncPeriodMs: cfg.minSyncPeriodMs }, 'Proxy started');
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

  async #startInformers(proxier: Proxier): Promise<void> {
    let inf = this.#o.informers;
    if (inf === undefined) {
      const kc = this.#o.kubeConfig;
      if (kc === undefined) throw new Error('createProxy: kubeConfig or informers is required');
      const { createInformer } = await import('../api/informer.js');
      inf = {
        services: createInformer<ServiceObject>(kc, { path: '/api/v1/services', labelSelector: PROXY_LABEL_SELECTOR }, this.#log),
        endpointSlices: createInformer<EndpointSliceObject>(kc, { path: '/apis/discovery.k8s.io/v1/endpointslices', labelSelector: PROXY_LABEL_SELECTOR }, this.#log),
      };
      const created = inf;
      this.#cleanups.push(() => {
        created.services.stop();
        created.endpointSlices.stop();
      });
    }
    this.#cleanups.push(
      inf.services.addHandlers({
        onAdd: (s) => proxier.onService(objectKey(s), s),
        onUpdate: (_old, s) => proxier.onService(objectKey(s), s),
        onDelete: (s) => proxier.onService(objectKey(s), undefined),
        onSynced: () => proxier.onServicesSynced(),
      }),
      inf.endpointSlices.addHandlers({
        onAdd: (s) => proxier.onEndpointSlice(s, false),
        onUpdate: (_old, s) => proxier.onEndpointSlice(s, false),
        onDelete: (s) => proxier.onEndpointSlice(s, true),
        onSynced: () => proxier.onEndpointSlicesSynced(),
      }),
    );
    inf.services.start();
    inf.endpointSlices.start();
    // Handlers added after the first list was delivered get no onSynced: catch up from hasSynced().
    if (inf.services.hasSynced()) proxier.onServicesSynced();
    if (inf.endpointSlices.hasSynced()) proxier.onEndpointSlicesSynced();
  }

  async stop(): Promise<void> {
    for (const c of this.#cleanups.splice(0).reverse()) c();
    this.#runner?.stop();
    this.#monitor?.stop();
    await this.#svcHealth?.close();
    for (const s of this.#servers.splice(0)) await s.close();
  }
}

/** Creates the proxy role (nothing runs until `start()`). `start` throws ConfigError for invalid config. */
export function createProxy(options: ProxyOptions): ProxyRoleInternals {
  return new ProxyRoleImpl(options);
}
