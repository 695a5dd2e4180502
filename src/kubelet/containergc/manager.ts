/**
 * The container garbage collector (upstream kubelet containerGC / realContainerGC): lists this agent's containers
 * and sandboxes, lets the pure policy pick what goes, and removes it. `garbageCollect()` is the periodic run (every
 * minute, wired in src/cli/node-resources.ts); `deleteAllUnusedContainers()` is the eviction manager's node-level
 * reclaim, which also removes the containers of terminated (not deleted) pods. Only objects carrying the owner
 * labels are ever looked at, so agents sharing an engine never touch each other's containers.
 */
import type { ContainerRuntime } from '../../cri/types.js';
import { LABELS } from '../../cri/types.js';
import type { Clock } from '../../util/clock.js';
import { errorFields, errorMessage, NodeletError } from '../../util/errors.js';
import type { Logger } from '../../util/logger.js';
import { selectContainers, selectSandboxes, type ContainerGcPolicy, type GcContainer, type PodRemoval } from './policy.js';

/** Grace period for stopping a container found in state `unknown` before removing it (upstream minimum, 2 s). */
const UNKNOWN_STOP_GRACE_SECONDS = 2;

/** The runtime calls the collector makes. */
export type ContainerGcRuntime = Pick<
  ContainerRuntime,
  'listContainers' | 'listPodSandboxes' | 'stopContainer' | 'removeContainer' | 'stopPodSandbox' | 'removePodSandbox'
>;

/** What the pod workers know (upstream podStateProvider + sourcesReady). */
export interface GcPodState {
  /** Every pod source delivered its complete set. */
  allSourcesReady(): boolean;
  /** See {@link PodRemoval}. */
  podRemoval(uid: string): PodRemoval;
}

/** Options of {@link ContainerGcManager}. */
export interface ContainerGcOptions {
  runtime: ContainerGcRuntime;
  /** Labels that mark this agent's objects (ownerLabels(nodeName)). */
  owner: Record<string, string>;
  policy: ContainerGcPolicy;
  clock: Clock;
  logger: Logger;
}

/** What one run removed. */
export interface ContainerGcResult {
  containers: number;
  sandboxes: number;
}

/** A failed collection run (listing failed); individual removal failures are only logged, as upstream. */
export class ContainerGcError extends NodeletError {
  constructor(message: string, cause: unknown) {
    super('CONTAINER_GC_FAILED', message, { cause });
  }
}

/** See module comment. Not reentrant: concurrent calls share the run in flight. */
export class ContainerGcManager {
  readonly #o: ContainerGcOptions;
  #state: GcPodState | undefined;
  #running: Promise<ContainerGcResult> | undefined;

  constructor(options: ContainerGcOptions) {
    if (options.policy.minAgeMs < 0) {
      throw new NodeletError('CONFIG_INVALID', `invalid minimum garbage collection age: ${options.policy.minAgeMs}ms`, { field: '--minimum-container-ttl-duration' });
    }
    this.#o = options;
  }

  /** Connects the pod workers' view; before this no pod counts as deleted or terminated (nothing of pods is removed). */
  setPodState(state: GcPodState): void {
    this.#state = state;
  }

  /** The periodic collection (upstream GarbageCollect with evictNonDeletedPods=false). Throws ContainerGcError. */
  garbageCollect(): Promise<ContainerGcResult> {
    return this.#run(false);
  }

  /** The eviction manager's reclaim (upstream DeleteAllUnusedContainers). Throws ContainerGcError. */
  deleteAllUnusedContainers(): Promise<ContainerGcResult> {
    return this.#run(true);
  }

  #run(evictNonDeletedPods: boolean): Promise<ContainerGcResult> {
    // A run in flight is shared (the periodic loop and the eviction manager may meet).
    this.#running ??= this.#collect(evictNonDeletedPods).finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #collect(evictNonDeletedPods: boolean): Promise<ContainerGcResult> {
    const { runtime, owner, logger } = this.#o;
    const state = this.#state;
    const podRemoval = (uid: string): PodRemoval => state?.podRemoval(uid) ?? { content: false, runtime: false };
    const result: ContainerGcResult = { containers: 0, sandboxes: 0 };
    const errors: string[] = [];
    let containers: GcContainer[];
    try {
      containers = await this.#listContainers();
    } catch (err) {
      throw new ContainerGcError(`failed to list containers: ${errorMessage(err)}`, err);
    }
    const victims = selectContainers({
      containers,
      policy: this.#o.policy,
      now: this.#o.clock.now(),
      allSourcesReady: state?.allSourcesReady() ?? false,
      evictNonDeletedPods,
      podRemoval,
    });
    for (const c of victims) {
      try {
        if (c.state === 'unknown') await runtime.stopContainer(c.id, UNKNOWN_STOP_GRACE_SECONDS);
        await runtime.removeContainer(c.id);
        result.containers++;
        logger.debug({ containerID: c.id, podUID: c.podUID, container: c.name }, 'removed dead container');
      } catch (err) {
        logger.warn({ containerID: c.id, ...errorFields(err) }, 'failed to remove container');
      }
    }
    try {
      const [after, sandboxes] = await Promise.all([this.#listContainers(), runtime.listPodSandboxes({ labelSelector: owner })]);
      const ids = selectSandboxes({
        sandboxes: sandboxes.map((s) => ({ id: s.id, podUID: s.labels[LABELS.podUID] ?? s.metadata.uid, ready: s.state === 'ready', createdAt: s.createdAt })),
        containers: after,
        evictNonDeletedPods,
        podRemoval,
      });
      for (const id of ids) {
        try {
          // Normally stopped already; stop first anyway, and skip the removal when that fails (as upstream).
          await runtime.stopPodSandbox(id);
          await runtime.removePodSandbox(id);
          result.sandboxes++;
          logger.debug({ sandboxID: id }, 'removed sandbox');
        } catch (err) {
          logger.warn({ sandboxID: id, ...errorFields(err) }, 'failed to remove sandbox');
        }
      }
    } catch (err) {
      errors.push(`failed to list sandboxes: ${errorMessage(err)}`);
    }
    if (result.containers > 0 || result.sandboxes > 0) logger.info({ ...result, evictNonDeletedPods }, 'container garbage collection removed dead objects');
    if (errors.length > 0) throw new ContainerGcError(errors.join('; '), undefined);
    return result;
  }

  async #listContainers(): Promise<GcContainer[]> {
    const list = await this.#o.runtime.listContainers({ labelSelector: this.#o.owner });
    return list.map((c) => ({
      id: c.id,
      podUID: c.labels[LABELS.podUID] ?? '',
      name: c.metadata.name,
      podSandboxId: c.podSandboxId,
      state: c.state,
      createdAt: c.createdAt,
    }));
  }
}
