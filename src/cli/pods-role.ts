/**
 * Wires the pod half of the kubelet: pod environment (src/kubelet/podenv), prober (src/probes) and pod lifecycle
 * (src/kubelet/pods) with one event recorder, the node agent's Node (for admission labels, mirror pod owners and the
 * host IP), the shared metrics registry and the health checks (`pleg`, `syncloop`).
 */
import { FileAllocationState } from '../kubelet/allocation/index.js';
import type { V1Pod } from '@kubernetes/client-node';
import { ApiClient, createEventRecorder, createInformer, createPodApi } from '../api/index.js';
import { podInformerOptions } from '../kubelet/sources/index.js';
import { ApiObjectSource } from '../api/objects.js';
import { createPodEnvironment, FakeMounter, HostMounter } from '../kubelet/podenv/index.js';
import { runtimeKind } from './endpoint.js';
import { createPodLifecycle, type PodLifecycle } from '../kubelet/pods/index.js';
import { createNodeResources } from './node-resources.js';
import { createHostReader, type NodeAgent } from '../kubelet/node/index.js';
import { createProberManager } from '../probes/index.js';
import type { WiringContext } from './daemon.js';
import type { Role } from './role.js';
import { KUBELET_VERSION } from './version.js';

/** The pods role with its lifecycle exposed (the kubelet API reads the pods it runs). */
export interface PodsRole extends Role {
  readonly lifecycle: PodLifecycle;
  /** The node IP the pods role uses (host IP of pods). */
  readonly nodeIP: string;
}

/** Builds the pods role. Nothing starts before `start()`. */
export function createPodsRole(ctx: WiringContext, nodeAgent: NodeAgent | undefined): PodsRole {
  const { config, runtime, kubeConfig, clock } = ctx;
  const logger = ctx.logger.child({ role: 'kubelet' });
  const k = config.kubelet;
  const nodeIP = config.nodeIP ?? nodeAgent?.nodeIP() ?? createHostReader().defaultAddress() ?? '127.0.0.1';
  const eventClient = kubeConfig === undefined ? undefined : new ApiClient(kubeConfig);
  const recorder = createEventRecorder({
    client: eventClient,
    host: config.nodeName,
    clock,
    logger: logger.child({ component: 'events' }),
  });
  const podEnvironment = createPodEnvironment({
    rootDir: config.rootDir,
    nodeName: config.nodeName,
    nodeIPs: [nodeIP],
    podInfraImage: k.podInfraContainerImage,
    clusterDNS: k.clusterDNS,
    clusterDomain: k.clusterDomain,
    resolvConf: k.resolvConf,
    objects: kubeConfig === undefined ? undefined : new ApiObjectSource({ kubeConfig, clock }),
    recorder,
    logger: logger.child({ component: 'podenv' }),
    clock,
    podPidsLimit: k.podPidsLimit,
    allowedUnsafeSysctls: k.allowedUnsafeSysctls,
    podLogsDir: k.podLogsDir,
    // The fake runtime (simulation) gets no mounts on the host.
    mounter: runtimeKind(k.containerRuntimeEndpoint) === 'fake' ? new FakeMounter() : new HostMounter(),
  });
  // The prober reads statuses the lifecycle computes; the lifecycle takes the prober: bind late.
  const ref: { lifecycle?: PodLifecycle } = {};
  const prober = createProberManager({
    runtime,
    getPodStatus: (uid) => ref.lifecycle?.podStatus(uid),
    recorder,
    logger,
    clock,
    nodeIP,
    metrics: ctx.metrics.registry,
    kubeletVersion: KUBELET_VERSION,
  });
  const headers = Object.fromEntries(Object.entries(k.staticPodURLHeader).map(([name, v]) => [name, v[0] ?? '']));
  const resources = createNodeResources(ctx, recorder, nodeAgent);
  const pods = createPodLifecycle({
    podCgroups: resources.podCgroups,
    legacyLogLinks: resources.legacyLogLinks,
    // In-place resize: allocations checkpointed in the root dir (kept across restarts).
    allocationState: FileAllocationState.inRootDir(config.rootDir, (err) => logger.warn({ err: err.message }, 'allocation checkpoint')),
    cpuCFSQuota: k.cpuCFSQuota,
    podLogsDir: k.podLogsDir,
    maxDeadPerContainer: k.containerGC.maxPerPodContainer,
    admitHandlers: [(pod) => resources.admit(pod)],
    nodeName: config.nodeName,
    podInfraImage: k.podInfraContainerImage,
    staticPodPath: k.staticPodPath || undefined,
    manifestURL: k.staticPodURL || undefined,
    manifestURLHeaders: headers,
    fileCheckFrequencyMs: k.fileCheckFrequencyMs,
    httpCheckFrequencyMs: k.httpCheckFrequencyMs,
    syncFrequencyMs: k.syncFrequencyMs,
    housekeepingPeriodMs: k.nodeStatusUpdateFrequencyMs,
    maxPods: k.maxPods,
    allowedUnsafeSysctls: k.allowedUnsafeSysctls,
    getNode: nodeAgent === undefined ? undefined : () => nodeAgent.node(),
    hostIPs: [nodeIP],
    runtime,
    podEnvironment,
    prober,
    // The API pod source and status writes (one keep-alive client shared with the events).
    podApi: eventClient === undefined ? undefined : createPodApi(eventClient),
    podInformer: kubeConfig === undefined ? undefined : createInformer<V1Pod>(kubeConfig, podInformerOptions(config.nodeName), logger.child({ component: 'pod-informer' })),
    recorder,
    logger: logger.child({ component: 'pods' }),
    clock,
    metrics: ctx.metrics,
  });
  ref.lifecycle = pods;
  for (const hc of pods.healthChecks()) {
    ctx.checks.add(hc.name, () => {
      const r = hc.check();
      return r === true ? undefined : r === false ? 'failed' : r;
    });
  }
  return {
    name: 'pods',
    lifecycle: pods,
    nodeIP,
    async start() {
      await resources.start(pods);
      await pods.start();
    },
    async stop() {
      await resources.stop();
      await pods.stop();
      prober.stop();
      await recorder.flush();
      recorder.stop();
      eventClient?.close();
    },
  };
}

