export { StatusManager, type StatusManagerOptions, type StatusTarget } from './manager.js';
export { generatePodStatus, type GenerateInput, type PodFailure } from './generate.js';
export { computePodPhase, isTerminalPhase, type PodPhase } from './phase.js';
export { computeConditions, type ConditionInput } from './conditions.js';
export { convertContainerStatuses, containerIDString, imageIDString, type WaitingReason } from './containers.js';
export { qosClass as computeQosClass, type QOSClass as QosClass } from '../security/qos.js';
export { parseQuantity } from '../../util/quantity.js';
export { goDuration, rfc3339, canonicalJSON } from './time.js';
