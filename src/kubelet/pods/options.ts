/** Options and the public handle of the pod lifecycle (the kubelet role's pod half). */
import type { V1Node, V1Pod, V1PodStatus } from '@kubernetes/client-node';
import type { PodFailure } from '../status/generate.js';
import type { LegacyLogLinker, PodCgroups } from './deps.js';
import type { AllocationState } from '../allocation/state.js';
import type { Logger } from 'pino';
import type { PodApi } from '../../api/pods.js';
import type { EventRecorder, Informer } from '../../api/types.js';
import type { ContainerRuntime } from '../../cri/types.js';
import type { ProberManager } from '../../probes/types.js';
import type { Clock } from '../../util/clock.js';
import type { PodEnvironment } from '../podenv/types.js';

/**
 * Upstream kubelet metrics the lifecycle observes (structurally: prom-client Histograms fit, e.g. the daemon's
 * KubeletMetrics). All optional.
 */
export interface PodLifecycleMetrics {
  /** kubelet_pod_start_duration_seconds: first seen by the agent → first status with phase Running. */
  podStartDuration?: { observe(seconds: number): void };
  /** kubelet_pod_worker_duration_seconds{operation_type=create|sync|kill}: one worker step. */
  podWorkerDuration?: { observe(labels: { operation_type: string }, seconds: number): void };
  /** kubelet_pleg_relist_duration_seconds. */
  plegRelistDuration?: { observe(seconds: number): void };
  /** nodelet_pod_source_handler_errors_total{source}: the handler of a pod source's set threw (it is retried). */
  podSourceHandlerErrors?: { inc(labels: { source: string }): void };
}

/**
 * Plain, already-validated values (the daemon maps KubeletConfiguration/flags into these). Durations are
 * milliseconds. Only `nodeName`, `podInfraImage`, `runtime` and `logger` are required.
 */
export interface PodLifecycleOptions {
  /** This node's name (fieldSelector spec.nodeName, static pod name suffix, event source host). */
  nodeName: string;
  /** The pod cgroup hierarchy (cgroupsPerQOS: true); omitted = no pod cgroups. */
  podCgroups?: PodCgroups;
  /** Upstream's /var/log/containers links, made when a container starts; omitted = none. */
  legacyLogLinks?: LegacyLogLinker;
  /**
   * Where pod allocations are kept (in-place resize; src/kubelet/allocation): src/cli gives the checkpoint file in the
   * root dir so a restarted agent keeps them; default in memory.
   */
  allocationState?: AllocationState;
  /** cpuCFSQuota (default true): how a resized CPU limit is applied. */
  cpuCFSQuota?: boolean;
  /**
   * --maximum-dead-containers-per-container: the per-pod deletion after each sync keeps max(this, 1) dead instances
   * per container (upstream containerDeletor); the periodic container GC applies the full policy. Default 1.
   */
  maxDeadPerContainer?: number;
  /** Further admission checks after the built-in ones (e.g. the eviction manager's); a result rejects the pod. */
  admitHandlers?: ((pod: V1Pod) => { reason: string; message: string } | undefined)[];
  /** Where container logs go: `<podLogsDir>/<ns>_<name>_<uid>` (default `/var/log/pods`). */
  podLogsDir?: string;
  /** Sandbox (pause) image, e.g. `localhost/nodelet/pause:3.9`. */
  podInfraImage: string;
  /** Static pod manifest directory (`staticPodPath` / `--pod-manifest-path`); unset = no file source. */
  staticPodPath?: string;
  /** Static pod URL (`staticPodURL` / `--manifest-url`); unset = no URL source. */
  manifestURL?: string;
  /** Headers for the manifest URL (`staticPodURLHeader`, first value per name). */
  manifestURLHeaders?: Record<string, string>;
  /** fileCheckFrequency (default 20 000). */
  fileCheckFrequencyMs?: number;
  /** httpCheckFrequency (default 20 000). */
  httpCheckFrequencyMs?: number;
  /** syncFrequency: periodic resync of every pod worker (default 60 000). */
  syncFrequencyMs?: number;
  /** PLEG relist period, the safety net behind runtime events (default 10 000). */
  relistPeriodMs?: number;
  /** Status/mirror/node refresh period (default 10 000). */
  housekeepingPeriodMs?: number;
  /** maxPods (default 110). */
  maxPods?: number;
  /** allowedUnsafeSysctls: a pod asking for any other non-safe sysctl is rejected at admission (SysctlForbidden). */
  allowedUnsafeSysctls?: string[];
  /** Node labels for admission when `getNode` gives none (default: hostname/os/arch labels). */
  nodeLabels?: Record<string, string>;
  /** The registered Node (labels for admission, uid for mirror pod ownerReferences, InternalIP as host IP). */
  getNode?: () => V1Node | undefined | Promise<V1Node | undefined>;
  /** Host IPs reported as status.hostIP(s); default: the Node's InternalIP addresses. */
  hostIPs?: string[];
  runtime: ContainerRuntime;
  /** Volumes/env/DNS/security; default: a minimal built-in environment (command/args/env values/ports only). */
  podEnvironment?: PodEnvironment;
  /** Probes; without one, running containers are ready. */
  prober?: ProberManager;
  /**
   * The API pod source: an informer over `/api/v1/pods?fieldSelector=spec.nodeName=<node>` (podInformerOptions in
   * src/kubelet/sources). Undefined = standalone (static pods only). Built by src/cli, like every real implementation.
   */
  podInformer?: Informer<V1Pod>;
  /** Pod status writes and deletions; undefined = standalone (no status writes). Built by src/cli. */
  podApi?: PodApi;
  /** Event recorder (default: log-only). */
  recorder?: EventRecorder;
  logger: Logger;
  clock?: Clock;
  /** Metrics to observe (see {@link PodLifecycleMetrics}). */
  metrics?: PodLifecycleMetrics;
}

/** Sizes of the lifecycle's per-pod state; see {@link PodLifecycle.memoryStats}. */
export interface PodMemoryStats {
  /** Per-pod records (PodMemory). */
  records: number;
  /** Cached statuses in the status manager. */
  statuses: number;
  /** Pod workers. */
  workers: number;
  /** Crash-loop back-off entries. */
  backoffEntries: number;
}

/** A health check for /healthz. */
export interface HealthCheck {
  name: string;
  /** true = healthy, a string = the reason it is not. */
  check(): boolean | string;
}

/** The running pod lifecycle. */
export interface PodLifecycle {
  /** Starts sources, PLEG and workers. Resolves once started (not when pods are running). Call once. */
  start(): Promise<void>;
  /** Stops everything it started; containers keep running (like a kubelet restart). Idempotent. */
  stop(): Promise<void>;
  /** `pleg` and `syncloop` checks, as upstream healthz. */
  healthChecks(): HealthCheck[];
  /** Pods whose worker is in the sync phase (admitted, not terminating). */
  runningPods(): number;
  /** Desired pods with the status the kubelet computed (for the kubelet API `/pods`). */
  pods(): V1Pod[];
  /** Pods admitted and syncing (not terminating, not rejected or failed by the kubelet). */
  activePods(): V1Pod[];
  /**
   * Ends a running pod: status Failed with `failure.reason`/`message` (eviction, node shutdown), its containers killed
   * with `failure.gracePeriodSeconds` (default the pod's own). No-op for pods not syncing.
   */
  failPod(uid: string, failure: PodFailure): void;
  /** True once the pod's containers are stopped (its worker is past terminating) or the kubelet does not know it. */
  podTerminated(uid: string): boolean;
  /**
   * For the container garbage collector (upstream podWorkers ShouldPodContentBeRemoved / ShouldPodRuntimeBeRemoved):
   * `runtime` once the pod's worker is terminated, `content` when it was evicted or is deleted and terminated; a UID
   * the workers do not know is both once every pod source has synced.
   */
  podRemoval(uid: string): { content: boolean; runtime: boolean };
  /** Every pod source has delivered its complete set (upstream sourcesReady.AllReady). */
  allSourcesReady(): boolean;
  /** The computed status of a pod. */
  podStatus(uid: string): V1PodStatus | undefined;
  /** Sizes of the per-pod state (diagnostics, soak): all 0 once every pod is gone and back-offs aged out. */
  memoryStats(): PodMemoryStats;
  /** Resolves when no worker step and no status write is in flight (tests). */
  settled(): Promise<void>;
}
