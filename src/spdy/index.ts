/** SPDY/3.1 as Kubernetes streaming uses it (moby/spdystream peers): frame codec, header compression, connections. */
export { SpdyConnection, SpdyStream } from './connection.js';
export type { SpdyConnectionOptions } from './connection.js';
export { connectSpdy } from './client.js';
