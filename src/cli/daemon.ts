/**
 * The nodelet process: given a validated config it takes the root-dir lock, builds the real implementations, starts
 * the roles and the health/metrics server, and on SIGTERM/SIGINT stops them again — without stopping pods, whose
 * containers keep running (as upstream; a restarted nodelet adopts them). The kubelet role's modules (node agent, pod
 * state, certificates) are imported only when that role runs: a proxy-only process never loads their code.
 */
import { Registry } from 'prom-client';
import { loadKubeConfig as loadKubeConfigFile, type KubeConfig } from '../api/kubeconfig.js';
import { bindRestClientMetrics, createRestClientMetrics } from '../api/client-metrics.js';
import type { NodeletConfig } from '../config/index.js';
import type { ContainerRuntime } from '../cri/types.js';
import type { NodeAgent } from '../kubelet/node/index.js';
import type { ServingCertificateSource } from '../kubelet/server/api/types.js';
import { createKubeletMetrics, createProcessMetrics, HealthChecks, instrumentRuntime, startHealthServer, type HealthServer, type KubeletMetrics } from '../kubelet/server/index.js';
import { RealClock, type Clock } from '../util/clock.js';
import { ConfigError, errorMessage } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import { reportAccessDenials } from './access-report.js';
import { checkServerVersion } from './server-check.js';
import { KUBELET_VERSION } from './version.js';
import type { CertificateParts } from './certificates.js';
import { lockRootDir, type RootDirLock } from './lock.js';
import { startRoles, stopRoles, type Role } from './role.js';

/** Builds the optional roles that live in other areas (pod lifecycle, proxy); see wiring.ts and proxy-wiring.ts. */
export interface RoleFactories {
  /** The container runtime named by --container-runtime-endpoint (throws ConfigError for unsupported ones). */
  createRuntime(config: NodeletConfig, logger: Logger): ContainerRuntime;
  /** Kubelet parts beyond the node agent (the pod lifecycle); `nodeAgent` is undefined in standalone mode. */
  kubeletParts?(ctx: WiringContext, nodeAgent: NodeAgent | undefined): Role[];
  /** The proxy role, or undefined when it is not available in this build. */
  proxy?(ctx: WiringContext): Role | undefined;
}

/** What the wiring hands to role factories. */
export interface WiringContext {
  config: NodeletConfig;
  runtime: ContainerRuntime;
  kubeConfig: KubeConfig | undefined;
  metrics: KubeletMetrics;
  checks: HealthChecks;
  clock: Clock;
  logger: Logger;
  /** Registries of other roles (the proxy's kubeproxy_*); merged into the kubelet's /metrics. */
  extraRegistries: Registry[];
  /** The process's nodejs_* / process_* metrics, collected once; also in `metrics.registry` (the proxy serves them too). */
  processMetrics: Registry;
  /** The kubelet API's serving certificate from a kubelet-serving CSR (serverTLSBootstrap), when enabled. */
  servingCertificates?: ServingCertificateSource;
}

/** A running daemon. */
export interface Daemon {
  /** Port of the health server (undefined when disabled). */
  healthPort: number | undefined;
  /** The daemon's metrics registry (what /metrics serves; `nodelet hollow` serves all its nodes' together). */
  registry: Registry;
  /** Stops everything (idempotent); resolves when done. Pods keep running. */
  shutdown(reason: string): Promise<void>;
}

function loadKubeConfig(path: string, field = '--kubeconfig'): KubeConfig {
  try {
    return loadKubeConfigFile(path);
  } catch (err) {
    throw new ConfigError(`flag ${field}: cannot load ${path}: ${errorMessage(err)}`, { field, cause: err });
  }
}

/** Starts nodelet. Throws ConfigError for problems found before anything runs (lock held, bad kubeconfig, swap). */
export async function startDaemon(config: NodeletConfig, factories: RoleFactories, logger: Logger, swapBytes: number): Promise<Daemon> {
  if (config.roles.kubelet && config.kubelet.failSwapOn && swapBytes > 0) {
    throw new ConfigError('running with swap on is not supported, please disable swap or set --fail-swap-on flag to false', { field: '--fail-swap-on' });
  }
  // TLS bootstrap (--bootstrap-kubeconfig) writes --kubeconfig first when it is missing or its certificate unusable.
  const certificates = config.roles.kubelet || config.bootstrapKubeconfig !== undefined ? await import('./certificates.js') : undefined;
  await certificates?.runTlsBootstrap(config, new RealClock(), logger);
  const kubeletWiring = config.roles.kubelet ? await import('./kubelet-role.js') : undefined;
  const kubeConfig = config.kubeconfig === undefined ? undefined : loadKubeConfig(config.kubeconfig);
  // The proxy role's own identity (KubeProxyConfiguration.clientConnection.kubeconfig / --proxy-kubeconfig), else the kubelet's.
  const proxyKubeconfigPath = config.proxy.document.clientConnection?.kubeconfig || undefined;
  const proxyKubeConfig = proxyKubeconfigPath === undefined || proxyKubeconfigPath === config.kubeconfig ? kubeConfig : loadKubeConfig(proxyKubeconfigPath, '--proxy-kubeconfig');
  const lock: RootDirLock = await lockRootDir(config.rootDir);
  const clock = new RealClock();
  const checks = new HealthChecks();
  const processMetrics = createProcessMetrics();
  const metrics = createKubeletMetrics(config.nodeName, undefined, processMetrics);
  // rest_client_* of every API client of this daemon's identities (src/api/client-metrics.ts), on its /metrics.
  const restMetrics = createRestClientMetrics(metrics.registry);
  for (const kc of [kubeConfig, proxyKubeConfig]) if (kc !== undefined) bindRestClientMetrics(kc, restMetrics);
  const roles: Role[] = [];
  let server: HealthServer | undefined;
  let runtime: ContainerRuntime | undefined;
  const extraRegistries: Registry[] = [];
  const stopReports: (() => void)[] = [];
  if (config.roles.kubelet && kubeConfig !== undefined) stopReports.push(reportAccessDenials(kubeConfig, config.kubeconfig, 'api-access', checks, logger.child({ role: 'kubelet' })));
  if (config.roles.proxy && proxyKubeConfig !== undefined && (proxyKubeConfig !== kubeConfig || !config.roles.kubelet)) {
    stopReports.push(reportAccessDenials(proxyKubeConfig, proxyKubeconfigPath ?? config.kubeconfig, proxyKubeConfig === kubeConfig ? 'api-access' : 'proxy-api-access', checks, logger.child({ role: 'proxy' })));
  }
  for (const kc of new Set([config.roles.kubelet ? kubeConfig : undefined, config.roles.proxy ? proxyKubeConfig : undefined])) {
    if (kc !== undefined) stopReports.push(checkServerVersion(kc, KUBELET_VERSION, clock, logger.child({ component: 'server-version' })));
  }
  try {
    const certs: CertificateParts = certificates?.certificateRoles(config, kubeConfig, clock, logger) ?? { roles: [], serving: undefined };
    roles.push(...certs.roles);
    if (kubeletWiring !== undefined) {
      runtime = instrumentRuntime(factories.createRuntime(config, logger), metrics);
      const ctx: WiringContext = { config, runtime, kubeConfig, metrics, checks, clock, logger, extraRegistries, processMetrics, servingCertificates: certs.serving };
      roles.push(kubeletWiring.createKubeletRole({ config, runtime, kubeConfig, checks, clock, logger, parts: (agent) => factories.kubeletParts?.(ctx, agent) ?? [] }));
    }
    if (config.roles.proxy) {
      const ctx = { config, runtime: runtime as ContainerRuntime, kubeConfig: proxyKubeConfig, metrics, checks, clock, logger, extraRegistries, processMetrics };
      const proxy = factories.proxy?.(ctx);
      if (proxy === undefined) logger.warn('the proxy role is not available in this build; running without it');
      else roles.push(proxy);
    }
    if (config.roles.kubelet && config.kubelet.healthzPort !== 0) {
      const rt = runtime;
      server = await startHealthServer({
        host: config.kubelet.healthzBindAddress,
        port: config.kubelet.healthzPort,
        checks,
        registry: extraRegistries.length === 0 ? metrics.registry : Registry.merge([metrics.registry, ...extraRegistries]),
        logger,
        beforeScrape: rt === undefined || kubeletWiring === undefined ? undefined : kubeletWiring.runningCountsRefresher(rt, metrics, config.nodeName),
      }).catch((err: unknown) => {
        throw new ConfigError(`cannot listen on ${config.kubelet.healthzBindAddress}:${config.kubelet.healthzPort} for /healthz: ${errorMessage(err)}`, { field: '--healthz-port', cause: err });
      });
    }
    await startRoles(roles);
  } catch (err) {
    await server?.close();
    await runtime?.close().catch(() => undefined);
    await lock.release();
    throw err;
  }
  let stopping: Promise<void> | undefined;
  return {
    healthPort: server?.port,
    registry: metrics.registry,
    shutdown(reason) {
      stopping ??= (async () => {
        logger.info({ reason }, 'shutting down (pods keep running)');
        for (const stop of stopReports) stop();
        const errors = await stopRoles(roles);
        for (const e of errors) logger.error({ err: errorMessage(e) }, 'error while stopping');
        await server?.close();
        await runtime?.close().catch(() => undefined);
        await lock.release();
        logger.info('stopped');
      })();
      return stopping;
    },
  };
}
