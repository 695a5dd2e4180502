/** The kubelet's streaming endpoints: exec, attach and port-forward over SPDY/3.1 and WebSocket. */
export { createStreamingHandler } from './handler.js';
export type { StreamingHandlerDeps } from './handler.js';
export { streamingOf } from './runtime.js';
