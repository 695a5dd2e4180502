export * from './expansion.js';
export * from './service-env.js';
export * from './fieldref.js';
export * from './resourcefield.js';
export * from './sources.js';
export * from './make-env.js';
export * from './command.js';
