/** Container garbage collection (upstream kuberuntime containerGC): the pure policy and the collector. */
export { ContainerGcManager, ContainerGcError, type ContainerGcOptions, type ContainerGcResult, type ContainerGcRuntime, type GcPodState } from './manager.js';
export {
  DEFAULT_CONTAINER_GC_POLICY,
  selectContainers,
  selectSandboxes,
  type ContainerGcPolicy,
  type ContainerSelectionInput,
  type GcContainer,
  type GcSandbox,
  type PodRemoval,
  type SandboxSelectionInput,
} from './policy.js';
