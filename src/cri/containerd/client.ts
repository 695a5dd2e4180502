/**
 * A thin promise wrapper over the two CRI gRPC services on one unix socket: typed unary calls with a deadline and an
 * optional AbortSignal, errors mapped by errors.ts. One HTTP/2 connection (unary.ts), shared by concurrent calls;
 * messages encoded and decoded by codec.ts from the committed descriptor.
 */
import { decodeMessage, encodeMessage, methodTypes } from './codec.js';
import { mapCriError, type CriErrorContext } from './errors.js';
import type { ImageMethods, RuntimeMethods } from './messages.js';
import { GrpcCallError, GrpcStatus, UnaryGrpcClient } from '../../grpc/index.js';

/** Options for {@link CriClient}. */
export interface CriClientOptions {
  /** Absolute path of the runtime's socket. */
  socketPath: string;
  /** Default deadline per call (upstream --runtime-request-timeout, default 2 min). */
  timeoutMs?: number;
}

/** Per-call options. */
export interface CallOptions {
  /** Overrides the default deadline (0 = none). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

const EMPTY = Buffer.alloc(0);

// Upstream kubelet's maxMsgSize for CRI responses.
const MAX_MSG = 16 * 1024 * 1024;

/** Typed CRI calls. Safe for concurrent use; `close()` ends the connection. */
export class CriClient {
  readonly endpoint: string;
  readonly #grpc: UnaryGrpcClient;
  readonly #timeoutMs: number;

  constructor(options: CriClientOptions) {
    this.endpoint = `unix://${options.socketPath}`;
    this.#grpc = new UnaryGrpcClient({ socketPath: options.socketPath, maxReceiveBytes: MAX_MSG });
    this.#timeoutMs = options.timeoutMs ?? 120_000;
  }

  /** Calls a RuntimeService method. */
  runtime<M extends keyof RuntimeMethods>(method: M, req: RuntimeMethods[M][0], ctx: CriErrorContext, opts: CallOptions = {}): Promise<RuntimeMethods[M][1]> {
    return this.#call('RuntimeService', method, req, ctx, opts) as Promise<RuntimeMethods[M][1]>;
  }

  /** Calls an ImageService method. */
  image<M extends keyof ImageMethods>(method: M, req: ImageMethods[M][0], ctx: CriErrorContext, opts: CallOptions = {}): Promise<ImageMethods[M][1]> {
    return this.#call('ImageService', method, req, ctx, opts) as Promise<ImageMethods[M][1]>;
  }

  /**
   * Calls a RuntimeService method with an empty request and decodes the raw response bytes with `decode` (for hot
   * paths that need a few fields of a large response: list-scan.ts).
   */
  async runtimeRaw<T>(method: keyof RuntimeMethods, decode: (buf: Buffer) => T, ctx: CriErrorContext, opts: CallOptions = {}): Promise<T> {
    const res = await this.#send(`/runtime.v1.RuntimeService/${method}`, EMPTY, ctx, opts);
    try {
      return decode(res);
    } catch (err) {
      throw mapCriError(new GrpcCallError(GrpcStatus.INTERNAL, `Response deserialization failed: ${(err as Error).message}`, { cause: err }), ctx, this.endpoint);
    }
  }

  /** Closes the connection (idempotent). */
  close(): void {
    this.#grpc.close();
  }

  async #call(service: string, method: string, req: unknown, ctx: CriErrorContext, opts: CallOptions): Promise<unknown> {
    const types = methodTypes(service, method);
    let body: Buffer;
    try {
      body = encodeMessage(types.request, req as Record<string, unknown>);
    } catch (err) {
      throw mapCriError(new GrpcCallError(GrpcStatus.INTERNAL, `Request serialization failed: ${(err as Error).message}`, { cause: err }), ctx, this.endpoint);
    }
    const res = await this.#send(`/runtime.v1.${service}/${method}`, body, ctx, opts);
    try {
      return decodeMessage(types.response, res);
    } catch (err) {
      throw mapCriError(new GrpcCallError(GrpcStatus.INTERNAL, `Response deserialization failed: ${(err as Error).message}`, { cause: err }), ctx, this.endpoint);
    }
  }

  async #send(path: string, body: Buffer, ctx: CriErrorContext, opts: CallOptions): Promise<Buffer> {
    try {
      return await this.#grpc.call(path, body, { timeoutMs: opts.timeoutMs ?? this.#timeoutMs, signal: opts.signal });
    } catch (err) {
      throw mapCriError(err, ctx, this.endpoint);
    }
  }
}
