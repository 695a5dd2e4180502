/**
 * Graceful node shutdown (upstream pkg/kubelet/nodeshutdown): with shutdownGracePeriod (or
 * shutdownGracePeriodByPodPriority) set, the agent holds a logind delay inhibitor lock; on PrepareForShutdown(true)
 * it reports the node not ready (`node is shutting down`), refuses new pods (`NodeShutdown`), and terminates the
 * running pods group by group, lowest priority first (regular pods, then critical pods), each pod with
 * min(its own grace period, its group's) and the status `Failed` / `Terminated` / `Pod was terminated in response
 * to imminent node shutdown.`; after the last group (or when a group's period is spent) it releases the lock so the
 * shutdown goes on. A cancelled shutdown (PrepareForShutdown(false)) re-takes the lock and admits pods again.
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { EventRecorder } from '../../api/types.js';
import type { Clock } from '../../util/clock.js';
import { errorMessage } from '../../util/errors.js';
import type { Logger } from '../../util/logger.js';
import { groupPods, totalShutdownSeconds, type ShutdownGroupConfig } from './groups.js';
import { ensureInhibitDelay, type LogindConfWriter } from './inhibit-delay.js';
import type { Logind } from './logind.js';

/** Upstream's status of a pod ended by a node shutdown. */
export const SHUTDOWN_REASON = 'Terminated';
/** Upstream's message of a pod ended by a node shutdown. */
export const SHUTDOWN_MESSAGE = 'Pod was terminated in response to imminent node shutdown.';

/** Options of {@link NodeShutdownManager}. */
export interface NodeShutdownOptions {
  logind: Logind;
  /** Where InhibitDelayMaxSec is raised when logind allows less than the grace period (undefined: only checked). */
  logindDropIn?: LogindConfWriter;
  groups: ShutdownGroupConfig[];
  nodeName: string;
  /** Pods the kubelet runs and has not ended. */
  activePods: () => V1Pod[];
  /** Ends a pod with a status and grace period (the pod lifecycle's failPod). */
  killPod: (pod: V1Pod, failure: { reason: string; message: string; gracePeriodSeconds: number; disruptionTarget: { reason: string; message: string } }) => void;
  /** True once the pod's containers are stopped. */
  podTerminated: (uid: string) => boolean;
  /** Called when the node's readiness changes (to write the node status at once). */
  onStatusChange?: () => void;
  recorder: EventRecorder;
  clock: Clock;
  logger: Logger;
  /** How often a group's pods are checked while waiting for them (default 500 ms). */
  pollMs?: number;
}

/** See module comment. */
export class NodeShutdownManager {
  readonly #o: NodeShutdownOptions;
  #shuttingDown = false;
  #run: Promise<void> | undefined;

  constructor(options: NodeShutdownOptions) {
    this.#o = options;
  }

  /**
   * Makes logind allow the budget (raising InhibitDelayMaxSec with the drop-in when it is lower, see
   * inhibit-delay.ts), takes the lock and listens for shutdowns. Throws NodeletError SHUTDOWN_INHIBIT_FAILED when
   * logind still allows less delay than the configured grace periods (upstream refuses to start the manager then).
   */
  async start(): Promise<void> {
    const { logind, logger, clock } = this.#o;
    const neededMs = totalShutdownSeconds(this.#o.groups) * 1000;
    await ensureInhibitDelay({ logind, dropIn: this.#o.logindDropIn, neededMs, clock, logger });
    await logind.onPrepareForShutdown((active) => this.#onPrepare(active));
    await logind.acquireDelayLock();
    logger.info({ shutdownGracePeriodSeconds: neededMs / 1000, groups: this.#o.groups }, 'node shutdown manager started');
  }

  /** `node is shutting down` while a shutdown is in progress (a Ready condition error), else undefined. */
  readinessError(): string | undefined {
    return this.#shuttingDown ? 'node is shutting down' : undefined;
  }

  /** Refuses pods while the node shuts down. */
  admit(): { reason: string; message: string } | undefined {
    return this.#shuttingDown ? { reason: 'NodeShutdown', message: 'Pod was rejected as the node is shutting down.' } : undefined;
  }

  /** Resolves when the shutdown in progress (if any) has been handled (tests). */
  async settled(): Promise<void> {
    await this.#run;
  }

  async stop(): Promise<void> {
    await this.#o.logind.close();
  }

  #onPrepare(active: boolean): void {
    const { logger, recorder, nodeName } = this.#o;
    if (!active) {
      if (!this.#shuttingDown) return;
      logger.info('shutdown cancelled');
      this.#shuttingDown = false;
      this.#o.onStatusChange?.();
      void this.#o.logind.acquireDelayLock().catch((err: unknown) => logger.warn({ code: 'SHUTDOWN_INHIBIT_FAILED', err: errorMessage(err) }, 'cannot take the inhibitor lock again'));
      return;
    }
    if (this.#shuttingDown) return;
    this.#shuttingDown = true;
    recorder.event({ kind: 'Node', apiVersion: 'v1', name: nodeName, uid: nodeName }, 'Normal', 'Shutdown', 'Shutdown manager detected shutdown event');
    logger.info('shutdown detected: terminating pods');
    this.#o.onStatusChange?.();
    this.#run = this.#terminateAll().finally(() => this.#o.logind.releaseDelayLock().catch(() => undefined));
  }

  async #terminateAll(): Promise<void> {
    const { clock, logger } = this.#o;
    const groups = this.#o.groups;
    const byGroup = groupPods(this.#o.activePods(), groups);
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i];
      const pods = byGroup[i] ?? [];
      if (g === undefined || pods.length === 0) continue;
      logger.info({ priority: g.priority, gracePeriodSeconds: g.shutdownGracePeriodSeconds, pods: pods.length }, 'terminating pods of a shutdown group');
      for (const p of pods) {
        const grace = Math.min(p.spec?.terminationGracePeriodSeconds ?? 30, g.shutdownGracePeriodSeconds);
        // Upstream sets DisruptionTarget (TerminationByKubelet) together with the terminal status.
        this.#o.killPod(p, {
          reason: SHUTDOWN_REASON,
          message: SHUTDOWN_MESSAGE,
          gracePeriodSeconds: grace,
          disruptionTarget: { reason: 'TerminationByKubelet', message: SHUTDOWN_MESSAGE },
        });
      }
      const uids = new Set(pods.map((p) => p.metadata?.uid ?? ''));
      const deadline = clock.monotonic() + g.shutdownGracePeriodSeconds * 1000;
      while (clock.monotonic() < deadline && [...uids].some((u) => !this.#o.podTerminated(u))) {
        await clock.sleep(this.#o.pollMs ?? 500);
      }
    }
    logger.info('pods terminated for shutdown; releasing the inhibitor lock');
  }
}
