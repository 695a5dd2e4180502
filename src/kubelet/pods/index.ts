/**
 * The pod half of the kubelet role. Entry point: {@link createPodLifecycle}. The pure building blocks are exported
 * for tests and for other areas (the kubelet server lists pods with their computed status).
 */
export { createPodLifecycle } from './lifecycle.js';
export type { PodLifecycle, PodLifecycleOptions, PodLifecycleMetrics, HealthCheck } from './options.js';
export { computePodActions, type PodActions, type ContainerToKill, type ActionInput } from './actions.js';
export { admitPod, matchesNode, type Rejection, type AdmissionContext } from './admission.js';
export { hashContainer } from './hash.js';
export { PHASE_EDGES, canTransition, type WorkerPhase } from './phases.js';
export { PodWorkers, type WorkerSteps, type StepResult } from './workers.js';
export { buildMirrorPod, isMirrorOf } from './mirror.js';
export { minimalPodEnvironment } from './default-env.js';
export type { PodRuntimeState, ContainerRecord, SandboxRecord } from './state.js';
export { ownerLabels, NODE_LABEL } from './state.js';
