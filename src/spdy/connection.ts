/**
 * A SPDY/3.1 session on an upgraded socket, the way Kubernetes streaming uses it (moby/spdystream peers): the client
 * opens every stream (SYN_STREAM with a `streamtype` header; {@link SpdyConnection.openStream} on the client side),
 * the server answers each with SYN_REPLY,
 * data flows both ways, FIN half-closes, RST_STREAM aborts. spdystream does no flow control, so none is enforced
 * here (WINDOW_UPDATE and SETTINGS are ignored). The connection ends on GOAWAY, socket end/error or idle timeout,
 * and then destroys every stream, so their `close` events free whatever they drive.
 */
import { Duplex } from 'node:stream';
import type { Logger } from '../util/index.js';
import {
  encodeDataHeader,
  encodeGoaway,
  encodePing,
  encodeRstStream,
  encodeSynReply,
  encodeSynStream,
  FrameReader,
  RstStatus,
  type SpdyFrame,
} from './frames.js';
import { HeaderCompressor, HeaderDecompressor, type SpdyHeaders } from './headers.js';

/** Largest DATA payload written at once (keeps one big write from starving the other streams). */
const MAX_DATA_CHUNK = 64 * 1024;

/**
 * How much a stream buffers each way before it pushes back (the Node default of 16 KiB is a quarter of one DATA
 * frame: every 64 KiB chunk piped through would pause and resume its source).
 */
const STREAM_HIGH_WATER = 256 * 1024;

/**
 * How much may wait in the socket's write buffer before writers are held until it drains. The socket's own
 * high-water mark (16 KiB) is below one DATA frame, so its write() result would hold every frame until the buffer
 * is empty again; holding at 1 MiB instead keeps the socket fed while the peer reads.
 */
const SOCKET_HIGH_WATER = 1024 * 1024;

/**
 * One client-initiated stream: a Duplex whose writes become DATA frames and whose end() sends FIN. On the client side
 * it emits `reply` (with the headers) when the peer's SYN_REPLY arrived.
 */
export class SpdyStream extends Duplex {
  readonly id: number;
  readonly headers: SpdyHeaders;
  readonly #conn: SpdyConnection;
  #remoteFin = false;
  #localFin = false;

  /** @internal created by SpdyConnection */
  constructor(conn: SpdyConnection, id: number, headers: SpdyHeaders) {
    super({ allowHalfOpen: true, readableHighWaterMark: STREAM_HIGH_WATER, writableHighWaterMark: STREAM_HIGH_WATER });
    this.#conn = conn;
    this.id = id;
    this.headers = headers;
  }

  /** The `streamtype` header (error, stdin, stdout, stderr, resize, data). */
  get streamType(): string {
    return this.headers['streamtype'] ?? '';
  }

  /** @internal */
  receive(data: Buffer, fin: boolean): boolean {
    let more = true;
    if (data.length > 0 && !this.#remoteFin) more = this.push(data);
    if (fin && !this.#remoteFin) {
      this.#remoteFin = true;
      this.push(null);
      this.#maybeDone();
    }
    return more;
  }

  /**
   * Sends `chunk` as DATA right away, without copying it and without the stream's write buffer: for a relay that
   * reads into reused buffers (src/util/read-pool.ts). `release` is called once the connection no longer references
   * the bytes (the socket took them, or the connection failed or closed). Do not mix with write() calls still
   * buffered in the stream (their bytes would go after these); end() after it is fine.
   */
  writeBorrowed(chunk: Buffer, release: () => void): void {
    if (this.#localFin || this.destroyed) {
      release();
      return;
    }
    this.#conn.sendBorrowed(this.id, chunk, release);
  }

  /** Aborts the stream with RST_STREAM (CANCEL). */
  reset(): void {
    if (!this.destroyed) this.#conn.sendReset(this.id, RstStatus.cancel);
    this.destroy();
  }

  override _read(): void {
    this.#conn.resumeInput();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.#conn.sendData(this.id, chunk, false, cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.#localFin = true;
    this.#conn.sendData(this.id, Buffer.alloc(0), true, (err) => {
      cb(err);
      this.#maybeDone();
    });
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.#conn.forget(this.id);
    cb(err);
  }

  /**
   * Both sides sent FIN: destroy once the reader has taken everything (destroying at once would drop DATA that
   * arrived together with the FIN and is still buffered — the tail of an exec's stdout).
   */
  #maybeDone(): void {
    if (!this.#remoteFin || !this.#localFin || this.destroyed) return;
    if (this.readableEnded || this.readableLength === 0) this.destroy();
    else this.once('end', () => this.destroy());
  }
}

/** Options for {@link SpdyConnection}. */
export interface SpdyConnectionOptions {
  logger: Logger;
  /** Called for every stream the client opens, after SYN_REPLY was queued. */
  onStream: (stream: SpdyStream) => void;
  /** Closes the connection after this long without traffic (0 = never; upstream streamingConnectionIdleTimeout). */
  idleTimeoutMs?: number;
}

/** The server end of one SPDY/3.1 connection. */
export class SpdyConnection {
  readonly #socket: Duplex;
  readonly #log: Logger;
  readonly #onStream: (stream: SpdyStream) => void;
  readonly #reader = new FrameReader();
  readonly #inflater = new HeaderDecompressor();
  readonly #deflater = new HeaderCompressor();
  readonly #streams = new Map<number, SpdyStream>();
  readonly #pending: SpdyFrame[] = [];
  readonly #drainWaiters: (() => void)[] = [];
  readonly #closeListeners: (() => void)[] = [];
  #busy = false;
  #lastStreamId = 0;
  #nextLocalId = 1;
  #goneAway = false;
  #closed = false;
  #paused = false;
  /** Why to close once the queued frames are handled (the peer ended the socket right after its last frames). */
  #closeReason: string | undefined;

  constructor(socket: Duplex, options: SpdyConnectionOptions) {
    this.#socket = socket;
    this.#log = options.logger;
    this.#onStream = options.onStream;
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('drain', () => this.#flushDrainWaiters());
    socket.on('end', () => this.#closeAfterPending('peer closed the connection'));
    socket.on('error', (err: Error) => this.close(`socket error: ${err.message}`));
    socket.on('close', () => this.#closeAfterPending('socket closed'));
    const idle = options.idleTimeoutMs ?? 0;
    if (idle > 0 && 'setTimeout' in socket && typeof socket.setTimeout === 'function') {
      (socket as Duplex & { setTimeout(ms: number, cb: () => void): void }).setTimeout(idle, () =>
        this.close('idle timeout'),
      );
    }
  }

  /** Feeds bytes that arrived with the upgrade request (`head`). */
  feed(head: Buffer): void {
    if (head.length > 0) this.#onData(head);
  }

  /** True once closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Number of open streams. */
  get streamCount(): number {
    return this.#streams.size;
  }

  /** Calls `listener` once when the connection closes (immediately when it already has). Returns the unsubscribe. */
  onClose(listener: () => void): () => void {
    if (this.#closed) {
      listener();
      return () => undefined;
    }
    this.#closeListeners.push(listener);
    return () => {
      const i = this.#closeListeners.indexOf(listener);
      if (i >= 0) this.#closeListeners.splice(i, 1);
    };
  }

  /**
   * Closes the connection: GOAWAY, every stream destroyed, the socket ended and destroyed once flushed.
   * Idempotent.
   */
  close(reason = 'closed'): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#log.debug({ reason, streams: this.#streams.size }, 'spdy connection closing');
    if (!this.#socket.destroyed && this.#socket.writable) {
      this.#socket.write(encodeGoaway(this.#lastStreamId, 0));
      this.#socket.end();
    }
    for (const s of [...this.#streams.values()]) s.destroy();
    this.#streams.clear();
    this.#inflater.close();
    this.#flushDrainWaiters();
    // end() flushes; the peer closes on GOAWAY. Destroy outright once flushed so no half-open socket lingers.
    if (!this.#socket.destroyed) {
      if (this.#socket.writableFinished) this.#socket.destroy();
      else this.#socket.once('finish', () => this.#socket.destroy());
    }
    for (const l of this.#closeListeners.splice(0)) l();
  }

  /**
   * Client side: opens a stream with `headers` (SYN_STREAM, odd ids). The peer's SYN_REPLY is not waited for:
   * Kubernetes servers reply to every stream and then wait for the set they expect.
   */
  openStream(headers: SpdyHeaders): SpdyStream {
    const id = this.#nextLocalId;
    this.#nextLocalId += 2;
    const stream = new SpdyStream(this, id, headers);
    this.#streams.set(id, stream);
    if (this.#closed) stream.destroy();
    else this.#socket.write(encodeSynStream(id, this.#deflater.compress(headers), false));
    return stream;
  }

  /** @internal */
  sendData(id: number, data: Buffer, fin: boolean, cb: (err?: Error | null) => void): void {
    if (this.#closed || this.#socket.destroyed) {
      cb(new Error('spdy connection closed'));
      return;
    }
    // Header and payload written separately (corked: one writev), so the payload is never copied.
    this.#socket.cork();
    for (let off = 0; off < data.length; off += MAX_DATA_CHUNK) {
      const last = off + MAX_DATA_CHUNK >= data.length;
      const part = data.subarray(off, off + MAX_DATA_CHUNK);
      this.#socket.write(encodeDataHeader(id, part.length, fin && last));
      this.#socket.write(part);
    }
    if (data.length === 0) this.#socket.write(encodeDataHeader(id, 0, fin));
    this.#socket.uncork();
    // Above SOCKET_HIGH_WATER some write() returned false, so 'drain' comes once the buffer is flushed.
    if (this.#socket.writableLength <= SOCKET_HIGH_WATER || !this.#socket.writableNeedDrain) cb();
    else this.#drainWaiters.push(() => cb());
  }

  /** @internal DATA frames whose payload stays referenced until the socket took it; then `release`. */
  sendBorrowed(id: number, data: Buffer, release: () => void): void {
    if (this.#closed || this.#socket.destroyed) {
      release();
      return;
    }
    this.#socket.cork();
    for (let off = 0; off < data.length; off += MAX_DATA_CHUNK) {
      const part = data.subarray(off, off + MAX_DATA_CHUNK);
      this.#socket.write(encodeDataHeader(id, part.length, false));
      // The socket calls back (also with an error when it is destroyed) once it no longer holds the bytes.
      if (off + MAX_DATA_CHUNK >= data.length) this.#socket.write(part, () => release());
      else this.#socket.write(part);
    }
    this.#socket.uncork();
    if (data.length === 0) release();
  }

  /** @internal */
  sendReset(id: number, status: number): void {
    if (!this.#closed && !this.#socket.destroyed) this.#socket.write(encodeRstStream(id, status));
  }

  /** @internal */
  forget(id: number): void {
    this.#streams.delete(id);
    if (this.#goneAway && this.#streams.size === 0) this.close('client went away');
  }

  /** @internal a stream's reader wants more */
  resumeInput(): void {
    if (this.#paused) {
      this.#paused = false;
      this.#socket.resume();
    }
  }

  /**
   * The socket ended: frames already read still reach their streams (DATA queued behind a SYN_REPLY that waits
   * for the inflater would otherwise be dropped with its stream), then the connection closes.
   */
  #closeAfterPending(reason: string): void {
    if (this.#busy || this.#pending.length > 0) this.#closeReason ??= reason;
    else this.close(reason);
  }

  #flushDrainWaiters(): void {
    for (const w of this.#drainWaiters.splice(0)) w();
  }

  #onData(chunk: Buffer): void {
    if (this.#closed) return;
    let frames: SpdyFrame[];
    try {
      frames = this.#reader.push(chunk);
    } catch (err) {
      this.close(`protocol error: ${(err as Error).message}`);
      return;
    }
    this.#pending.push(...frames);
    this.#process();
  }

  /** Handles queued frames in order; header-bearing frames wait for the inflater when it answers asynchronously. */
  #process(): void {
    while (!this.#busy && !this.#closed && this.#pending.length > 0) {
      const f = this.#pending.shift() as SpdyFrame;
      if (f.type === 'synStream' || f.type === 'headers' || f.type === 'synReply') {
        let headers: SpdyHeaders | Promise<SpdyHeaders>;
        try {
          headers = this.#inflater.decompress(f.headerBlock);
        } catch (err) {
          this.close(`protocol error: ${(err as Error).message}`);
          return;
        }
        if (!(headers instanceof Promise)) {
          this.#onHeaders(f, headers);
          continue;
        }
        this.#busy = true;
        headers.then(
          (h) => {
            this.#busy = false;
            this.#onHeaders(f, h);
            this.#process();
          },
          (err: unknown) => {
            this.#busy = false;
            this.close(`protocol error: ${(err as Error).message}`);
          },
        );
        return;
      }
      this.#onFrame(f);
    }
    if (!this.#busy && this.#pending.length === 0 && this.#closeReason !== undefined) this.close(this.#closeReason);
  }

  #onHeaders(f: Extract<SpdyFrame, { type: 'synStream' | 'headers' | 'synReply' }>, headers: SpdyHeaders): void {
    if (f.type === 'synStream') this.#onSynStream(f, headers);
    else if (f.type === 'synReply') this.#streams.get(f.streamId)?.emit('reply', headers);
  }

  #onSynStream(f: Extract<SpdyFrame, { type: 'synStream' }>, headers: SpdyHeaders): void {
    if (this.#closed) return;
    if (this.#goneAway || f.streamId % 2 === 0 || f.streamId <= this.#lastStreamId) {
      this.sendReset(f.streamId, this.#goneAway ? RstStatus.refusedStream : RstStatus.protocolError);
      return;
    }
    this.#lastStreamId = f.streamId;
    const stream = new SpdyStream(this, f.streamId, headers);
    this.#streams.set(f.streamId, stream);
    this.#socket.write(encodeSynReply(f.streamId, this.#deflater.compress({}), false));
    if (f.fin) stream.receive(Buffer.alloc(0), true);
    this.#onStream(stream);
  }

  #onFrame(f: SpdyFrame): void {
    switch (f.type) {
      case 'data': {
        const s = this.#streams.get(f.streamId);
        if (s === undefined) return;
        if (!s.receive(f.data, f.fin) && !this.#paused) {
          this.#paused = true;
          this.#socket.pause();
        }
        return;
      }
      case 'rstStream':
        this.#streams.get(f.streamId)?.destroy();
        return;
      case 'ping':
        // Client pings are odd; answer them. Our own pings (even) are never sent.
        if (f.id % 2 === 1) this.#socket.write(encodePing(f.id));
        return;
      case 'goaway':
        this.#goneAway = true;
        if (this.#streams.size === 0) this.close('client went away');
        return;
      default:
        return; // SETTINGS, WINDOW_UPDATE (no flow control in spdystream), unknown types
    }
  }
}
