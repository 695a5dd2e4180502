/**
 * Starting one container (upstream startContainer): crash-loop backoff check, image, config, create, start,
 * postStart hook. Every failure is a WaitingError whose reason becomes the container's visible waiting state.
 */
import { join } from 'node:path';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { ANNOTATIONS, LABELS, type PodSandboxConfig } from '../../cri/types.js';
import { errorMessage } from '../../util/errors.js';
import { goDuration } from '../status/time.js';
import { TERMINATION_MESSAGE_POLICY_ANNOTATION } from '../security/labels.js';
import { containerRef } from '../../api/refs.js';
import { podFullName } from '../../util/pod-names.js';
import { backoffKey, podGracePeriod, type PodDeps } from './deps.js';
import { hashContainer } from './hash.js';
import { runHandler } from './hooks.js';
import { containerHistory, latestContainer, type PodRuntimeState } from './state.js';
import { WaitingError } from './waiting.js';

/** Where the container goes. */
export interface StartTarget {
  sandboxId: string;
  podIPs: string[];
  /** The sandbox config the sandbox was created with (needed by createContainer). */
  sandboxConfig: PodSandboxConfig;
  /** Ephemeral containers with a target: the runtime id of the container whose PID namespace to join. */
  pidTargetId?: string;
}

/**
 * Crash-loop backoff gate (upstream doBackOff): a container whose last instance exited is restarted only after the
 * backoff since its finish time; otherwise throws CrashLoopBackOff (with a BackOff event) and `retryAt`.
 */
export function checkCrashLoop(deps: PodDeps, pod: V1Pod, c: V1Container, isInit: boolean, state: PodRuntimeState): void {
  // As upstream doBackOff: the newest EXITED instance decides. When a sync kills a running instance (a liveness
  // failure) and restarts it, `state` was read before the kill, so the newest instance still shows running; the one
  // before it is the last crash, and backing off from it is what keeps probe-killed containers in CrashLoopBackOff.
  const rec = containerHistory(state, c.name).find((r) => r.state === 'exited');
  if (rec === undefined) return;
  const key = backoffKey(pod, c);
  const now = deps.clock.now();
  const since = rec.finishedAt > 0 ? rec.finishedAt : now;
  if (deps.crashBackoff.get(key) === 0 && rec.restartCount > 0 && rec.hash === hashContainer(c)) {
    // A restarted agent has no backoff memory: rebuild it from the restart count kept in the runtime, so a crash
    // looping container does not get a free restart (instance n was started after n doublings). Only for the same
    // spec: a changed container starts fresh, as its key (with the spec hash) says.
    for (let i = 0; i < Math.min(rec.restartCount, 6); i++) deps.crashBackoff.next(key, since);
  }
  if (deps.crashBackoff.isInBackoffSince(key, since, now)) {
    const delay = deps.crashBackoff.get(key);
    deps.recorder.event(containerRef(pod, c.name, isInit), 'Warning', 'BackOff',
      `Back-off restarting failed container ${c.name} in pod ${podFullName(pod)}`);
    throw new WaitingError('RUNTIME_ERROR', 'CrashLoopBackOff',
      `back-off ${goDuration(delay)} restarting failed container=${c.name} pod=${podFullName(pod)}`,
      { retryAt: since + delay });
  }
  deps.crashBackoff.next(key, since);
}

function failed(deps: PodDeps, pod: V1Pod, c: V1Container, isInit: boolean, reason: string, err: unknown): WaitingError {
  const msg = errorMessage(err);
  deps.recorder.event(containerRef(pod, c.name, isInit), 'Warning', 'Failed', `Error: ${msg}`);
  return new WaitingError('RUNTIME_ERROR', reason, msg, { cause: err });
}

/** Starts `c` in the sandbox; returns the new container id. Throws WaitingError. */
export async function startContainer(
  deps: PodDeps,
  pod: V1Pod,
  c: V1Container,
  isInit: boolean,
  state: PodRuntimeState,
  target: StartTarget,
): Promise<string> {
  checkCrashLoop(deps, pod, c, isInit, state);
  const ref = containerRef(pod, c.name, isInit);
  const image = await deps.images.ensureImage(pod, c, ref);
  const prev = latestContainer(state, c.name);
  const restartCount = prev === undefined ? 0 : prev.restartCount + 1;
  const uid = pod.metadata?.uid ?? '';
  let config;
  try {
    config = await deps.env.containerConfig(pod, c, {
      podIPs: target.podIPs,
      hostIPs: deps.hostIPs(),
      attempt: restartCount,
      image,
      isInit,
      logDirectory: deps.logDirectory(uid),
    });
  } catch (err) {
    throw failed(deps, pod, c, isInit, 'CreateContainerConfigError', err);
  }
  config.metadata = { name: c.name, attempt: restartCount };
  if (target.pidTargetId !== undefined) config.linux.securityContext.namespaceOptions.pidTargetId = target.pidTargetId;
  config.labels = {
    ...config.labels,
    [LABELS.podName]: pod.metadata?.name ?? '',
    [LABELS.podNamespace]: pod.metadata?.namespace ?? 'default',
    [LABELS.podUID]: uid,
    [LABELS.containerName]: c.name,
    ...deps.owner,
  };
  config.annotations = {
    ...config.annotations,
    [ANNOTATIONS.containerHash]: hashContainer(c),
    [ANNOTATIONS.restartCount]: String(restartCount),
    [ANNOTATIONS.terminationMessagePath]: c.terminationMessagePath ?? '/dev/termination-log',
    [TERMINATION_MESSAGE_POLICY_ANNOTATION]: c.terminationMessagePolicy ?? 'File',
    [ANNOTATIONS.terminationGracePeriod]: String(podGracePeriod(pod)),
  };
  if (c.lifecycle?.preStop !== undefined) config.annotations[ANNOTATIONS.preStopHandler] = JSON.stringify(c.lifecycle.preStop);
  let id: string;
  try {
    id = await deps.runtime.createContainer(target.sandboxId, config, target.sandboxConfig);
    deps.track(id, uid);
  } catch (err) {
    throw failed(deps, pod, c, isInit, 'CreateContainerError', err);
  }
  deps.recorder.event(ref, 'Normal', 'Created', `Created container ${c.name}`);
  try {
    await deps.runtime.startContainer(id);
  } catch (err) {
    throw failed(deps, pod, c, isInit, 'RunContainerError', err);
  }
  deps.recorder.event(ref, 'Normal', 'Started', `Started container ${c.name}`);
  if (deps.legacyLogLinks !== undefined && config.logPath !== undefined) {
    const podNamespace = pod.metadata?.namespace ?? 'default';
    await deps.legacyLogLinks.link({ podName: pod.metadata?.name ?? '', podNamespace, containerName: c.name, containerId: id }, join(deps.logDirectory(uid), config.logPath));
  }
  const postStart = c.lifecycle?.postStart;
  if (postStart !== undefined) {
    try {
      await runHandler(postStart, {
        runtime: deps.runtime,
        clock: deps.clock,
        container: c,
        containerId: id,
        podFullName: podFullName(pod),
        podIP: target.podIPs[0] ?? '',
        timeoutSeconds: podGracePeriod(pod),
      });
    } catch (err) {
      const msg = errorMessage(err);
      deps.recorder.event(ref, 'Warning', 'FailedPostStartHook', msg);
      deps.recorder.event(ref, 'Normal', 'Killing', `FailedPostStartHook`);
      await deps.runtime.stopContainer(id, podGracePeriod(pod)).catch(() => undefined);
      throw new WaitingError('RUNTIME_ERROR', 'PostStartHookError', msg, { cause: err });
    }
  }
  return id;
}
