/**
 * The pod worker's phase machine (upstream pod_workers.go, krustlet-style declared edges): a pod is synced until it
 * must stop, then terminating (containers being stopped), then terminated (nothing runs; final status and cleanup).
 * Never backwards: a terminated UID stays terminated until it is forgotten.
 */

/** Worker phases. */
export type WorkerPhase = 'sync' | 'terminating' | 'terminated';

/** Allowed transitions. */
export const PHASE_EDGES: Readonly<Record<WorkerPhase, readonly WorkerPhase[]>> = {
  sync: ['terminating'],
  terminating: ['terminated'],
  terminated: [],
};

/** True when `from → to` is declared. */
export function canTransition(from: WorkerPhase, to: WorkerPhase): boolean {
  return PHASE_EDGES[from].includes(to);
}

/** Returns `to`, or throws when the edge is not declared (a programming error). */
export function transition(from: WorkerPhase, to: WorkerPhase): WorkerPhase {
  if (!canTransition(from, to)) throw new Error(`pod worker: illegal phase transition ${from} → ${to}`);
  return to;
}
