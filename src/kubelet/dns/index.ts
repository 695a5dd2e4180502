export * from './resolvconf.js';
export * from './dns.js';
export * from './hosts.js';
