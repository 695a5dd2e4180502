export * from './types.js';
export { NO_PROBE_RESULTS, probeReadiness, type PodProbeResults } from './view.js';
export type { ProberManagerOptions } from './options.js';
export { createProberManager, DefaultProberManager } from './manager.js';
export type { ProbeHandlers } from './prober.js';
export type { ProbeOutcome, ProbeOutcomeResult } from './handlers/types.js';
