/** Container log rotation for CRI runtimes and the removal of log directories of pods that are gone (upstream pkg/kubelet/logs, kuberuntime_gc). */
export { ContainerLogManager, planRotatedFiles, rotationTimestamp, type ContainerLogManagerOptions, type LogRotationRuntime } from './rotation.js';
export {
  hostPodLogDirFs,
  parsePodLogDirName,
  PodLogDirCleaner,
  selectOrphanedPodLogDirs,
  type OrphanedPodLogDirInput,
  type PodLogDirCleanerOptions,
  type PodLogDirEntry,
  type PodLogDirFs,
  type PodLogDirName,
  type PodLogDirPodState,
  type PodLogDirRuntime,
} from './pod-log-dirs.js';
export { containerIdOfLegacyLink, LEGACY_CONTAINER_LOGS_DIR, legacyLogLinkPath, LegacyLogLinks, type ContainerStateOf } from './legacy-links.js';
