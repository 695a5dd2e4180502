/**
 * The `DisruptionTarget` pod condition, which the kubelet shares with the control plane (upstream
 * kubetypes.PodConditionsSharedByKubelet): the kubelet sets it (status True, reason `TerminationByKubelet`) on pods it
 * evicts or terminates for a node shutdown, and sends it only together with the pod's transition to a terminal phase
 * (upstream status manager mergePodStatus). Pure.
 */
import type { V1PodCondition } from '@kubernetes/client-node';

/** The condition type. */
export const DISRUPTION_TARGET = 'DisruptionTarget';

/** Condition types the kubelet writes but does not own (upstream PodConditionsSharedByKubelet). */
export function isSharedCondition(type: string): boolean {
  return type === DISRUPTION_TARGET;
}

/**
 * `conditions` with the DisruptionTarget condition (status True) replaced or appended; its lastTransitionTime is
 * carried over from `old` when that already had it True, else `now`.
 */
export function withDisruptionTarget(
  conditions: readonly V1PodCondition[],
  target: { reason: string; message: string },
  old: readonly V1PodCondition[] | undefined,
  now: Date,
): V1PodCondition[] {
  const prev = old?.find((c) => c.type === DISRUPTION_TARGET && c.status === 'True');
  const cond: V1PodCondition = {
    type: DISRUPTION_TARGET,
    status: 'True',
    reason: target.reason,
    message: target.message,
    lastTransitionTime: prev?.lastTransitionTime ?? now,
  };
  const i = conditions.findIndex((c) => c.type === DISRUPTION_TARGET);
  if (i < 0) return [...conditions, cond];
  return conditions.map((c, j) => (j === i ? cond : c));
}
