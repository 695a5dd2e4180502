export * from './errors.js';
export * from './logger.js';
export * from './clock.js';
export * from './backoff.js';
export * from './read-pool.js';
