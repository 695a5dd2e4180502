/**
 * Wires the pod half of the kubelet: pod environment (src/kubelet/podenv), prober (src/probes) and pod lifecycle
 * (src/kubelet/pods) with one event recorder, the node agent's Node (for admission labels, mirror pod owners and the
 * host IP), the shared metrics registry and the health checks (`pleg`, `syncloop`).
 */
import { ApiClient, createEventRecorder } from '../api/index.js';
import { ApiObjectSource } from '../api/objects.js';
import { createPodEnvironment } from '../kubelet/podenv/index.js';
import { createPodLifecycle, type PodLifecycle } from '../kubelet/pods/index.js';
import { HostCgroups, PodCgroupManager } from '../kubelet/cm/index.js';
import { ImageGcManager, statfsUsage } from '../kubelet/images/index.js';
import type { PodCgroups } from '../kubelet/pods/deps.js';
import { LABELS } from '../cri/types.js';
import { createHostReader, Loop, type NodeAgent } from '../kubelet/node/index.js';
import { errorMessage } from '../util/errors.js';
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
  const cgroups = podCgroupsPart(ctx);
  const pods = createPodLifecycle({
    podCgroups: cgroups?.podCgroups,
    nodeName: config.nodeName,
    rootDir: config.rootDir,
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
    kubeConfig,
    recorder,
    logger: logger.child({ component: 'pods' }),
    clock,
    metrics: ctx.metrics,
  });
  ref.lifecycle = pods;
  const imageGc = imageGcLoop(ctx, recorder);
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
      await cgroups?.start(() => new Set(pods.pods().map((p) => p.metadata?.uid ?? '')));
      await pods.start();
      imageGc.start();
    },
    async stop() {
      await cgroups?.stop();
      await imageGc.stop();
      await pods.stop();
      prober.stop();
      await recorder.flush();
      recorder.stop();
      eventClient?.close();
    },
  };
}

/** Upstream ImageGCPeriod. */
const IMAGE_GC_PERIOD_MS = 5 * 60_000;

/**
 * The image garbage collector on its own loop (every 5 min, first run at start): a failure is logged with its code;
 * from the second failure on it is also a Node event `ImageGCFailed`, as upstream (the first may be stats warming up).
 */
function imageGcLoop(ctx: WiringContext, recorder: ReturnType<typeof createEventRecorder>): Loop {
  const { config, clock } = ctx;
  const k = config.kubelet;
  const logger = ctx.logger.child({ role: 'kubelet', component: 'image-gc' });
  const gc = new ImageGcManager({
    runtime: ctx.runtime,
    fsStats: statfsUsage,
    policy: {
      highThresholdPercent: k.imageGCHighThresholdPercent,
      lowThresholdPercent: k.imageGCLowThresholdPercent,
      minAgeMs: k.imageMinimumGCAgeMs,
      maxAgeMs: k.imageMaximumGCAgeMs,
    },
    pinnedImages: [k.podInfraContainerImage],
    nodeName: config.nodeName,
    recorder,
    clock,
    logger,
    registry: ctx.metrics.registry,
  });
  let failedBefore = false;
  return new Loop({
    clock,
    logger,
    errorDelayMs: IMAGE_GC_PERIOD_MS,
    step: async () => {
      try {
        await gc.garbageCollect();
        failedBefore = false;
      } catch (err) {
        const code = (err as { code?: string }).code ?? 'IMAGE_GC_FAILED';
        if (failedBefore) {
          recorder.event({ kind: 'Node', apiVersion: 'v1', name: config.nodeName, uid: config.nodeName }, 'Warning', 'ImageGCFailed', errorMessage(err));
          logger.warn({ code, err: errorMessage(err) }, 'image garbage collection failed');
        } else {
          logger.info({ code, err: errorMessage(err) }, 'image garbage collection failed once; stats initialization may not have completed yet');
        }
        failedBefore = true;
      }
      return IMAGE_GC_PERIOD_MS;
    },
  });
}

/** How often orphaned pod cgroups are looked for (upstream does it in its 2 s housekeeping; this is cheaper). */
const CGROUP_CLEANUP_PERIOD_MS = 30_000;

/**
 * The pod cgroup hierarchy (cgroupsPerQOS): opened and created at start (a failure stops the agent from starting, as
 * upstream), pod cgroups made by the pod workers, orphans removed on a loop. Undefined with cgroupsPerQOS false.
 */
function podCgroupsPart(ctx: WiringContext):
  | { podCgroups: PodCgroups; start(activeUIDs: () => Set<string>): Promise<void>; stop(): Promise<void> }
  | undefined {
  const { config, clock } = ctx;
  const k = config.kubelet;
  if (!k.cgroupsPerQOS) return undefined;
  const logger = ctx.logger.child({ role: 'kubelet', component: 'cgroups' });
  let manager: PodCgroupManager | undefined;
  let loop: Loop | undefined;
  const notStarted = (): never => {
    throw new Error('pod cgroups used before the kubelet started');
  };
  return {
    podCgroups: {
      ensurePod: (pod) => (manager ?? notStarted()).ensurePod(pod),
      removePod: (uid) => (manager === undefined ? Promise.resolve(true) : manager.removePod(uid)),
    },
    async start(activeUIDs) {
      const host = createHostReader();
      const capacity = { cpuMilli: host.identity().cpuCount * 1000, memoryBytes: host.readings(config.rootDir).memory.totalBytes };
      const enforce = k.enforceNodeAllocatable.includes('pods');
      const reserved = (r: 'cpuMilli' | 'memoryBytes'): number => (enforce ? k.kubeReserved[r] + k.systemReserved[r] : 0);
      const m = new PodCgroupManager({
        cgroups: await HostCgroups.open(),
        driver: k.cgroupDriver,
        cgroupRoot: k.cgroupRoot,
        kubepods: { cpuMilli: capacity.cpuMilli - reserved('cpuMilli'), memoryBytes: capacity.memoryBytes - reserved('memoryBytes') },
        cpuCFSQuota: k.cpuCFSQuota,
        podPidsLimit: k.podPidsLimit,
        logger,
      });
      await m.start();
      manager = m;
      logger.info({ cgroupRoot: k.cgroupRoot, driver: k.cgroupDriver, enforceNodeAllocatable: k.enforceNodeAllocatable }, 'pod cgroup hierarchy ready');
      loop = new Loop({
        clock,
        logger,
        errorDelayMs: CGROUP_CLEANUP_PERIOD_MS,
        step: async () => {
          const active = activeUIDs();
          for (const s of await ctx.runtime.listPodSandboxes()) active.add(s.labels[LABELS.podUID] ?? s.metadata.uid);
          await m.cleanupOrphans(active);
          return CGROUP_CLEANUP_PERIOD_MS;
        },
      });
      loop.start(CGROUP_CLEANUP_PERIOD_MS);
    },
    async stop() {
      await loop?.stop();
    },
  };
}
