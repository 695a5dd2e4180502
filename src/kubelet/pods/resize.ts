/**
 * Applying an accepted in-place resize to a running pod (upstream kuberuntime doPodResizeAction): the pod cgroup's
 * limits that grow are raised first, then the containers are updated through the runtime (shrinking ones first), and
 * the caller's full ensurePod afterwards lowers what shrinks — a cgroup parent is never below its children. Containers
 * whose resizePolicy says RestartContainer are restarted by the sync instead (see mergeRestarts).
 */
import type { V1Pod } from '@kubernetes/client-node';
import { podRef } from '../../api/refs.js';
import { errorFields, errorMessage, hasCode, NodeletError } from '../../util/errors.js';
import type { ResizePlan } from '../allocation/resize.js';
import type { PodActions } from './actions.js';
import type { PodDeps } from './deps.js';

/** What applying a plan did. */
export interface ResizeOutcome {
  /** A container was updated (the runtime state changed). */
  changed: boolean;
  /** Why the resize could not be completed (PodResizeInProgress reason Error), if it failed. */
  error?: string;
  /** The sandbox's cgroup parent, when the pod cgroup was ensured (grown) here. */
  cgroupParent?: string;
}

/** Adds the plan's restarts to the sync's actions (kill with upstream's message, then start again). Mutates `actions`. */
export function mergeRestarts(actions: PodActions, plan: ResizePlan): void {
  for (const r of plan.restarts) {
    if (actions.containersToKill.some((k) => k.id === r.id)) continue;
    actions.containersToKill.push({ id: r.id, name: r.name, message: r.message });
    const list = r.isInit ? actions.initContainersToStart : actions.containersToStart;
    if (!list.includes(r.name)) list.push(r.name);
  }
}

/**
 * Grows the pod cgroup and updates the containers of `plan` (see module comment). Failures are returned as `error`
 * (with a Warning event) so the sync goes on and retries later; only an unreachable runtime throws.
 */
export async function applyResize(deps: PodDeps, pod: V1Pod, plan: ResizePlan): Promise<ResizeOutcome> {
  const out: ResizeOutcome = { changed: false };
  if (plan.updates.length === 0) return out;
  const fail = (what: string, err: unknown): ResizeOutcome => {
    const message = what === '' ? errorMessage(err) : `${what}: ${errorMessage(err)}`;
    deps.recorder.event(podRef(pod), 'Warning', 'ResizeError', message);
    deps.logger.warn({ pod: `${pod.metadata?.namespace}/${pod.metadata?.name}`, ...errorFields(err) }, 'pod resize failed');
    return { ...out, error: message };
  };
  if (deps.podCgroups !== undefined) {
    try {
      if (plan.updates.some((u) => u.memoryChanged)) {
        const blocked = await deps.podCgroups.memoryResizeBlocked(pod);
        if (blocked !== undefined) return fail('', new NodeletError('RESIZE_FAILED', blocked, { object: `pod ${podRef(pod).namespace}/${podRef(pod).name}`, field: 'spec.containers[*].resources.limits.memory' }));
      }
      out.cgroupParent = await deps.podCgroups.ensurePod(pod, { growOnly: true });
    } catch (err) {
      return fail('failed to resize the pod cgroup', err);
    }
  }
  for (const u of plan.updates) {
    try {
      await deps.runtime.updateContainerResources(u.id, u.resources);
      out.changed = true;
    } catch (err) {
      if (hasCode(err, 'RUNTIME_UNAVAILABLE')) throw err;
      return fail(`failed to update the resources of container ${u.name}`, err);
    }
  }
  return out;
}
