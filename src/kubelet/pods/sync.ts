/**
 * One sync of a running pod (upstream kuberuntime SyncPod): read the runtime state, compute actions, execute them
 * (kill, sandbox, init containers one at a time, app containers), and report what happened. Throws only for errors
 * that concern the whole pod (volume setup → FailedMount, sandbox creation, runtime down); per-container failures
 * land in `reasons`. The caller (steps.ts) still writes the pod's status from the runtime state before it retries,
 * so a pod whose volumes cannot be set up shows Pending with its containers waiting in ContainerCreating.
 */
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { LABELS } from '../../cri/types.js';
import type { PodSandboxConfig } from '../../cri/types.js';
import { errorMessage, hasCode, errorFields } from '../../util/errors.js';
import type { WaitingReason } from '../status/containers.js';
import { computePodActions, type PodActions, type ProbeKill } from './actions.js';
import { podRef } from '../../api/refs.js';
import { findContainer, type PodDeps } from './deps.js';
import { killContainer, killPod } from './kill.js';
import { isSidecar } from './policy.js';
import { latestContainer, readPodRuntimeState, type PodRuntimeState } from './state.js';
import { startContainer, type StartTarget } from './start.js';
import { isWaitingError } from './waiting.js';
import { computeResizePlan, resizeInProgress } from '../allocation/resize.js';
import { applyResize, mergeRestarts } from './resize.js';

/** Per-pod memory kept by the worker between syncs. */
export interface PodSyncMemory {
  /** Waiting reasons by container name (cleared when the container starts). */
  reasons: Map<string, WaitingReason>;
  /** Pending liveness/startup kills by container id. */
  probeKills: Map<string, ProbeKill>;
  /** The config of the current sandbox (needed to create containers in it). */
  sandboxConfig?: { id: string; config: PodSandboxConfig };
}

/** What a sync did. */
export interface SyncResult {
  /** Runtime state after the sync (for status). */
  state: PodRuntimeState;
  actions: PodActions;
  /** Epoch ms of the earliest useful retry (backoff expiry), if any. */
  retryAt?: number;
  /** True when any step failed (the worker retries sooner than the resync period). */
  hadError: boolean;
}

function earliest(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.min(a, b);
}

/**
 * Creates or updates the pod's cgroup (every sync, as upstream syncPod); returns the sandbox's cgroup parent
 * (undefined without cgroupsPerQOS). A failure is a `FailedCreatePodContainer` event and fails the sync.
 */
async function ensurePodCgroup(deps: PodDeps, pod: V1Pod, skip = false): Promise<string | undefined> {
  if (deps.podCgroups === undefined || skip) return undefined;
  try {
    return await deps.podCgroups.ensurePod(pod);
  } catch (err) {
    deps.recorder.event(podRef(pod), 'Warning', 'FailedCreatePodContainer', `unable to ensure pod container exists: ${errorMessage(err)}`);
    throw err;
  }
}

async function createSandbox(deps: PodDeps, pod: V1Pod, actions: PodActions, mem: PodSyncMemory, cgroupParent: string | undefined): Promise<string> {
  const ref = podRef(pod);
  try {
    await deps.env.prepareVolumes(pod);
  } catch (err) {
    deps.recorder.event(ref, 'Warning', 'FailedMount', errorMessage(err));
    throw err;
  }
  try {
    const config = await deps.env.sandboxConfig(pod, actions.attempt);
    config.metadata = {
      name: pod.metadata?.name ?? '',
      namespace: pod.metadata?.namespace ?? 'default',
      uid: pod.metadata?.uid ?? '',
      attempt: actions.attempt,
    };
    config.image = config.image || deps.podInfraImage;
    if (cgroupParent !== undefined) config.linux.cgroupParent = cgroupParent;
    config.logDirectory ??= deps.logDirectory(pod.metadata?.uid ?? '');
    config.labels = {
      ...config.labels,
      [LABELS.podName]: config.metadata.name,
      [LABELS.podNamespace]: config.metadata.namespace,
      [LABELS.podUID]: config.metadata.uid,
      ...deps.owner,
    };
    const id = await deps.runtime.runPodSandbox(config);
    deps.track(id, config.metadata.uid);
    mem.sandboxConfig = { id, config };
    return id;
  } catch (err) {
    deps.recorder.event(ref, 'Warning', 'FailedCreatePodSandBox', `Failed to create pod sandbox: ${errorMessage(err)}`);
    throw err;
  }
}

async function currentSandboxConfig(deps: PodDeps, pod: V1Pod, id: string, attempt: number, mem: PodSyncMemory, cgroupParent: string | undefined): Promise<PodSandboxConfig> {
  if (mem.sandboxConfig?.id === id) return mem.sandboxConfig.config;
  // After an agent restart: rebuild the config the sandbox was made with (same pod, same attempt).
  const config = await deps.env.sandboxConfig(pod, attempt);
  config.image = config.image || deps.podInfraImage;
  if (cgroupParent !== undefined) config.linux.cgroupParent = cgroupParent;
  mem.sandboxConfig = { id, config };
  return config;
}

/**
 * Starts the ephemeral containers (`kubectl debug`) that never ran: each runs once and is never restarted (upstream
 * computePodActions EphemeralContainersToStart). One with `targetContainerName` joins that container's PID namespace
 * (it must be running). Failures land in `reasons` like app containers'. Returns whether one was started.
 */
async function startEphemeralContainers(deps: PodDeps, pod: V1Pod, state: PodRuntimeState, target: StartTarget, mem: PodSyncMemory): Promise<boolean> {
  let started = false;
  for (const e of pod.spec?.ephemeralContainers ?? []) {
    if (latestContainer(state, e.name) !== undefined) continue;
    const c = e as V1Container;
    let pidTargetId: string | undefined;
    if (e.targetContainerName !== undefined && e.targetContainerName !== '') {
      const t = latestContainer(state, e.targetContainerName);
      if (t?.state !== 'running') {
        mem.reasons.set(e.name, { reason: 'CreateContainerConfigError', message: `target container ${e.targetContainerName} is not running` });
        continue;
      }
      pidTargetId = t.id;
    }
    try {
      await startContainer(deps, pod, c, false, state, pidTargetId === undefined ? target : { ...target, pidTargetId });
      mem.reasons.delete(e.name);
      started = true;
    } catch (err) {
      if (hasCode(err, 'RUNTIME_UNAVAILABLE')) throw err;
      const reason = isWaitingError(err) ? err.reason : 'RunContainerError';
      mem.reasons.set(e.name, { reason, message: errorMessage(err) });
      deps.logger.warn({ container: e.name, ...errorFields(err) }, 'failed to start ephemeral container');
    }
  }
  return started;
}

/** Runs one sync; see module comment. */
export async function syncPod(deps: PodDeps, pod: V1Pod, mem: PodSyncMemory): Promise<SyncResult> {
  const uid = pod.metadata?.uid ?? '';
  let state = await readPodRuntimeState(deps.runtime, uid, deps.owner);
  const actions = computePodActions({ pod, state, probeKills: mem.probeKills });
  // In-place resize: running containers whose allocated resources changed (kills/restarts join the actions).
  const resizing = deps.resize !== undefined && !actions.killPod && actions.sandboxId !== '';
  const plan = resizing ? computeResizePlan(pod, state, actions.sandboxId, deps.resize?.cpuCFSQuota ?? true) : undefined;
  if (plan !== undefined) mergeRestarts(actions, plan);
  let retryAt: number | undefined;
  let hadError = false;
  let changed = false;
  if (actions.killPod) {
    if (actions.createSandbox && state.sandboxes.length > 0) {
      deps.recorder.event(podRef(pod), 'Normal', 'SandboxChanged', 'Pod sandbox changed, it will be killed and re-created.');
    }
    await killPod(deps, pod, state);
    changed = true;
  } else {
    for (const k of actions.containersToKill) {
      const rec = state.containers.find((c) => c.id === k.id);
      if (rec === undefined) continue;
      await killContainer(deps, pod, rec, { message: k.message, gracePeriodSeconds: k.gracePeriodSeconds });
      mem.probeKills.delete(k.id);
      changed = true;
    }
  }
  let sandboxId = actions.sandboxId;
  let attempt = state.sandboxes[0]?.attempt ?? 0;
  const resized = plan === undefined ? undefined : await applyResize(deps, pod, plan);
  if (resized?.changed === true) changed = true;
  // After a resize's updates the full ensure lowers what shrinks; after a failed one the grown limits stay.
  const cgroupParent = actions.killPod && !actions.createSandbox
    ? undefined
    : ((await ensurePodCgroup(deps, pod, resized?.error !== undefined)) ?? resized?.cgroupParent);
  if (actions.createSandbox) {
    sandboxId = await createSandbox(deps, pod, actions, mem, cgroupParent);
    attempt = actions.attempt;
    changed = true;
  } else if (actions.killPod || sandboxId === '') {
    deps.resize?.setInProgress(uid, false);
    return { state: changed ? await readPodRuntimeState(deps.runtime, uid, deps.owner) : state, actions, hadError };
  } else {
    try {
      await deps.env.prepareVolumes(pod);
    } catch (err) {
      deps.recorder.event(podRef(pod), 'Warning', 'FailedMount', errorMessage(err));
      throw err;
    }
  }
  const sandboxConfig = await currentSandboxConfig(deps, pod, sandboxId, attempt, mem, cgroupParent);
  const sbStatus = await deps.runtime.podSandboxStatus(sandboxId);
  const podIPs = [sbStatus.ip, ...sbStatus.additionalIps].filter((ip) => ip !== '');
  const target = { sandboxId, podIPs, sandboxConfig };
  const start = async (name: string): Promise<boolean> => {
    const spec = findContainer(pod, name);
    if (spec === undefined) return false;
    try {
      await startContainer(deps, pod, spec.c, spec.isInit, state, target);
      mem.reasons.delete(name);
      changed = true;
      return true;
    } catch (err) {
      if (isWaitingError(err)) {
        mem.reasons.set(name, { reason: err.reason, message: err.message });
        retryAt = earliest(retryAt, err.retryAt);
        if (err.reason !== 'CrashLoopBackOff' && err.reason !== 'ImagePullBackOff') hadError = true;
        deps.logger.debug({ container: name, reason: err.reason, err: err.message }, 'container not started');
        return false;
      }
      if (hasCode(err, 'RUNTIME_UNAVAILABLE')) throw err;
      mem.reasons.set(name, { reason: 'RunContainerError', message: errorMessage(err) });
      hadError = true;
      deps.logger.warn({ container: name, ...errorFields(err) }, 'failed to start container');
      return false;
    }
  };
  for (const name of actions.initContainersToStart) {
    if (!(await start(name))) break;
    // A started sidecar lets initialization go on without waiting for an exit event: sync again at once.
    const spec = findContainer(pod, name);
    if (spec !== undefined && isSidecar(spec.c)) retryAt = earliest(retryAt, deps.clock.now());
  }
  for (const name of actions.containersToStart) await start(name);
  if (await startEphemeralContainers(deps, pod, state, target, mem)) changed = true;
  if (changed) state = await readPodRuntimeState(deps.runtime, uid, deps.owner);
  if (deps.resize !== undefined) {
    const sandbox = state.sandboxes[0]?.id ?? '';
    const inProgress = resizeInProgress(pod, state, sandbox, deps.resize.cpuCFSQuota);
    deps.resize.setInProgress(uid, inProgress, inProgress ? resized?.error : undefined);
    if (resized?.error !== undefined) hadError = true;
  }
  return { state, actions, retryAt, hadError };
}
