/**
 * What to do for a pod given its spec and the runtime state (upstream kuberuntime computePodActions). Pure: the
 * worker executes the result. Backoff is not decided here; the executor checks it right before each start so that
 * a container in crash-loop backoff shows a visible CrashLoopBackOff reason.
 */
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { hashContainer } from './hash.js';
import { isSidecar, podRestartPolicy, shouldRestart } from './policy.js';
import { latestContainer, type PodRuntimeState } from './state.js';

/** A container to stop, with the reason shown in the Killing event. */
export interface ContainerToKill {
  id: string;
  name: string;
  /** e.g. `Container web definition changed, will be restarted`. */
  message: string;
  /** Grace override (probe's terminationGracePeriodSeconds). */
  gracePeriodSeconds?: number;
}

/** The plan for one sync. */
export interface PodActions {
  /** Stop every container and the sandbox first. */
  killPod: boolean;
  /** Create a new sandbox (after killing the old one). */
  createSandbox: boolean;
  /** The current sandbox ('' when none). */
  sandboxId: string;
  /** Attempt number for a new sandbox. */
  attempt: number;
  /** Init containers to start, in order (one regular/sidecar during initialization, or sidecars to restart). */
  initContainersToStart: string[];
  /** App containers to start. */
  containersToStart: string[];
  containersToKill: ContainerToKill[];
  /** A regular init container failed and the pod's policy is Never: the pod is Failed. */
  initFailed: boolean;
}

/** A liveness/startup failure waiting to be acted on, by container id. */
export interface ProbeKill {
  message: string;
  gracePeriodSeconds?: number;
}

/** Inputs of {@link computePodActions}. */
export interface ActionInput {
  pod: V1Pod;
  state: PodRuntimeState;
  /** Liveness/startup failures by runtime container id (raw id, no scheme). */
  probeKills?: ReadonlyMap<string, ProbeKill>;
}

function sandboxChanged(pod: V1Pod, state: PodRuntimeState): { changed: boolean; attempt: number; id: string } {
  const s = state.sandboxes[0];
  if (s === undefined) return { changed: true, attempt: 0, id: '' };
  const readyCount = state.sandboxes.filter((x) => x.ready).length;
  const hostNet = pod.spec?.hostNetwork === true;
  if (readyCount > 1 || !s.ready) return { changed: true, attempt: s.attempt + 1, id: s.id };
  if ((s.network === 'node') !== hostNet) return { changed: true, attempt: s.attempt + 1, id: s.id };
  if (!hostNet && s.ips.length === 0) return { changed: true, attempt: s.attempt + 1, id: s.id };
  return { changed: false, attempt: s.attempt, id: s.id };
}

function emptyActions(): PodActions {
  return {
    killPod: false,
    createSandbox: false,
    sandboxId: '',
    attempt: 0,
    initContainersToStart: [],
    containersToStart: [],
    containersToKill: [],
    initFailed: false,
  };
}

function forNewSandbox(pod: V1Pod, state: PodRuntimeState, a: PodActions): PodActions {
  const policy = podRestartPolicy(pod);
  if (policy === 'Never' && a.attempt !== 0 && state.containers.length > 0) return { ...a, createSandbox: false };
  const toStart = (pod.spec?.containers ?? [])
    .filter((c) => {
      const rec = latestContainer(state, c.name);
      return !(policy === 'OnFailure' && rec?.state === 'exited' && rec.exitCode === 0);
    })
    .map((c) => c.name);
  const inits = pod.spec?.initContainers ?? [];
  if (toStart.length === 0) return { ...a, createSandbox: false };
  if (inits[0] !== undefined) return { ...a, initContainersToStart: [inits[0].name] };
  return { ...a, containersToStart: toStart };
}

/** Returns false while initialization is still in progress (or failed). */
function initActions(pod: V1Pod, state: PodRuntimeState, a: PodActions): boolean {
  const sandbox = a.sandboxId;
  const appStarted = (pod.spec?.containers ?? []).some((c) => latestContainer(state, c.name, sandbox) !== undefined);
  for (const c of pod.spec?.initContainers ?? []) {
    const rec = latestContainer(state, c.name, sandbox);
    if (isSidecar(c)) {
      if (rec?.state === 'running') {
        checkRunning(pod, c, rec.id, rec.hash, a, true);
        continue;
      }
      if (rec !== undefined && rec.state === 'unknown') a.containersToKill.push(kill(rec.id, c.name, 'unknown state'));
      a.initContainersToStart.push(c.name);
      if (appStarted) continue;
      return false;
    }
    if (appStarted) continue;
    if (rec === undefined) {
      a.initContainersToStart.push(c.name);
      return false;
    }
    if (rec.state === 'running') return false;
    if (rec.state === 'exited' && rec.exitCode === 0) continue;
    if (rec.state === 'exited' && podRestartPolicy(pod) === 'Never') {
      a.initFailed = true;
      a.killPod = true;
      return false;
    }
    if (rec.state === 'unknown') a.containersToKill.push(kill(rec.id, c.name, 'unknown state'));
    a.initContainersToStart.push(c.name);
    return false;
  }
  return true;
}

function kill(id: string, name: string, why: string, restart = true, grace?: number): ContainerToKill {
  const base = `Container ${name} ${why}`;
  return { id, name, message: restart ? `${base}, will be restarted` : base, gracePeriodSeconds: grace };
}

/** Decides whether a running container is kept; returns true when kept. */
function checkRunning(
  pod: V1Pod,
  c: V1Container,
  id: string,
  hash: string,
  a: PodActions,
  isInit: boolean,
  probeKills?: ReadonlyMap<string, ProbeKill>,
): boolean {
  const list = isInit ? a.initContainersToStart : a.containersToStart;
  if (hash !== '' && hash !== hashContainer(c)) {
    a.containersToKill.push(kill(id, c.name, 'definition changed'));
    list.push(c.name);
    return false;
  }
  const probe = probeKills?.get(id);
  if (probe !== undefined) {
    const restart = isInit || podRestartPolicy(pod) !== 'Never';
    a.containersToKill.push({ id, name: c.name, message: probe.message, gracePeriodSeconds: probe.gracePeriodSeconds });
    if (restart) list.push(c.name);
    return false;
  }
  return true;
}

/** Pure: the actions that bring the runtime state towards the spec. */
export function computePodActions(input: ActionInput): PodActions {
  const { pod, state } = input;
  const sb = sandboxChanged(pod, state);
  const a: PodActions = { ...emptyActions(), killPod: sb.changed, createSandbox: sb.changed, sandboxId: sb.id, attempt: sb.attempt };
  if (sb.changed) return forNewSandbox(pod, state, a);
  if (!initActions(pod, state, a) || a.killPod) return a;
  let keep = 0;
  for (const c of pod.spec?.containers ?? []) {
    const rec = latestContainer(state, c.name);
    if (rec === undefined || rec.state !== 'running') {
      if (shouldRestart(pod, c, rec, false)) {
        a.containersToStart.push(c.name);
        if (rec?.state === 'unknown') a.containersToKill.push(kill(rec.id, c.name, 'unknown state'));
      }
      continue;
    }
    if (checkRunning(pod, c, rec.id, rec.hash, a, false, input.probeKills)) keep++;
  }
  // Probe kills of sidecars.
  for (const c of pod.spec?.initContainers ?? []) {
    const rec = latestContainer(state, c.name, a.sandboxId);
    const probe = rec === undefined ? undefined : input.probeKills?.get(rec.id);
    if (rec !== undefined && probe !== undefined && isSidecar(c) && rec.state === 'running' &&
      !a.containersToKill.some((k) => k.id === rec.id)) {
      a.containersToKill.push({ id: rec.id, name: c.name, message: probe.message, gracePeriodSeconds: probe.gracePeriodSeconds });
      a.initContainersToStart.push(c.name);
    }
  }
  if (keep === 0 && a.containersToStart.length === 0) {
    a.killPod = true;
    a.initContainersToStart = [];
  }
  return a;
}
