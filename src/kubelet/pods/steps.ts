/**
 * The three worker steps of a pod (sync, terminating, terminated) over the shared deps, the status manager and the
 * prober. Each step is idempotent: a step that fails is simply run again later.
 */
import type { V1Pod, V1PodStatus } from '@kubernetes/client-node';
import type { ProberManager } from '../../probes/types.js';
import { generatePodStatus, type GenerateInput, type PodFailure } from '../status/generate.js';
import type { StatusManager } from '../status/manager.js';
import { isTerminalPhase } from '../status/phase.js';
import { isStaticPod } from '../sources/static-pod.js';
import type { StepResult, WorkerSteps } from './workers.js';
import { podRef } from '../../api/refs.js';
import { podGracePeriod, type PodDeps } from './deps.js';
import { gcPod, removePodFromRuntime } from './gc.js';
import { killPod, MIN_GRACE_SECONDS } from './kill.js';
import { readPodRuntimeState, type PodRuntimeState } from './state.js';
import { syncPod, type PodSyncMemory } from './sync.js';

/** Annotation marking a synthetic pod built for runtime objects nobody wants (orphans). */
export const ORPHAN_ANNOTATION = 'nodelet.io/orphan';

/**
 * The one record of a pod's state on this node (upstream podSyncStatus): everything the agent remembers about the
 * pod beyond its status lives here, and the record is deleted with the pod (the terminated step of a removed pod).
 */
export interface PodMemory extends PodSyncMemory {
  failure?: PodFailure;
  /** The pod start was already observed. */
  seenRunning?: boolean;
  /** Admission rejected the pod: it never runs; phase Failed with this reason and message. */
  rejection?: PodFailure;
  /** Monotonic time the pod was first seen (kubelet_pod_start_duration_seconds). */
  firstSeenMono?: number;
  /** A first worker step finished (operation_type create vs sync). */
  synced?: boolean;
}

/** Everything the steps need beyond {@link PodDeps}. */
export interface StepContext {
  deps: PodDeps;
  status: StatusManager;
  prober?: ProberManager;
  /** The status last seen in the API (mirror pod for static pods). */
  apiStatus(pod: V1Pod): V1PodStatus | undefined;
  /** Admission rejection of the pod, if any. */
  rejection(uid: string): PodFailure | undefined;
  syncFrequencyMs: number;
  errorRetryMs: number;
  /** The API is connected (deleted pods are removed from it after termination). */
  hasApi: boolean;
  /** Called the first time a pod's status shows phase Running (pod start duration). */
  onRunning?(pod: V1Pod): void;
  /** Called when a sandbox/container id is known to belong to a pod (PLEG routing). */
  track(state: PodRuntimeState): void;
  /** In-place resize: decides a pending resize and returns the pod to run (its allocated resources). */
  allocate?(pod: V1Pod): V1Pod;
  /** In-place resize: the pod's resize conditions and allocated resources for its status. */
  resizeStatus?(uid: string): Pick<GenerateInput, 'resizeConditions' | 'allocation'>;
}

const isDeleted = (pod: V1Pod): boolean =>
  pod.metadata?.deletionTimestamp !== undefined && pod.metadata.deletionTimestamp !== null;
const isOrphan = (pod: V1Pod): boolean => pod.metadata?.annotations?.[ORPHAN_ANNOTATION] === 'true';

/** Builds the steps; `memory` is shared with the lifecycle (probe kills are recorded there). */
export function createSteps(ctx: StepContext, memory: Map<string, PodMemory>): WorkerSteps {
  const mem = (uid: string): PodMemory => {
    let m = memory.get(uid);
    if (m === undefined) {
      m = { reasons: new Map(), probeKills: new Map() };
      memory.set(uid, m);
    }
    return m;
  };
  const { deps } = ctx;

  const report = (pod: V1Pod, state: PodRuntimeState, m: PodMemory, terminal: boolean): V1PodStatus => {
    const uid = pod.metadata?.uid ?? '';
    const status = generatePodStatus({
      pod,
      state,
      reasons: m.reasons,
      oldStatus: ctx.status.getPodStatus(uid) ?? ctx.apiStatus(pod),
      apiStatus: ctx.apiStatus(pod),
      now: deps.clock.now(),
      hostIPs: deps.hostIPs(),
      runtimeName: deps.runtimeName,
      podIsTerminal: terminal,
      failure: m.failure,
      probes: ctx.prober?.results(uid),
      ...ctx.resizeStatus?.(uid),
    });
    ctx.status.setPodStatus(pod, status);
    return status;
  };

  const deadline = (pod: V1Pod, m: PodMemory): number | undefined => {
    const ads = pod.spec?.activeDeadlineSeconds;
    if (ads === undefined || ads === null) return undefined;
    const start = ctx.status.getPodStatus(pod.metadata?.uid ?? '')?.startTime ?? ctx.apiStatus(pod)?.startTime;
    if (start === undefined) return undefined;
    const at = new Date(start).getTime() + ads * 1000;
    if (deps.clock.now() >= at && m.failure === undefined) {
      const message = 'Pod was active on the node longer than the specified deadline';
      m.failure = { reason: 'DeadlineExceeded', message };
      deps.recorder.event(podRef(pod), 'Normal', 'DeadlineExceeded', message);
    }
    return at;
  };

  return {
    async sync(pod, removed): Promise<StepResult> {
      const uid = pod.metadata?.uid ?? '';
      const m = mem(uid);
      const rejected = ctx.rejection(uid);
      if (rejected !== undefined) m.failure = rejected;
      const cached = ctx.status.getPodStatus(uid) ?? ctx.apiStatus(pod);
      const deadlineAt = deadline(pod, m);
      if (removed || isDeleted(pod) || isOrphan(pod) || m.failure !== undefined || isTerminalPhase(cached?.phase)) {
        return { advance: true };
      }
      let res;
      try {
        res = await syncPod(deps, ctx.allocate?.(pod) ?? pod, m);
      } catch (err) {
        // Still report what the runtime shows (e.g. ContainerCreating after FailedCreatePodSandBox), then retry.
        const state = await readPodRuntimeState(deps.runtime, uid, deps.owner).catch(() => undefined);
        if (state !== undefined) report(pod, state, m, false);
        throw err;
      }
      ctx.track(res.state);
      // The prober must know the pod before its status is computed: a container with a readiness probe that has not
      // succeeded yet is not ready (addPod is idempotent and cheap; workers wait for their container to exist).
      ctx.prober?.addPod(pod);
      const status = report(pod, res.state, m, false);
      if (status.phase === 'Running' && !m.seenRunning) {
        m.seenRunning = true;
        ctx.onRunning?.(pod);
      }
      if (isTerminalPhase(status.phase)) return { advance: true };
      await gcPod(deps, res.state);
      const now = deps.clock.now();
      let next = ctx.syncFrequencyMs;
      if (res.hadError) next = Math.min(next, ctx.errorRetryMs);
      if (res.retryAt !== undefined) next = Math.min(next, Math.max(0, res.retryAt - now));
      if (deadlineAt !== undefined) next = Math.min(next, Math.max(0, deadlineAt - now));
      return { requeueAfterMs: next };
    },

    async terminating(pod): Promise<StepResult> {
      const uid = pod.metadata?.uid ?? '';
      const m = mem(uid);
      const state = await readPodRuntimeState(deps.runtime, uid, deps.owner);
      ctx.track(state);
      if (isOrphan(pod)) {
        await killPod(deps, undefined, state);
        return { advance: true };
      }
      let grace = m.failure?.gracePeriodSeconds ?? podGracePeriod(pod);
      const delTs = pod.metadata?.deletionTimestamp;
      if (delTs !== undefined && delTs !== null) {
        const remaining = Math.ceil((new Date(delTs).getTime() - deps.clock.now()) / 1000);
        grace = Math.min(grace, Math.max(remaining, MIN_GRACE_SECONDS));
      }
      await killPod(deps, pod, state, grace);
      ctx.prober?.removePod(uid);
      const after = await readPodRuntimeState(deps.runtime, uid, deps.owner);
      report(pod, after, m, true);
      return { advance: true };
    },

    async terminated(pod, removed): Promise<StepResult> {
      const uid = pod.metadata?.uid ?? '';
      const deleted = isDeleted(pod);
      if (removed || deleted || isOrphan(pod)) {
        const state = await readPodRuntimeState(deps.runtime, uid, deps.owner);
        await removePodFromRuntime(deps, state);
        await deps.podCgroups?.removePod(uid);
        await deps.env.cleanupPod(uid);
      }
      if (deleted && ctx.hasApi && !isStaticPod(pod) && !removed) ctx.status.requestDeletion(uid);
      if (removed) {
        ctx.status.removePod(uid);
        memory.delete(uid);
      }
      return {};
    },
  };
}
