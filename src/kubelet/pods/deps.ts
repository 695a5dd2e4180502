/** What the pod sync, start and kill steps need from the outside; assembled once by the lifecycle. */
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { EventRecorder } from '../../api/types.js';
import type { ContainerRuntime } from '../../cri/types.js';
import type { Backoff } from '../../util/backoff.js';
import type { Clock } from '../../util/clock.js';
import type { ImageManager } from '../images/manager.js';
import type { PodEnvironment } from '../podenv/types.js';
import { hashContainer } from './hash.js';

/** Shared dependencies of the pod steps. */
export interface PodDeps {
  runtime: ContainerRuntime;
  env: PodEnvironment;
  images: ImageManager;
  recorder: EventRecorder;
  clock: Clock;
  logger: Logger;
  /** Crash-loop backoff (10 s → 300 s), keyed per container (see backoffKey). */
  crashBackoff: Backoff;
  podInfraImage: string;
  /** `docker`, `containerd`, … */
  runtimeName: string;
  hostIPs(): string[];
  /** Labels on everything this agent creates; also the selector it lists with (ownerLabels(nodeName)). */
  owner: Record<string, string>;
  /** Remembers that a new sandbox/container id belongs to a pod (routes its runtime events without a lookup). */
  track(id: string, podUID: string): void;
  /** Directory for the pod's container logs. */
  logDirectory(podUID: string): string;
  /** The pod cgroup hierarchy (cgroupsPerQOS); undefined = sandboxes get no cgroup parent. */
  podCgroups?: PodCgroups;
  /** Upstream's /var/log/containers links (src/kubelet/logs/legacy-links.ts); undefined = none. */
  legacyLogLinks?: LegacyLogLinker;
  /** In-place resize (src/kubelet/allocation); undefined = running containers are never resized. */
  resize?: PodResizeDeps;
  /** Dead instances kept per container by the per-pod deletion in each sync (default 1). */
  deadContainersToKeep?: number;
}

/** What the pod sync needs for in-place resize. */
export interface PodResizeDeps {
  /** cpuCFSQuota: CPU limits are CFS quotas (as the container config computes them). */
  cpuCFSQuota: boolean;
  /** Sets or clears PodResizeInProgress (`error`: the last attempt failed with this message). */
  setInProgress(uid: string, inProgress: boolean, error?: string): void;
}

/** Links a started container's log file for log collectors (never throws). */
export interface LegacyLogLinker {
  link(c: { podName: string; podNamespace: string; containerName: string; containerId: string }, target: string): Promise<void>;
}

/** The part of the pod cgroup manager (src/kubelet/cm) the pod steps use. */
export interface PodCgroups {
  /**
   * Creates/updates the pod's cgroup and returns the sandbox's cgroup parent; throws CgroupError. With `growOnly`
   * (the first step of an in-place resize) only the limits that grow are written.
   */
  ensurePod(pod: V1Pod, opts?: { growOnly?: boolean }): Promise<string>;
  /** Why a resize that changes memory must not go on now (the pod uses at least its new limit), or undefined. */
  memoryResizeBlocked(pod: V1Pod): Promise<string | undefined>;
  /** Removes the pod's cgroup (false when still busy: retried by the orphan cleanup). */
  removePod(uid: string): Promise<boolean>;
}

/** `namespace/name` for logs. */
export function podKey(pod: V1Pod): string {
  return `${pod.metadata?.namespace ?? 'default'}/${pod.metadata?.name ?? ''}`;
}

/**
 * Crash-loop backoff key (upstream getStableKey): pod, container name and the container's spec hash, so a changed
 * container (`kubectl set image`) starts with a fresh backoff.
 */
export function backoffKey(pod: V1Pod, c: V1Container): string {
  return `${pod.metadata?.name ?? ''}_${pod.metadata?.namespace ?? ''}_${pod.metadata?.uid ?? ''}_${c.name}_${hashContainer(c)}`;
}

/** Finds a container spec by name (app containers first, then init containers). */
export function findContainer(pod: V1Pod, name: string): { c: V1Container; isInit: boolean } | undefined {
  const app = (pod.spec?.containers ?? []).find((c) => c.name === name);
  if (app !== undefined) return { c: app, isInit: false };
  const init = (pod.spec?.initContainers ?? []).find((c) => c.name === name);
  return init === undefined ? undefined : { c: init, isInit: true };
}

/**
 * Grace period for stopping the pod's containers: min(spec.terminationGracePeriodSeconds (default 30),
 * metadata.deletionGracePeriodSeconds when set).
 */
export function podGracePeriod(pod: V1Pod): number {
  const spec = pod.spec?.terminationGracePeriodSeconds ?? 30;
  const del = pod.metadata?.deletionGracePeriodSeconds;
  return del === undefined || del === null ? spec : Math.min(spec, del);
}
