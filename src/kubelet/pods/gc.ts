/**
 * Per-pod garbage collection of dead containers and sandboxes (upstream container GC with MaxPerPodContainer=1):
 * keep the newest dead instance of each container (for `kubectl logs --previous` and restartCount), remove older
 * dead instances, and remove dead sandboxes that are not the newest and hold no containers. Also the full removal of
 * a pod that is gone. Runs inside the pod's worker, so it never races the pod's own sync.
 */
import { errorFields } from '../../util/errors.js';
import type { PodDeps } from './deps.js';
import type { PodRuntimeState } from './state.js';

/** Dead containers and sandboxes to remove from `state`. Pure. */
export function gcCandidates(state: PodRuntimeState): { containers: string[]; sandboxes: string[] } {
  const containers: string[] = [];
  const keptDead = new Set<string>();
  for (const c of state.containers) {
    if (c.state !== 'exited') continue;
    if (!keptDead.has(c.name)) {
      keptDead.add(c.name);
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
  const { containers, sandboxes } = gcCandidates(state);
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
