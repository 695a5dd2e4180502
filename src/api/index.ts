export * from './types.js';
export * from './nodes.js';
export * from './leases.js';
export * from './pods.js';
export * from './events.js';
