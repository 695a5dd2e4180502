/**
 * Per-pod deletion of dead containers and sandboxes after each sync (upstream podContainerDeletor, which keeps
 * max(maxPerPodContainer, 1)): keep the newest dead instance(s) of each container (for `kubectl logs --previous` and
 * restartCount), remove older dead instances, and remove dead sandboxes that are not the newest and hold no
 * containers. Also the full removal of a pod that is gone. Runs inside the pod's worker, so it never races the pod's
 * own sync. The node-wide policy (minAge, maxContainers, evicted pods) is src/kubelet/containergc.
 */
import { errorFields } from '../../util/errors.js';
import type { PodDeps } from './deps.js';
import type { PodRuntimeState } from './state.js';

/**
 * Dead containers and sandboxes to remove from `state` (containers newest first, as read), keeping `keep` dead
 * instances per container name (upstream containerDeletor: max(maxPerPodContainer, 1)). Pure.
 */
export function gcCandidates(state: PodRuntimeState, keep = 1): { containers: string[]; sandboxes: string[] } {
  const containers: string[] = [];
  const keptDead = new Map<string, number>();
  for (const c of state.containers) {
    if (c.state !== 'exited') continue;
    const kept = keptDead.get(c.name) ?? 0;
    if (kept < keep) {
      keptDead.set(c.name, kept + 1);
      continue;
    }
    containers.push(c.id);
  }
  const remaining = state.containers.filter((c) => !containers.includes(c.id));
  const sandboxes = state.sandboxes
    .slice(1)
    .filter((s) => !s.ready && !remaining.some((c) => c.sandboxId === s.id))
    .map((s) => s.id);
  return { containers, sandboxes };
}

/** Removes what {@link gcCandidates} names; failures are logged and retried on the next sync. */
export async function gcPod(deps: PodDeps, state: PodRuntimeState): Promise<void> {
  const { containers, sandboxes } = gcCandidates(state, deps.deadContainersToKeep ?? 1);
  for (const id of containers) {
    await deps.runtime.removeContainer(id).catch((err: unknown) => deps.logger.debug({ id, ...errorFields(err) }, 'gc: remove container failed'));
  }
  for (const id of sandboxes) {
    await deps.runtime.removePodSandbox(id).catch((err: unknown) => deps.logger.debug({ id, ...errorFields(err) }, 'gc: remove sandbox failed'));
  }
}

/** Removes every container and sandbox of the pod (it is gone from the node's desired set). */
export async function removePodFromRuntime(deps: PodDeps, state: PodRuntimeState): Promise<void> {
  for (const c of state.containers) await deps.runtime.removeContainer(c.id);
  for (const s of state.sandboxes) await deps.runtime.removePodSandbox(s.id);
}
