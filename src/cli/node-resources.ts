/**
 * Wires node resource management into the kubelet role: the pod cgroup hierarchy (cgroupsPerQOS), the image garbage
 * collector and the eviction manager, each on its own loop, started before the pod lifecycle's workers (a node whose
 * cgroups cannot be created does not start, as upstream) and stopped after them.
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { EventRecorder } from '../api/types.js';
import { LABELS } from '../cri/types.js';
import { HostCgroups, PodCgroupManager } from '../kubelet/cm/index.js';
import { ContainerGcManager } from '../kubelet/containergc/index.js';
import { ownerLabels } from '../kubelet/pods/index.js';
import { buildThresholds, EvictionManager, HostEvictionObserver } from '../kubelet/eviction/index.js';
import { ImageGcManager, statfsUsage } from '../kubelet/images/index.js';
import { ContainerLogManager, LegacyLogLinks, PodLogDirCleaner, type LogRotationRuntime, type PodLogDirPodState } from '../kubelet/logs/index.js';
import { DbusLogind, LogindDropIn, NodeShutdownManager, shutdownGroups } from '../kubelet/shutdown/index.js';
import type { NodeAgent } from '../kubelet/node/index.js';
import { createHostReader, Loop } from '../kubelet/node/index.js';
import type { PodCgroups } from '../kubelet/pods/deps.js';
import type { PodLifecycle } from '../kubelet/pods/index.js';
import { ConfigError, errorMessage } from '../util/errors.js';
import type { KubeletSettings } from '../config/types.js';
import type { WiringContext } from './daemon.js';
import { runtimeKind } from './endpoint.js';

/** Upstream ImageGCPeriod. */
const IMAGE_GC_PERIOD_MS = 5 * 60_000;
/** How often orphaned pod cgroups are looked for (upstream does it in its 2 s housekeeping; this is cheaper). */
const CGROUP_CLEANUP_PERIOD_MS = 30_000;
/** Upstream ContainerGCPeriod. */
const CONTAINER_GC_PERIOD_MS = 60_000;
/** Upstream's eviction monitoring interval. */
const EVICTION_PERIOD_MS = 10_000;

/** What the pods role uses. */
export interface NodeResources {
  /** Pod cgroups for the pod workers (undefined with cgroupsPerQOS false). */
  podCgroups: PodCgroups | undefined;
  /** Upstream's /var/log/containers links (undefined for the fake runtime, which writes no logs). */
  legacyLogLinks: LegacyLogLinks | undefined;
  /** Admission under node pressure (the eviction manager's). */
  admit(pod: V1Pod): { reason: string; message: string } | undefined;
  start(pods: PodLifecycle): Promise<void>;
  stop(): Promise<void>;
}

/** Builds the parts; nothing touches the host before `start()`. */
export function createNodeResources(ctx: WiringContext, recorder: EventRecorder, nodeAgent?: NodeAgent): NodeResources {
  const { config, clock } = ctx;
  const k = config.kubelet;
  const logger = ctx.logger.child({ role: 'kubelet' });
  const nodeRef = { kind: 'Node', apiVersion: 'v1', name: config.nodeName, uid: config.nodeName };
  const host = createHostReader();
  const imageGc = new ImageGcManager({
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
    logger: logger.child({ component: 'image-gc' }),
    registry: ctx.metrics.registry,
  });
  const containerGc = new ContainerGcManager({
    runtime: ctx.runtime,
    owner: ownerLabels(config.nodeName),
    policy: k.containerGC,
    clock,
    logger: logger.child({ component: 'container-gc' }),
  });
  let cgroupManager: PodCgroupManager | undefined;
  let eviction: EvictionManager | undefined;
  let shutdown: NodeShutdownManager | undefined;
  const loops: Loop[] = [];
  const notStarted = (): never => {
    throw new Error('pod cgroups used before the kubelet started');
  };
  const podCgroups: PodCgroups | undefined = k.cgroupsPerQOS
    ? {
        ensurePod: (pod, opts) => (cgroupManager ?? notStarted()).ensurePod(pod, opts),
        memoryResizeBlocked: (pod) => (cgroupManager ?? notStarted()).memoryResizeBlocked(pod),
        removePod: (uid) => (cgroupManager === undefined ? Promise.resolve(true) : cgroupManager.removePod(uid)),
      }
    : undefined;
  const loop = (component: string, periodMs: number, step: () => Promise<void>, firstDelayMs = periodMs): void => {
    const l = new Loop({
      clock,
      logger: logger.child({ component }),
      errorDelayMs: periodMs,
      step: async () => {
        await step();
        return periodMs;
      },
    });
    l.start(firstDelayMs);
    loops.push(l);
  };

  const legacyLogLinks = runtimeKind(k.containerRuntimeEndpoint) === 'fake' ? undefined : new LegacyLogLinks({
          // NODELET_LEGACY_LOG_LINKS_DIR: test runs keep their links out of the host's /var/log/containers.
          dir: process.env['NODELET_LEGACY_LOG_LINKS_DIR'] || undefined,
          logger: logger.child({ component: 'container-logs' }),
        });
  return {
    podCgroups,
    legacyLogLinks,
    admit: (pod) => shutdown?.admit() ?? eviction?.admit(pod),
    async start(pods) {
      const capacity = { cpuMilli: host.identity().cpuCount * 1000, memoryBytes: host.readings(config.rootDir).memory.totalBytes };
      const enforce = k.enforceNodeAllocatable.includes('pods');
      const reserved = (r: 'cpuMilli' | 'memoryBytes'): number => k.kubeReserved[r] + k.systemReserved[r];
      checkAgainstCapacity(k, capacity);
      const kubepods = {
        cpuMilli: capacity.cpuMilli - (enforce ? reserved('cpuMilli') : 0),
        memoryBytes: capacity.memoryBytes - (enforce ? reserved('memoryBytes') : 0),
      };
      let memoryMount = '/sys/fs/cgroup/memory';
      if (k.cgroupsPerQOS) {
        const cgroups = await HostCgroups.open();
        if (cgroups.version === 2) memoryMount = '/sys/fs/cgroup';
        const m = new PodCgroupManager({
          cgroups,
          driver: k.cgroupDriver,
          cgroupRoot: k.cgroupRoot,
          kubepods,
          cpuCFSQuota: k.cpuCFSQuota,
          podPidsLimit: k.podPidsLimit,
          logger: logger.child({ component: 'cgroups' }),
        });
        await m.start();
        cgroupManager = m;
        logger.info({ cgroupRoot: k.cgroupRoot, driver: k.cgroupDriver, enforceNodeAllocatable: k.enforceNodeAllocatable }, 'pod cgroup hierarchy ready');
        loop('cgroups', CGROUP_CLEANUP_PERIOD_MS, async () => {
          const active = new Set(pods.pods().map((p) => p.metadata?.uid ?? ''));
          for (const s of await ctx.runtime.listPodSandboxes()) active.add(s.labels[LABELS.podUID] ?? s.metadata.uid);
          await m.cleanupOrphans(active);
        });
      }
      const manager = cgroupManager;
      const ev = new EvictionManager({
        thresholds: buildThresholds({
          hard: k.evictionHard,
          soft: k.evictionSoft,
          softGracePeriodMs: k.evictionSoftGracePeriodMs,
          minReclaim: k.evictionMinimumReclaim,
        }),
        observer: new HostEvictionObserver({
          host,
          runtime: ctx.runtime,
          rootDir: config.rootDir,
          memoryCgroupMount: memoryMount,
          kubepods: manager === undefined ? undefined : { path: manager.kubepodsPath(), allocatableBytes: kubepods.memoryBytes },
          podCgroupPath: manager === undefined ? undefined : (pod) => manager.podCgroupPath(pod),
        }),
        activePods: () => pods.activePods(),
        evict: (pod, failure) => pods.failPod(pod.metadata?.uid ?? '', failure),
        // Upstream's node-level reclaim without a separate imagefs: dead containers first, then unused images.
        reclaimDisk: async () => {
          await containerGc.deleteAllUnusedContainers().catch((err: unknown) => logger.warn({ code: 'CONTAINER_GC_FAILED', err: errorMessage(err) }, 'eviction manager: deleting unused containers failed'));
          return imageGc.deleteUnusedImages();
        },
        transitionPeriodMs: k.evictionPressureTransitionPeriodMs,
        maxPodGracePeriodSeconds: k.evictionMaxPodGracePeriodSeconds,
        recorder,
        clock,
        logger: logger.child({ component: 'eviction' }),
      });
      eviction = ev;
      nodeAgent?.setPressureSource(() => ev.conditions());
      loop('eviction', EVICTION_PERIOD_MS, async () => {
        await ev.synchronize();
      });
      // CRI runtimes write the log files the kubelet rotates; Docker rotates its own (json-file max-size/max-file).
      const rt = ctx.runtime as Partial<LogRotationRuntime>;
      if (typeof rt.reopenContainerLog === 'function') {
        const logs = new ContainerLogManager({
          runtime: ctx.runtime as unknown as LogRotationRuntime,
          maxSizeBytes: k.containerLogMaxSizeBytes,
          maxFiles: k.containerLogMaxFiles,
          clock,
          logger: logger.child({ component: 'container-logs' }),
        });
        loop('container-logs', k.containerLogMonitorIntervalMs, () => logs.rotateAll());
      }
      const groups = shutdownGroups(k.shutdownGracePeriodSeconds, k.shutdownGracePeriodCriticalPodsSeconds, k.shutdownGracePeriodByPodPriority);
      if (groups.length > 0) {
        const slog = logger.child({ component: 'shutdown' });
        const sm = new NodeShutdownManager({
          logind: new DbusLogind(slog),
          // Upstream's /etc/systemd/logind.conf.d/99-kubelet.conf when logind allows less than the grace period.
          logindDropIn: new LogindDropIn(),
          groups,
          nodeName: config.nodeName,
          activePods: () => pods.activePods(),
          killPod: (pod, failure) => pods.failPod(pod.metadata?.uid ?? '', failure),
          podTerminated: (uid) => pods.podTerminated(uid),
          onStatusChange: () => nodeAgent?.kickStatus(),
          recorder,
          clock,
          logger: slog,
        });
        try {
          await sm.start();
          shutdown = sm;
          nodeAgent?.addReadinessCheck(() => sm.readinessError());
        } catch (err) {
          // As upstream: the kubelet runs on without graceful shutdown, and says why.
          slog.error({ code: 'SHUTDOWN_MANAGER_FAILED', err: errorMessage(err) }, 'failed to start node shutdown manager');
          await sm.stop().catch(() => undefined);
        }
      }
      // Container GC every minute from now on (upstream StartGarbageCollection: wait.Until runs at once); every
      // failure is a Node event ContainerGCFailed, as upstream.
      containerGc.setPodState({ allSourcesReady: () => pods.allSourcesReady(), podRemoval: (uid) => pods.podRemoval(uid) });
      const cgcLogger = logger.child({ component: 'container-gc' });
      // The simulation's fake runtime writes no logs: hollow nodes never touch the host's podLogsDir.
      const podLogDirs =
        runtimeKind(k.containerRuntimeEndpoint) === 'fake'
          ? undefined
          : new PodLogDirCleaner({ dir: k.podLogsDir, runtime: ctx.runtime, pods: podLogDirState(pods), logger: cgcLogger });
      loop(
        'container-gc',
        CONTAINER_GC_PERIOD_MS,
        async () => {
          // Then the log directories of pods that are gone (upstream evictPodLogsDirectories, part of the same run).
          // And, as upstream's container GC, /var/log/containers links whose log is gone (unless their container runs).
          const danglingLinks = (): Promise<number> | undefined =>
            legacyLogLinks?.removeDangling(async (id) => (await ctx.runtime.containerStatus(id).catch(() => undefined))?.state);
          for (const step of [() => containerGc.garbageCollect(), () => podLogDirs?.cleanup(), danglingLinks]) {
            try {
              await step();
            } catch (err) {
              recorder.event(nodeRef, 'Warning', 'ContainerGCFailed', errorMessage(err));
              cgcLogger.error({ code: 'CONTAINER_GC_FAILED', err: errorMessage(err) }, 'container garbage collection failed');
            }
          }
        },
        0,
      );
      // Image GC: the images present at start are detected now (upstream's imageManager.Start), collection runs 1 s
      // later and then every 5 min. A failure is logged with its code; from the second failure on
      // it is also a Node event `ImageGCFailed`, as upstream (the first may be stats warming up).
      await imageGc.detect().catch((err: unknown) => logger.warn({ code: 'IMAGE_GC_FAILED', err: errorMessage(err) }, 'image detection failed'));
      let failedBefore = false;
      const gcLogger = logger.child({ component: 'image-gc' });
      loop(
        'image-gc',
        IMAGE_GC_PERIOD_MS,
        async () => {
          try {
            await imageGc.garbageCollect();
            failedBefore = false;
          } catch (err) {
            const code = (err as { code?: string }).code ?? 'IMAGE_GC_FAILED';
            if (failedBefore) {
              recorder.event(nodeRef, 'Warning', 'ImageGCFailed', errorMessage(err));
              gcLogger.warn({ code, err: errorMessage(err) }, 'image garbage collection failed');
            } else {
              gcLogger.info({ code, err: errorMessage(err) }, 'image garbage collection failed once; stats initialization may not have completed yet');
            }
            failedBefore = true;
          }
        },
        1000,
      );
    },
    async stop() {
      for (const l of loops.splice(0)) await l.stop();
      await shutdown?.stop();
    },
  };
}

/** What the pod log cleaner asks the pod lifecycle: known = a desired pod or a worker that has not terminated. */
function podLogDirState(pods: PodLifecycle): PodLogDirPodState {
  return {
    allSourcesReady: () => pods.allSourcesReady(),
    // Asked only for directories with no runtime objects left, so the pod list is rarely walked.
    knows: (uid) => !pods.podTerminated(uid) || pods.pods().some((p) => p.metadata?.uid === uid),
    contentRemovable: (uid) => pods.podRemoval(uid).content,
  };
}

/**
 * Settings that only make sense against the machine, refused at start with the field named: reservations that leave
 * no allocatable memory or CPU, and memory eviction thresholds above the memory capacity.
 */
function checkAgainstCapacity(k: KubeletSettings, capacity: { cpuMilli: number; memoryBytes: number }): void {
  const mem = k.kubeReserved.memoryBytes + k.systemReserved.memoryBytes;
  if (mem >= capacity.memoryBytes) {
    throw new ConfigError(`fields "kubeReserved.memory" + "systemReserved.memory" (${mem} bytes) leave no allocatable memory (capacity ${capacity.memoryBytes} bytes)`, { field: 'kubeReserved.memory' });
  }
  const cpu = k.kubeReserved.cpuMilli + k.systemReserved.cpuMilli;
  if (cpu >= capacity.cpuMilli) {
    throw new ConfigError(`fields "kubeReserved.cpu" + "systemReserved.cpu" (${cpu}m) leave no allocatable CPU (capacity ${capacity.cpuMilli}m)`, { field: 'kubeReserved.cpu' });
  }
  for (const [field, thresholds] of [['evictionHard', k.evictionHard], ['evictionSoft', k.evictionSoft]] as const) {
    for (const signal of ['memory.available', 'allocatableMemory.available'] as const) {
      const t = thresholds[signal];
      if (t?.kind === 'quantity' && t.value >= capacity.memoryBytes) {
        throw new ConfigError(`field "${field}": threshold ${signal} (${t.value} bytes) is not below the memory capacity (${capacity.memoryBytes} bytes)`, { field: `${field}.${signal}` });
      }
    }
  }
}
