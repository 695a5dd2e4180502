/** A minimal unary gRPC client on node:http2 (CRI, containerd's Tasks service, gRPC health probes). */
export { GrpcCallError, GrpcStatus, UnaryGrpcClient, type UnaryCallOptions, type UnaryGrpcClientOptions } from './unary.js';
