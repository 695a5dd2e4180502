/**
 * Pod phase from container statuses, as upstream getPhase (pkg/kubelet/kubelet_pods.go), including sidecars
 * (restartable init containers). Pure.
 */
import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import { isSidecar, podRestartPolicy } from '../podstate/policy.js';

/** Pod phases. */
export type PodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';

/** True for Succeeded and Failed, which never change again. */
export function isTerminalPhase(phase: string | undefined): boolean {
  return phase === 'Succeeded' || phase === 'Failed';
}

function find(statuses: V1ContainerStatus[], name: string): V1ContainerStatus | undefined {
  return statuses.find((s) => s.name === name);
}

/** True when any regular container has started or finished (the pod was initialized before). */
export function anyRegularContainerStarted(pod: V1Pod, statuses: V1ContainerStatus[]): boolean {
  return (pod.spec?.containers ?? []).some((c) => {
    const s = find(statuses, c.name);
    return s !== undefined && (s.state?.running !== undefined || s.state?.terminated !== undefined);
  });
}

interface Counts {
  pendingInit: number;
  failedInit: number;
  unknown: number;
  running: number;
  waiting: number;
  stopped: number;
  succeeded: number;
}

function countInit(pod: V1Pod, init: V1ContainerStatus[], n: Counts): void {
  for (const c of pod.spec?.initContainers ?? []) {
    const s = find(init, c.name);
    if (isSidecar(c)) {
      if (s === undefined) n.unknown++;
      else if (s.state?.running !== undefined) {
        if (s.started !== true) n.pendingInit++;
        n.running++;
      } else if (s.state?.terminated !== undefined) {
        // terminated sidecars do not count
      } else if (s.state?.waiting !== undefined) {
        if (s.lastState?.terminated === undefined) {
          n.pendingInit++;
          n.waiting++;
        }
      } else {
        n.pendingInit++;
        n.unknown++;
      }
      continue;
    }
    if (s === undefined) n.pendingInit++;
    else if (s.state?.running !== undefined) n.pendingInit++;
    else if (s.state?.terminated !== undefined) {
      if (s.state.terminated.exitCode !== 0) n.failedInit++;
    } else if (s.state?.waiting !== undefined) {
      if (s.lastState?.terminated !== undefined) {
        if (s.lastState.terminated.exitCode !== 0) n.failedInit++;
      } else n.pendingInit++;
    } else n.pendingInit++;
  }
}

function countApp(pod: V1Pod, app: V1ContainerStatus[], n: Counts): void {
  for (const c of pod.spec?.containers ?? []) {
    const s = find(app, c.name);
    if (s === undefined) n.unknown++;
    else if (s.state?.running !== undefined) n.running++;
    else if (s.state?.terminated !== undefined) {
      n.stopped++;
      if (s.state.terminated.exitCode === 0) n.succeeded++;
    } else if (s.state?.waiting !== undefined) {
      if (s.lastState?.terminated !== undefined) n.stopped++;
      else n.waiting++;
    } else n.unknown++;
  }
}

/**
 * The pod phase. `podIsTerminal` is true once the pod worker decided the pod will run nothing again (deleted,
 * evicted, deadline): then all-stopped means Succeeded/Failed regardless of the restart policy (not for static pods).
 */
export function computePodPhase(
  pod: V1Pod,
  init: V1ContainerStatus[],
  app: V1ContainerStatus[],
  podIsTerminal: boolean,
): PodPhase {
  const n: Counts = { pendingInit: 0, failedInit: 0, unknown: 0, running: 0, waiting: 0, stopped: 0, succeeded: 0 };
  countInit(pod, init, n);
  countApp(pod, app, n);
  const policy = podRestartPolicy(pod);
  if (n.failedInit > 0 && policy === 'Never') return 'Failed';
  if ((n.pendingInit > 0 && !anyRegularContainerStarted(pod, app)) || n.waiting > 0) return 'Pending';
  if (n.running > 0 && n.unknown === 0) return 'Running';
  if (n.running === 0 && n.stopped > 0 && n.unknown === 0) {
    const isStatic = pod.metadata?.annotations?.['kubernetes.io/config.source'] !== undefined &&
      pod.metadata.annotations['kubernetes.io/config.source'] !== 'api';
    if (podIsTerminal && !isStatic) return n.stopped === n.succeeded ? 'Succeeded' : 'Failed';
    if (policy === 'Always') return 'Running';
    if (n.stopped === n.succeeded) return 'Succeeded';
    if (policy === 'Never') return 'Failed';
    return 'Running';
  }
  return 'Pending';
}
