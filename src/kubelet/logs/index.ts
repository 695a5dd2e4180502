/** Container log rotation for CRI runtimes (upstream pkg/kubelet/logs). */
export { ContainerLogManager, planRotatedFiles, rotationTimestamp, type ContainerLogManagerOptions, type LogRotationRuntime } from './rotation.js';
