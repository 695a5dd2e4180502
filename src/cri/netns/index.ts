export * from './types.js';
export { NsenterDialer, netnsId, type NsenterDialerOptions } from './dialer.js';
export { forwardPort, type ForwardPortOptions } from './forward.js';
