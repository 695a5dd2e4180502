export { NodeAgent, type NodeAgentOptions } from './node-agent.js';
export { RuntimeMonitor, type RuntimeMonitorOptions } from './runtime-monitor.js';
export { createHostReader, type HostReader, type HostIdentity, type HostReadings, type FsInfo, type PidInfo } from './host.js';
export { computeConditions, readinessErrors, type RuntimeHealth, type ConditionInputs } from './conditions.js';
export { buildNodeStatus, initialNode, nodeLabels, nodeAddresses, nodeResources, statusFingerprint, type NodeSettings, type NodeVersions } from './status.js';
export { LeaseController, desiredLease, NODE_LEASE_NAMESPACE } from './lease.js';
export { NodeStatusReporter, type StatusStepResult } from './status-reporter.js';
export { registerNode, labelUpdates } from './registration.js';
export { Loop } from './loop.js';
