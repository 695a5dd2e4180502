/**
 * The allocation manager (upstream pkg/kubelet/allocation, v1.33): what each admitted pod is allocated, checkpointed
 * (state.ts) so a restarted agent keeps it, and the resize decisions with the PodResizePending / PodResizeInProgress
 * conditions they leave. A resize (a `pods/resize` change of a container's resources) is accepted when the new pod
 * fits the node next to the other pods' allocations (admission over the allocated pods); otherwise it stays pending,
 * `Infeasible` (it can never fit here, or static pod) or `Deferred` (retried on every sync). Pod workers run the
 * allocated pod, never the raw spec.
 */
import type { V1Pod, V1PodCondition } from '@kubernetes/client-node';
import type { Clock } from '../../util/clock.js';
import { errorFields } from '../../util/errors.js';
import type { Logger } from '../../util/logger.js';
import { allocationFromPod, applyAllocation, infeasibleMessage, resizeNotAllowed, type PodRequestsOf } from './resize.js';
import type { AllocationState, PodAllocation } from './state.js';

/** Condition types of a resize (upstream v1.PodResizePending, v1.PodResizeInProgress). */
export const RESIZE_PENDING = 'PodResizePending';
export const RESIZE_IN_PROGRESS = 'PodResizeInProgress';

/** One resize condition as remembered: reason/message, when it last changed (transition) and was last set (probe). */
interface Cond {
  reason: string;
  message: string;
  transition: number;
  probe: number;
}

/** Options of {@link AllocationManager}. */
export interface AllocationManagerOptions {
  state: AllocationState;
  /** Pod-level cpu/memory requests (pods/admission-fit podRequests). */
  requestsOf: PodRequestsOf;
  clock: Clock;
  logger: Logger;
}

/** Where a resize is decided: the node and the other pods, as allocated. */
export interface ResizeContext {
  /** The Node's status.allocatable (undefined: not known yet; the resize waits). */
  allocatable: Record<string, string> | undefined;
  /** The other admitted pods, with their allocated resources. */
  otherPods: V1Pod[];
  /** The kubelet's admission of `pod` next to `others` (resource fit and the other admit handlers). */
  admit(pod: V1Pod, others: V1Pod[]): { reason: string; message: string } | undefined;
}

/** See module comment. Calls for one pod come from its worker; the map of conditions is per pod. */
export class AllocationManager {
  readonly #o: AllocationManagerOptions;
  readonly #pending = new Map<string, Cond>();
  readonly #inProgress = new Map<string, Cond>();

  constructor(options: AllocationManagerOptions) {
    this.#o = options;
  }

  /** The pod as allocated: its resizable containers' resources replaced by the allocation (pure read). */
  allocatedPod(pod: V1Pod): V1Pod {
    return applyAllocation(pod, this.#o.state.get(pod.metadata?.uid ?? '')).pod;
  }

  /** The checkpointed allocation of a pod. */
  allocation(uid: string): PodAllocation | undefined {
    return this.#o.state.get(uid);
  }

  /**
   * Records the allocation of an admitted pod (upstream AddPod): a pod the checkpoint already knows (an agent restart)
   * keeps its allocation; a new one is allocated what its spec asks for. Returns the allocated pod.
   */
  admitted(pod: V1Pod): V1Pod {
    const uid = pod.metadata?.uid ?? '';
    const allocated = this.allocatedPod(pod);
    this.#save(uid, allocationFromPod(allocated));
    return allocated;
  }

  /**
   * Decides a pending resize (upstream HandlePodResourcesResize) and returns the pod to run: the new resources when
   * the resize is accepted (and checkpointed), the old allocation otherwise, with PodResizePending set to the reason.
   */
  handleResize(pod: V1Pod, ctx: ResizeContext): V1Pod {
    const uid = pod.metadata?.uid ?? '';
    const alloc = this.#o.state.get(uid);
    if (alloc === undefined) {
      this.#save(uid, allocationFromPod(pod));
      return pod;
    }
    const { pod: allocated, changed } = applyAllocation(pod, alloc);
    if (!changed) {
      this.#pending.delete(uid);
      return allocated;
    }
    const notAllowed = resizeNotAllowed(pod);
    if (notAllowed !== undefined) {
      this.#setPending(uid, 'Infeasible', notAllowed);
      return allocated;
    }
    const infeasible = infeasibleMessage(pod, ctx.allocatable, this.#o.requestsOf);
    if (infeasible !== undefined) {
      this.#setPending(uid, 'Infeasible', infeasible);
      return allocated;
    }
    if (ctx.allocatable === undefined) return allocated;
    const rejected = ctx.admit(pod, ctx.otherPods.filter((p) => p.metadata?.uid !== uid));
    if (rejected !== undefined) {
      this.#setPending(uid, 'Deferred', rejected.message);
      return allocated;
    }
    if (!this.#save(uid, allocationFromPod(pod))) return allocated;
    this.#pending.delete(uid);
    // A new accepted resize clears an error left by the previous one.
    this.#inProgress.delete(uid);
    this.#o.logger.info({ pod: `${pod.metadata?.namespace}/${pod.metadata?.name}` }, 'pod resize accepted');
    return pod;
  }

  /** Sets (true) or clears PodResizeInProgress; `error` gives it reason `Error` and the message (a failed update). */
  setInProgress(uid: string, inProgress: boolean, error?: string): void {
    if (!inProgress) {
      this.#inProgress.delete(uid);
      return;
    }
    const old = this.#inProgress.get(uid);
    // Without a new error, an earlier error stays until the resize completes or a new one is accepted.
    const reason = error !== undefined ? 'Error' : (old?.reason ?? '');
    const message = error ?? old?.message ?? '';
    this.#set(this.#inProgress, uid, reason, message);
  }

  /** The resize conditions of the pod for its status (PodResizePending first), each with status True. */
  conditions(uid: string): V1PodCondition[] {
    const out: V1PodCondition[] = [];
    for (const [type, m] of [[RESIZE_PENDING, this.#pending], [RESIZE_IN_PROGRESS, this.#inProgress]] as const) {
      const c = m.get(uid);
      if (c === undefined) continue;
      const cond: V1PodCondition = { type, status: 'True', lastProbeTime: new Date(c.probe), lastTransitionTime: new Date(c.transition) };
      if (c.reason !== '') cond.reason = c.reason;
      if (c.message !== '') cond.message = c.message;
      out.push(cond);
    }
    return out;
  }

  /** Forgets the pod (its allocation and conditions). */
  removePod(uid: string): void {
    this.#pending.delete(uid);
    this.#inProgress.delete(uid);
    this.#remove(uid);
  }

  /** Removes the allocations of pods not in `keep` (upstream RemoveOrphanedPods). */
  removeOrphans(keep: ReadonlySet<string>): void {
    for (const uid of this.#o.state.uids()) if (!keep.has(uid)) this.removePod(uid);
  }

  #setPending(uid: string, reason: 'Infeasible' | 'Deferred', message: string): void {
    this.#set(this.#pending, uid, reason, message);
  }

  #set(m: Map<string, Cond>, uid: string, reason: string, message: string): void {
    const now = this.#o.clock.now();
    const old = m.get(uid);
    // lastProbeTime moves when the condition says something new (not on every sync: no status write per sync).
    if (old !== undefined && old.reason === reason && old.message === message) return;
    m.set(uid, { reason, message, transition: old !== undefined && old.reason === reason ? old.transition : now, probe: now });
  }

  #save(uid: string, alloc: PodAllocation): boolean {
    try {
      this.#o.state.set(uid, alloc);
      return true;
    } catch (err) {
      this.#o.logger.error({ podUID: uid, ...errorFields(err) }, 'failed to checkpoint the pod allocation');
      return false;
    }
  }

  #remove(uid: string): void {
    try {
      this.#o.state.remove(uid);
    } catch (err) {
      this.#o.logger.warn({ podUID: uid, ...errorFields(err) }, 'failed to remove the pod allocation (retried with the orphans)');
    }
  }
}
