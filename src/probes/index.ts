export * from './types.js';
export type { ProberManagerOptions } from './options.js';
export { createProberManager, DefaultProberManager } from './manager.js';
export type { ProbeHandlers } from './prober.js';
export type { ProbeOutcome, ProbeOutcomeResult } from './handlers/types.js';
