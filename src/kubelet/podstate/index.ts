/**
 * What the pod workers (src/kubelet/pods) and the status generation (src/kubelet/status) share, so neither imports the
 * other: the runtime state of a pod as plain data and the restart/sidecar policy. Pure.
 */
export * from './records.js';
export * from './policy.js';
