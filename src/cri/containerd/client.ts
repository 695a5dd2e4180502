/**
 * A thin promise wrapper over the two CRI gRPC services on one unix socket: typed unary calls with a deadline and an
 * optional AbortSignal, errors mapped by errors.ts. One HTTP/2 connection, shared by concurrent calls.
 */
import { credentials, Metadata, type Client, type ServiceError } from '@grpc/grpc-js';
import { loadCriServices } from '../proto/services.js';
import { mapCriError, type CriErrorContext } from './errors.js';
import type { ImageMethods, RuntimeMethods } from './messages.js';

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

type Unary = (req: unknown, md: Metadata, opts: { deadline?: Date }, cb: (err: ServiceError | null, res: unknown) => void) => { cancel(): void };

/** Typed CRI calls. Safe for concurrent use; `close()` ends the connection. */
export class CriClient {
  readonly endpoint: string;
  readonly #runtime: Client;
  readonly #image: Client;
  readonly #timeoutMs: number;

  constructor(options: CriClientOptions) {
    const { RuntimeService, ImageService } = loadCriServices();
    this.endpoint = `unix://${options.socketPath}`;
    const channelOptions = { 'grpc.max_receive_message_length': MAX_MSG, 'grpc.max_send_message_length': MAX_MSG };
    this.#runtime = new RuntimeService(this.endpoint, credentials.createInsecure(), channelOptions);
    // The second client shares the first one's channel (one connection).
    this.#image = new ImageService(this.endpoint, credentials.createInsecure(), { ...channelOptions, channelOverride: this.#runtime.getChannel() });
    this.#timeoutMs = options.timeoutMs ?? 120_000;
  }

  /** Calls a RuntimeService method. */
  runtime<M extends keyof RuntimeMethods>(method: M, req: RuntimeMethods[M][0], ctx: CriErrorContext, opts: CallOptions = {}): Promise<RuntimeMethods[M][1]> {
    return this.#call(this.#runtime, method, req, ctx, opts) as Promise<RuntimeMethods[M][1]>;
  }

  /** Calls an ImageService method. */
  image<M extends keyof ImageMethods>(method: M, req: ImageMethods[M][0], ctx: CriErrorContext, opts: CallOptions = {}): Promise<ImageMethods[M][1]> {
    return this.#call(this.#image, method, req, ctx, opts) as Promise<ImageMethods[M][1]>;
  }

  /**
   * Calls a RuntimeService method with an empty request and decodes the raw response bytes with `decode` (for hot
   * paths that need a few fields of a large response: list-scan.ts).
   */
  runtimeRaw<T>(method: keyof RuntimeMethods, decode: (buf: Buffer) => T, ctx: CriErrorContext, opts: CallOptions = {}): Promise<T> {
    const timeoutMs = opts.timeoutMs ?? this.#timeoutMs;
    const callOpts = timeoutMs > 0 ? { deadline: new Date(Date.now() + timeoutMs) } : {};
    return new Promise((resolve, reject) => {
      this.#runtime.makeUnaryRequest(`/runtime.v1.RuntimeService/${method}`, () => EMPTY, decode, null, new Metadata(), callOpts, (err, res) => {
        if (err !== null && err !== undefined) reject(mapCriError(err, ctx, this.endpoint));
        else resolve(res as T);
      });
    });
  }

  /** Closes the connection (idempotent). */
  close(): void {
    this.#image.close();
    this.#runtime.close();
  }

  #call(client: Client, method: string, req: unknown, ctx: CriErrorContext, opts: CallOptions): Promise<unknown> {
    const fn = (client as unknown as Record<string, Unary>)[method];
    if (fn === undefined) throw new Error(`CRI method ${method} is not in the descriptor`);
    const timeoutMs = opts.timeoutMs ?? this.#timeoutMs;
    const callOpts = timeoutMs > 0 ? { deadline: new Date(Date.now() + timeoutMs) } : {};
    return new Promise((resolve, reject) => {
      if (opts.signal?.aborted === true) {
        reject(mapCriError({ code: 1, details: 'aborted', message: 'aborted' }, ctx, this.endpoint));
        return;
      }
      const onAbort = (): void => call.cancel();
      const call = fn.call(client, req, new Metadata(), callOpts, (err, res) => {
        opts.signal?.removeEventListener('abort', onAbort);
        if (err !== null) reject(mapCriError(err, ctx, this.endpoint));
        else resolve(res);
      });
      opts.signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}
