/** Pod resource allocation and in-place resize (upstream pkg/kubelet/allocation). */
export { AllocationManager, RESIZE_IN_PROGRESS, RESIZE_PENDING, type AllocationManagerOptions, type ResizeContext } from './manager.js';
export {
  allocationFromPod,
  applyAllocation,
  computeResizePlan,
  desiredCpuMemory,
  resizableContainers,
  resizeInProgress,
  type ResizePlan,
  type ResizeRestart,
  type ResizeUpdate,
} from './resize.js';
export { FileAllocationState, MemoryAllocationState, ALLOCATION_CHECKPOINT, type AllocationState, type ContainerAllocation, type PodAllocation } from './state.js';
