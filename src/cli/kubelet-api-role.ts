/**
 * Wires the kubelet API (src/kubelet/server/api) on `port` (10250) and, when set, `readOnlyPort`: the serving
 * certificate (files re-read when they change unless the feature gate ReloadKubeletServerCertificateFile is false, a
 * serverTLSBootstrap source, or self-signed in `<root-dir>/pki`), the client CA (re-read when it changes), webhook
 * authentication/authorization through the API server (TokenReview / SubjectAccessReview) or AlwaysAllow, the pod
 * lookup over the pod lifecycle, and the optional streaming and stats handlers built elsewhere.
 */
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { ApiClient } from '../api/index.js';
import type { ContainerLogs, ContainerRuntime } from '../cri/types.js';
import { clientCAFromFile, NodeFileWatcher, servingCertificateFromFiles, type DynamicFileContent } from '../kubelet/certificate/index.js';
import { ownerLabels, type PodLifecycle } from '../kubelet/pods/index.js';
import {
  alwaysAllow,
  createApiHandler,
  createEngineLogReader,
  createAuthenticator,
  createPodLookup,
  createReviewClient,
  createWebhookAuthorizer,
  loadOrCreateSelfSigned,
  readCertificateFiles,
  startKubeletApiServer,
  staticCertificateSource,
  tlsOptions,
  type ClientCASource,
  type KubeletApiServer,
  type ServingCertificateSource,
  type StatsHandler,
  type StreamingHandler,
} from '../kubelet/server/api/index.js';
import { refreshRunningCounts } from '../kubelet/server/index.js';
import type { TimerHandle } from '../util/clock.js';
import { ConfigError, errorMessage } from '../util/errors.js';
import type { WiringContext } from './daemon.js';
import { runtimeKind, socketPath } from './endpoint.js';
import type { Role } from './role.js';

/** What the API role needs besides the wiring context. */
export interface KubeletApiRoleOptions {
  lifecycle: Pick<PodLifecycle, 'pods'>;
  /** The node's IPs (SANs of the self-signed certificate). */
  nodeIPs: string[];
  streaming?: StreamingHandler;
  stats?: StatsHandler;
  /** serverTLSBootstrap's certificate source (src/kubelet/certificate), when available. */
  servingCertificates?: ServingCertificateSource;
}

/** Retry period of a failed bind (port in use). */
const RETRY_MS = 10_000;

/** The running API role (the bound ports, for tests and logs). */
export interface KubeletApiRole extends Role {
  server(): KubeletApiServer | undefined;
}

/** First load of reloadable material: failing it stops the start, as upstream (ConfigError with the typed cause). */
async function loadAtStart<T>(content: DynamicFileContent<T>, field: string): Promise<DynamicFileContent<T>> {
  try {
    await content.load();
    return content;
  } catch (err) {
    throw new ConfigError(errorMessage(err), { field: (err as { field?: string }).field ?? field, cause: err });
  }
}

/** The `kubeletconfig` of /configz: the effective settings under their upstream names. */
export function configzDocument(ctx: WiringContext): Record<string, unknown> {
  const k = ctx.config.kubelet;
  const s = k.server;
  const dur = (ms: number): string => `${ms / 1000}s`;
  return {
    enableServer: s.enabled,
    staticPodPath: k.staticPodPath,
    syncFrequency: dur(k.syncFrequencyMs),
    fileCheckFrequency: dur(k.fileCheckFrequencyMs),
    httpCheckFrequency: dur(k.httpCheckFrequencyMs),
    address: s.address,
    port: s.port,
    readOnlyPort: s.readOnlyPort,
    tlsCertFile: s.tlsCertFile,
    tlsPrivateKeyFile: s.tlsPrivateKeyFile,
    tlsMinVersion: s.tlsMinVersion,
    tlsCipherSuites: s.tlsCipherSuites,
    serverTLSBootstrap: s.serverTLSBootstrap,
    authentication: {
      x509: { clientCAFile: s.clientCAFile },
      webhook: { enabled: s.webhookAuthentication, cacheTTL: dur(s.webhookAuthenticationCacheTTLMs) },
      anonymous: { enabled: s.anonymousAuthentication },
    },
    authorization: { mode: s.authorizationMode, webhook: { cacheAuthorizedTTL: dur(s.authorizedTTLMs), cacheUnauthorizedTTL: dur(s.unauthorizedTTLMs) } },
    healthzPort: k.healthzPort,
    healthzBindAddress: k.healthzBindAddress,
    clusterDomain: k.clusterDomain,
    clusterDNS: k.clusterDNS,
    nodeStatusUpdateFrequency: dur(k.nodeStatusUpdateFrequencyMs),
    nodeStatusReportFrequency: dur(k.nodeStatusReportFrequencyMs),
    nodeLeaseDurationSeconds: k.nodeLeaseDurationSeconds,
    runtimeRequestTimeout: dur(k.runtimeRequestTimeoutMs),
    maxPods: k.maxPods,
    podPidsLimit: k.podPidsLimit,
    resolvConf: k.resolvConf,
    cgroupDriver: k.cgroupDriver,
    failSwapOn: k.failSwapOn,
    containerLogMaxSize: `${Math.round(k.containerLogMaxSizeBytes / 2 ** 20)}Mi`,
    containerLogMaxFiles: k.containerLogMaxFiles,
    enableDebuggingHandlers: s.enableDebuggingHandlers,
    enableSystemLogHandler: s.enableSystemLogHandler,
    containerRuntimeEndpoint: k.containerRuntimeEndpoint,
    registerNode: k.registerNode,
    featureGates: k.featureGates,
  };
}

/** Builds the kubelet API role (nothing listens before `start()`). */
export function createKubeletApiRole(ctx: WiringContext, o: KubeletApiRoleOptions): KubeletApiRole {
  const { config, clock } = ctx;
  const s = config.kubelet.server;
  const logger = ctx.logger.child({ role: 'kubelet', component: 'api' });
  let server: KubeletApiServer | undefined;
  let api: ApiClient | undefined;
  let retry: TimerHandle | undefined;
  let stopped = false;
  const reloading: DynamicFileContent<unknown>[] = [];
  return {
    name: 'kubelet-api',
    server: () => server,
    async start() {
      if (!s.enabled) {
        logger.info('kubelet API disabled (enableServer: false)');
        return;
      }
      const tls = tlsOptions(s.tlsMinVersion, s.tlsCipherSuites);
      const material = { files: new NodeFileWatcher(), clock, logger };
      let clientCA: ClientCASource | undefined;
      if (s.clientCAFile !== '') {
        const ca = await loadAtStart(clientCAFromFile(s.clientCAFile, material), '--client-ca-file');
        reloading.push(ca);
        clientCA = ca;
      }
      let certificates: ServingCertificateSource;
      if (s.tlsCertFile !== '' && s.tlsPrivateKeyFile !== '' && config.kubelet.featureGates['ReloadKubeletServerCertificateFile'] !== false) {
        const files = await loadAtStart(servingCertificateFromFiles(s.tlsCertFile, s.tlsPrivateKeyFile, material), '--tls-cert-file');
        reloading.push(files);
        certificates = files;
      } else if (s.tlsCertFile !== '') certificates = staticCertificateSource(readCertificateFiles(s.tlsCertFile, s.tlsPrivateKeyFile));
      else if (s.serverTLSBootstrap && o.servingCertificates !== undefined) certificates = o.servingCertificates;
      else {
        if (s.serverTLSBootstrap) logger.warn('serverTLSBootstrap is set but no certificate source is available; using a self-signed certificate');
        const names = [...new Set([config.nodeName, hostname().toLowerCase(), ...o.nodeIPs])];
        certificates = staticCertificateSource(await loadOrCreateSelfSigned(join(config.rootDir, 'pki'), config.nodeName, names, clock.now()));
      }
      api = ctx.kubeConfig === undefined ? undefined : new ApiClient(ctx.kubeConfig);
      const reviews = api === undefined ? undefined : createReviewClient(api);
      if (reviews === undefined && (s.webhookAuthentication || s.authorizationMode === 'Webhook')) {
        logger.warn('no API server (standalone): bearer tokens are not accepted and Webhook authorization denies every request');
      }
      const runtime = ctx.runtime as ContainerRuntime & Partial<ContainerLogs>;
      const docker = runtimeKind(config.kubelet.containerRuntimeEndpoint) === 'docker';
      const registry = ctx.extraRegistries.length === 0 ? ctx.metrics.registry : Registry.merge([ctx.metrics.registry, ...ctx.extraRegistries]);
      const handler = createApiHandler({
        nodeName: config.nodeName,
        fineGrainedAuthz: config.kubelet.featureGates['KubeletFineGrainedAuthz'] !== false,
        authenticator: createAuthenticator({
          x509: clientCA !== undefined,
          ...(clientCA === undefined ? {} : { clientCA }),
          tokenReviews: s.webhookAuthentication ? reviews : undefined,
          cacheTTLMs: s.webhookAuthenticationCacheTTLMs,
          anonymous: s.anonymousAuthentication,
          clock,
          logger,
        }),
        authorizer: s.authorizationMode === 'AlwaysAllow' ? alwaysAllow : createWebhookAuthorizer({ reviews, authorizedTTLMs: s.authorizedTTLMs, unauthorizedTTLMs: s.unauthorizedTTLMs, clock }),
        lookup: createPodLookup({ pods: () => o.lifecycle.pods(), runtime }),
        runtime,
        logBackend: docker ? 'engine' : 'cri-files',
        ...(docker ? { engineLogs: createEngineLogReader(socketPath(config.kubelet.containerRuntimeEndpoint)) } : {}),
        checks: ctx.checks,
        registry,
        beforeScrape: () => refreshRunningCounts(runtime, ctx.metrics, ownerLabels(ctx.config.nodeName)),
        configz: () => configzDocument(ctx),
        ...(o.streaming === undefined ? {} : { streaming: o.streaming }),
        ...(o.stats === undefined ? {} : { stats: o.stats }),
        enableDebuggingHandlers: s.enableDebuggingHandlers,
        enableSystemLogHandler: s.enableSystemLogHandler,
        runTimeoutSeconds: Math.ceil(config.kubelet.runtimeRequestTimeoutMs / 1000),
        clock,
        logger,
      });
      // A port in use is not fatal (upstream exits and its supervisor restarts it): the pods keep being run and
      // binding is retried every RETRY_MS until it succeeds.
      const listen = async (): Promise<void> => {
        retry = undefined;
        try {
          server = await startKubeletApiServer({ address: s.address, port: s.port, readOnlyPort: s.readOnlyPort, certificates, clientCA, tls, handler, logger });
          logger.info({ address: s.address, port: server.port, readOnlyPort: server.readOnlyPort, authorizationMode: s.authorizationMode, anonymous: s.anonymousAuthentication }, 'kubelet API listening');
        } catch (err) {
          if (stopped) return;
          logger.error({ err: errorMessage(err), address: s.address, port: s.port, retryInMs: RETRY_MS }, 'cannot listen for the kubelet API; retrying');
          retry = clock.setTimeout(() => void listen(), RETRY_MS);
        }
      };
      for (const r of reloading) r.start();
      await listen();
    },
    async stop() {
      stopped = true;
      if (retry !== undefined) clock.clearTimeout(retry);
      for (const r of reloading.splice(0)) r.stop();
      await server?.close();
      server = undefined;
      api?.close();
      api = undefined;
    },
  };
}

