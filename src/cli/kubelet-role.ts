/**
 * The kubelet role as wired here: the runtime monitor (health + Ready condition), the node agent (registration,
 * node status, lease) when an API server is configured, and the pod lifecycle when it is available. The daemon loads
 * this module only when the kubelet role runs.
 */
import { ApiClient, createLeaseApi, createNodeApi, type KubeConfig } from '../api/index.js';
import type { NodeletConfig } from '../config/index.js';
import type { ContainerRuntime } from '../cri/types.js';
import { createHostReader, Loop, NodeAgent, RuntimeMonitor, type HostReader } from '../kubelet/node/index.js';
import { ownerLabels } from '../kubelet/pods/index.js';
import { refreshRunningCounts, type HealthChecks, type KubeletMetrics } from '../kubelet/server/index.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import type { Role } from './role.js';
import { KUBELET_VERSION } from './version.js';

/** Inputs of {@link createKubeletRole}. */
export interface KubeletRoleOptions {
  config: NodeletConfig;
  runtime: ContainerRuntime;
  kubeConfig: KubeConfig | undefined;
  checks: HealthChecks;
  clock: Clock;
  logger: Logger;
  host?: HostReader;
  /** Builds further parts of the kubelet (the pod lifecycle), started after the node agent, given the agent. */
  parts?: (nodeAgent: NodeAgent | undefined) => Role[];
}

/** The kubelet role with its node agent exposed (for tests and health checks). */
export interface KubeletRole extends Role {
  readonly monitor: RuntimeMonitor;
  readonly nodeAgent: NodeAgent | undefined;
}

/** Builds the kubelet role. */
export function createKubeletRole(o: KubeletRoleOptions): KubeletRole {
  const { config, clock } = o;
  const logger = o.logger.child({ role: 'kubelet' });
  const host = o.host ?? createHostReader();
  // A stopped engine fails at once (connection refused); a busy one (a burst of sandboxes) may answer slowly and is
  // given the runtime request timeout, as upstream, instead of being reported down.
  const monitor = new RuntimeMonitor({
    runtime: o.runtime,
    clock,
    logger: logger.child({ component: 'runtime' }),
    timeoutMs: config.kubelet.runtimeRequestTimeoutMs,
  });
  const monitorPeriod = Math.min(5000, config.kubelet.nodeStatusUpdateFrequencyMs);
  // One client (one keep-alive agent) for the node status and the lease.
  const api = o.kubeConfig === undefined ? undefined : new ApiClient(o.kubeConfig);
  const nodeAgent =
    api === undefined
      ? undefined
      : new NodeAgent({
          nodeName: config.nodeName,
          nodeIP: config.nodeIP,
          rootDir: config.rootDir,
          settings: { ...config.kubelet },
          versions: { kubeletVersion: KUBELET_VERSION, kubeProxyVersion: KUBELET_VERSION },
          kubeletPort: config.kubelet.server.port,
          nodes: createNodeApi(api),
          leases: createLeaseApi(api),
          host,
          runtime: monitor,
          clock,
          logger: logger.child({ component: 'node' }),
        });
  let prev = monitor.health().state;
  const monitorLoop = new Loop({
    clock,
    logger,
    errorDelayMs: monitorPeriod,
    step: async () => {
      const h = await monitor.check();
      if (h.state !== prev) nodeAgent?.kickStatus();
      prev = h.state;
      return monitorPeriod;
    },
  });
  o.checks.add('runtime', () => {
    const h = monitor.health();
    return h.state === 'down' ? `container runtime is down: ${h.error}` : undefined;
  });
  const parts = o.parts?.(nodeAgent) ?? [];
  return {
    name: 'kubelet',
    monitor,
    nodeAgent,
    async start() {
      await monitor.check();
      monitorLoop.start(monitorPeriod);
      nodeAgent?.start();
      for (const p of parts) await p.start();
      logger.info({ standalone: o.kubeConfig === undefined, staticPodPath: config.kubelet.staticPodPath || undefined }, 'kubelet role started');
    },
    async stop() {
      for (const p of [...parts].reverse()) await p.stop();
      await nodeAgent?.stop();
      await monitorLoop.stop();
      api?.close();
    },
  };
}

/**
 * The kubelet health server's `beforeScrape`: refreshes kubelet_running_pods / kubelet_running_containers from the
 * runtime, counting only this agent's own objects (other agents on the same engine are not counted). Never throws.
 */
export function runningCountsRefresher(runtime: ContainerRuntime, metrics: KubeletMetrics, nodeName: string): () => Promise<void> {
  const owner = ownerLabels(nodeName);
  return () => refreshRunningCounts(runtime, metrics, owner);
}
