/**
 * The only place that knows which real implementations exist: the runtime backend, the pod lifecycle, the proxy
 * (a proxy-only process uses proxy-wiring.ts instead, which loads none of the kubelet's).
 */
import { CriRuntime } from '../cri/containerd/index.js';
import { DockerRuntime } from '../cri/docker/index.js';
import { FakeRuntime } from '../cri/fake/index.js';
import type { RoleFactories } from './daemon.js';
import { runtimeKind, socketPath } from './endpoint.js';
import { dockerPodNetwork, podCidrRoles, podNetworkRoles } from './network-wiring.js';
import { createKubeletApiRole } from './kubelet-api-role.js';
import { createStreamingHandler, streamingOf } from '../kubelet/streaming/index.js';
import { createPodLookup } from '../kubelet/server/api/index.js';
import { createPodsRole } from './pods-role.js';
import { proxyWiring } from './proxy-wiring.js';
import { createStatsParts } from './stats-wiring.js';

export { runNodeCleanup as runCleanup } from './network-wiring.js';

/** The factories used by the real daemon. */
export const wiring: RoleFactories = {
  createRuntime(config, logger) {
    const endpoint = config.kubelet.containerRuntimeEndpoint;
    if (runtimeKind(endpoint) === 'fake') {
      // Simulation (hollow nodes, as kubemark): containers "run" in memory as their command is modelled.
      logger.warn({ endpoint }, 'Using the in-memory fake runtime: no container runs (simulation mode)');
      return new FakeRuntime({ recordCalls: false, pullAnyImage: true });
    }
    if (runtimeKind(endpoint) === 'cri') {
      logger.info({ endpoint }, 'Using the CRI v1 runtime backend');
      return new CriRuntime({ socketPath: socketPath(endpoint), requestTimeoutMs: config.kubelet.runtimeRequestTimeoutMs, podLogsRoot: config.kubelet.podLogsDir, logger });
    }
    return new DockerRuntime({
      socketPath: socketPath(endpoint),
      logMaxSize: `${Math.max(1, Math.floor(config.kubelet.containerLogMaxSizeBytes / 2 ** 20))}m`,
      logMaxFiles: config.kubelet.containerLogMaxFiles,
      logger,
      podNetwork: dockerPodNetwork(config, logger),
    });
  },
  kubeletParts(ctx, nodeAgent) {
    const pods = createPodsRole(ctx, nodeAgent);
    // The kubelet API (port 10250) starts after the pods role; the streaming and stats handlers plug in here.
    const lookup = createPodLookup({ pods: () => pods.lifecycle.pods(), runtime: ctx.runtime });
    const streamingRuntime = streamingOf(ctx.runtime);
    const streaming =
      streamingRuntime === undefined
        ? undefined
        : createStreamingHandler({
            lookup,
            runtime: streamingRuntime,
            logger: ctx.logger,
            idleTimeoutMs: ctx.config.kubelet.streamingConnectionIdleTimeoutMs,
          });
    const statsParts = createStatsParts(ctx, lookup);
    const api = createKubeletApiRole(ctx, {
      stats: statsParts.stats,
      lifecycle: pods.lifecycle,
      nodeIPs: [pods.nodeIP],
      servingCertificates: ctx.servingCertificates,
      ...(streaming === undefined ? {} : { streaming }),
    });
    return [...podNetworkRoles(ctx), ...podCidrRoles(ctx, nodeAgent), pods, statsParts.role, api];
  },
  proxy: proxyWiring.proxy,
};
