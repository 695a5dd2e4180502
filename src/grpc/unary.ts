/**
 * A minimal unary gRPC client on node:http2, plaintext, over a unix socket or TCP — all that nodelet needs from gRPC
 * (CRI, containerd's Tasks service for the exec reaper, gRPC health probes): one request message, one response
 * message, a deadline (`grpc-timeout` plus a local timer), cancellation by AbortSignal, and the gRPC status of the
 * answer. No name resolution, retries, proxies, compression or load balancing. One HTTP/2 connection, opened on the
 * first call and again after it closes, shared by concurrent calls. Failures reject with {@link GrpcCallError}
 * (`code` = the gRPC status code, `details` = the server's message or the transport's reason), the shape
 * src/cri/containerd/errors.ts classifies. Replaces @grpc/grpc-js on these paths (issue 14: less heap and fewer
 * objects per call).
 */
import { connect as http2Connect, constants, type ClientHttp2Session, type ClientHttp2Stream } from 'node:http2';
import { connect as netConnect, isIPv6 } from 'node:net';

/** gRPC status codes (https://grpc.github.io/grpc/core/md_doc_statuscodes.html). */
export const GrpcStatus = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

/** A failed call: gRPC status `code` and the server's (or the transport's) `details`. */
export class GrpcCallError extends Error {
  constructor(
    readonly code: number,
    readonly details: string,
    options?: { cause?: unknown },
  ) {
    super(`${code} ${Object.keys(GrpcStatus).find((k) => GrpcStatus[k as keyof typeof GrpcStatus] === code) ?? 'UNKNOWN'}: ${details}`, options);
    this.name = 'GrpcCallError';
  }
}

/** Options of {@link UnaryGrpcClient}. */
export interface UnaryGrpcClientOptions {
  /** Unix socket to dial (`tcp` otherwise). */
  socketPath?: string;
  /** TCP address to dial: an IP address and a port. */
  tcp?: { host: string; port: number };
  /** Largest response message accepted (bytes); larger ones fail with RESOURCE_EXHAUSTED. */
  maxReceiveBytes: number;
  /** Request headers sent with every call (e.g. containerd-namespace). */
  metadata?: Record<string, string>;
}

/** Per-call options of {@link UnaryGrpcClient.call}. */
export interface UnaryCallOptions {
  /** Deadline in ms from now; 0 or absent = none. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

// grpc-js's mapping of HTTP status codes of a non-gRPC answer.
function codeOfHttpStatus(status: number): number {
  if (status === 400) return GrpcStatus.INTERNAL;
  if (status === 401) return GrpcStatus.UNAUTHENTICATED;
  if (status === 403) return GrpcStatus.PERMISSION_DENIED;
  if (status === 404) return GrpcStatus.UNIMPLEMENTED;
  if (status === 429 || status === 502 || status === 503 || status === 504) return GrpcStatus.UNAVAILABLE;
  return GrpcStatus.UNKNOWN;
}

// grpc-js's mapping of a stream reset without a gRPC status.
function codeOfReset(rstCode: number): number {
  if (rstCode === constants.NGHTTP2_REFUSED_STREAM) return GrpcStatus.UNAVAILABLE;
  if (rstCode === constants.NGHTTP2_CANCEL) return GrpcStatus.CANCELLED;
  if (rstCode === constants.NGHTTP2_ENHANCE_YOUR_CALM) return GrpcStatus.RESOURCE_EXHAUSTED;
  if (rstCode === constants.NGHTTP2_INADEQUATE_SECURITY) return GrpcStatus.PERMISSION_DENIED;
  return GrpcStatus.INTERNAL;
}

function decodeGrpcMessage(v: unknown): string {
  const s = Array.isArray(v) ? String(v[0]) : typeof v === 'string' ? v : '';
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** One HTTP/2 connection and the first error seen on it. */
interface Connection {
  session: ClientHttp2Session;
  error: Error | undefined;
}

/** Unary calls on one socket. Safe for concurrent use; `close()` ends the connection. */
export class UnaryGrpcClient {
  readonly #opts: UnaryGrpcClientOptions;
  #conn: Connection | undefined;
  #active = 0;
  #closed = false;
  readonly #authority: string;

  constructor(options: UnaryGrpcClientOptions) {
    if ((options.socketPath === undefined) === (options.tcp === undefined)) throw new TypeError('UnaryGrpcClient: give one of socketPath and tcp');
    this.#opts = options;
    const t = options.tcp;
    this.#authority = t === undefined ? 'localhost' : isIPv6(t.host) ? `[${t.host}]:${t.port}` : `${t.host}:${t.port}`;
  }

  /**
   * Sends `request` (one serialized message) to `path` (`/package.Service/Method`) and resolves with the response
   * message bytes; rejects with a {@link GrpcCallError}. After `close()` every call fails with UNAVAILABLE.
   */
  call(path: string, request: Uint8Array, opts: UnaryCallOptions = {}): Promise<Buffer> {
    if (opts.signal?.aborted === true) return Promise.reject(new GrpcCallError(GrpcStatus.CANCELLED, 'aborted'));
    if (this.#closed) return Promise.reject(new GrpcCallError(GrpcStatus.UNAVAILABLE, 'client closed'));
    return new Promise((resolve, reject) => this.#start(path, request, opts, resolve, reject));
  }

  /** Closes the connection (idempotent); calls in flight fail with UNAVAILABLE. */
  close(): void {
    this.#closed = true;
    this.#conn?.session.destroy();
    this.#conn = undefined;
  }

  #connect(): Connection {
    const live = this.#conn;
    if (live !== undefined && !live.session.closed && !live.session.destroyed) return live;
    const { socketPath, tcp = { host: '', port: 0 } } = this.#opts;
    const conn: Connection = { session: undefined as unknown as ClientHttp2Session, error: undefined };
    conn.session = http2Connect(`http://${this.#authority}`, {
      createConnection: () => {
        const socket = socketPath !== undefined ? netConnect(socketPath) : netConnect({ host: tcp.host, port: tcp.port });
        // Registered before the session's own listener: the dial error is known before the calls end.
        socket.on('error', (err) => (conn.error ??= err));
        return socket;
      },
      settings: { enablePush: false },
    });
    const drop = (): void => {
      if (this.#conn === conn) this.#conn = undefined;
    };
    conn.session.on('error', (err: Error) => {
      conn.error ??= err;
      drop();
    });
    conn.session.on('goaway', drop);
    conn.session.on('close', drop);
    this.#conn = conn;
    return conn;
  }

  #ref(delta: number, session: ClientHttp2Session): void {
    this.#active += delta;
    // An idle connection must not keep a process (a CLI, a test) alive; one with calls in flight must.
    if (this.#active > 0) session.ref();
    else session.unref();
  }

  #start(path: string, request: Uint8Array, opts: UnaryCallOptions, resolve: (b: Buffer) => void, reject: (e: GrpcCallError) => void): void {
    const conn = this.#connect();
    const session = conn.session;
    const timeoutMs = opts.timeoutMs ?? 0;
    const headers: Record<string, string> = {
      ':method': 'POST',
      ':path': path,
      'content-type': 'application/grpc',
      te: 'trailers',
      ...this.#opts.metadata,
    };
    if (timeoutMs > 0) headers['grpc-timeout'] = `${Math.max(1, Math.ceil(timeoutMs))}m`;
    let stream: ClientHttp2Stream;
    try {
      stream = session.request(headers);
    } catch (err) {
      reject(new GrpcCallError(GrpcStatus.UNAVAILABLE, `cannot start a call: ${(err as Error).message}`, { cause: err }));
      return;
    }
    this.#ref(1, session);
    const chunks: Buffer[] = [];
    let received = 0;
    let done = false;
    let httpStatus = 0;
    const finish = (err: GrpcCallError | undefined, body?: Buffer): void => {
      if (done) return;
      done = true;
      if (timer !== undefined) clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      this.#ref(-1, session);
      if (err !== undefined && !stream.closed) stream.close(constants.NGHTTP2_CANCEL);
      if (err !== undefined) reject(err);
      else resolve(body ?? Buffer.alloc(0));
    };
    const onAbort = (): void => finish(new GrpcCallError(GrpcStatus.CANCELLED, 'Cancelled on client'));
    const timer = timeoutMs > 0 ? setTimeout(() => finish(new GrpcCallError(GrpcStatus.DEADLINE_EXCEEDED, 'Deadline exceeded')), timeoutMs) : undefined;
    opts.signal?.addEventListener('abort', onAbort, { once: true });

    const onStatus = (h: Record<string, unknown>): boolean => {
      const raw = h['grpc-status'];
      if (raw === undefined) return false;
      const code = Number(Array.isArray(raw) ? raw[0] : raw);
      if (code !== GrpcStatus.OK) {
        finish(new GrpcCallError(Number.isInteger(code) ? code : GrpcStatus.UNKNOWN, decodeGrpcMessage(h['grpc-message'])));
      } else {
        const m = unframe(Buffer.concat(chunks, received));
        if (m instanceof GrpcCallError) finish(m);
        else finish(undefined, m);
      }
      return true;
    };
    stream.on('response', (h) => {
      httpStatus = Number(h[':status']);
      if (onStatus(h)) return; // trailers-only answer
      if (httpStatus !== 200) {
        finish(new GrpcCallError(codeOfHttpStatus(httpStatus), `Received HTTP status code ${httpStatus}`));
      } else if (!String(h['content-type'] ?? '').startsWith('application/grpc')) {
        finish(new GrpcCallError(GrpcStatus.UNKNOWN, `Received unexpected content-type ${String(h['content-type'])}`));
      }
    });
    stream.on('data', (b: Buffer) => {
      received += b.length;
      if (received > this.#opts.maxReceiveBytes + 5) {
        finish(new GrpcCallError(GrpcStatus.RESOURCE_EXHAUSTED, `Received message larger than max (${received} vs. ${this.#opts.maxReceiveBytes})`));
        return;
      }
      chunks.push(b);
    });
    stream.on('trailers', (h) => {
      if (!onStatus(h)) finish(new GrpcCallError(GrpcStatus.UNKNOWN, 'No status received'));
    });
    stream.on('error', () => undefined); // the close handler reports
    stream.on('close', () => {
      if (done) return;
      const sessionErr = conn.error;
      if (httpStatus === 0 || sessionErr !== undefined || session.destroyed) {
        const why = sessionErr?.message ?? (httpStatus === 0 ? 'connection closed before an answer' : 'connection dropped');
        finish(new GrpcCallError(GrpcStatus.UNAVAILABLE, `No connection established. Last error: ${why}`, { cause: sessionErr }));
      } else {
        finish(new GrpcCallError(codeOfReset(stream.rstCode ?? 0), `Received RST_STREAM with code ${String(stream.rstCode)}`));
      }
    });
    stream.end(frame(request));
  }
}

/** One gRPC message frame: uncompressed flag, 4-byte big-endian length, message. */
function frame(message: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(5 + message.length);
  out[0] = 0;
  out.writeUInt32BE(message.length, 1);
  out.set(message, 5);
  return out;
}

/** The one message of a unary response body (5-byte prefix + message), or why it is not one. */
function unframe(body: Buffer): Buffer | GrpcCallError {
  if (body.length === 0) return new GrpcCallError(GrpcStatus.UNIMPLEMENTED, 'No message received');
  const len = body.length >= 5 ? body.readUInt32BE(1) : -1;
  if (len < 0 || body.length !== 5 + len) return new GrpcCallError(GrpcStatus.INTERNAL, `Malformed response message (${body.length} bytes)`);
  if (body[0] !== 0) return new GrpcCallError(GrpcStatus.INTERNAL, 'Compressed response received but compression was not negotiated');
  return body.subarray(5);
}
