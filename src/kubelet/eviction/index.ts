/** The eviction manager (upstream pkg/kubelet/eviction). */
export { EvictionManager, isCriticalPod, TERMINATION_BY_KUBELET, type EvictionManagerOptions, type EvictionObserver, type EvictionFailure } from './manager.js';
export { HostEvictionObserver, memoryWorkingSet, type HostEvictionObserverOptions } from './observer.js';
export { buildThresholds, thresholdsMet, thresholdsMetGracePeriod, signalResource, signalCondition, type EvictionThreshold, type Observations, type Signal } from './thresholds.js';
export { rankForEviction, evictionMessage, formatBinarySI, type EvictionResource, type PodUsage } from './rank.js';
