/**
 * The seam between the pod workers / status manager (src/kubelet) and the prober (src/probes).
 *
 * Flow: the pod workers call addPod when a pod starts running and removePod when it is terminated; the prober runs one
 * worker per (pod UID, container, probe type) — app containers and sidecars (init containers with `restartPolicy:
 * Always`) — and keeps a results cache. Readiness and startup results are handed to the pod status generation as
 * data (`results`), and a change of any result wakes the kubelet through
 * `onResultChange` so status is recomputed promptly. A liveness or startup failure is reported through
 * `onContainerFailure`; the kubelet then kills the container (Killing event, message below) and the restart policy
 * and crash-loop backoff apply.
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { PodProbeResults } from './view.js';

/** Which probe. */
export type ProbeType = 'liveness' | 'readiness' | 'startup';

/** A probe result as cached. */
export type ProbeResult = 'success' | 'failure' | 'unknown';

/** A liveness/startup failure that requires the container to be killed. */
export interface ContainerProbeFailure {
  podUID: string;
  containerName: string;
  /** Runtime container ID (`docker://…` form as in status). */
  containerID: string;
  probeType: 'liveness' | 'startup';
  /** Upstream message, e.g. `Container web failed liveness probe, will be restarted`. */
  message: string;
  /** probe.terminationGracePeriodSeconds when set (overrides the pod's for this kill). */
  terminationGracePeriodSeconds?: number;
}

/**
 * The prober manager. All methods are cheap, synchronous and safe to call repeatedly (idempotent).
 */
export interface ProberManager {
  /** Starts probe workers for the pod's containers that have probes (no-op for ones already running). */
  addPod(pod: V1Pod): void;
  /** Stops all workers of the pod and forgets its results. */
  removePod(podUID: string): void;
  /** Stops workers of pods not in `keepUIDs` (safety net after relists). */
  cleanupPods(keepUIDs: ReadonlySet<string>): void;
  /**
   * A snapshot of the pod's probe results as data, for status generation (see probeReadiness in view.ts). Readiness
   * workers whose result is not a success yet are asked to probe now (upstream), so a new container becomes ready
   * promptly. Call `addPod` first: for a pod the prober does not know, no probe exists and running containers read as
   * ready.
   */
  results(podUID: string): PodProbeResults;
  /** Listener called when any cached result of a pod changes; returns an unsubscribe function. */
  onResultChange(listener: (podUID: string) => void): () => void;
  /**
   * Listener called on a liveness/startup failure that requires a kill; returns an unsubscribe function. Called once
   * per container ID (the worker then holds until it sees a new one), so the caller must remember the kill.
   */
  onContainerFailure(listener: (failure: ContainerProbeFailure) => void): () => void;
  /** Stops everything. */
  stop(): void;
}
