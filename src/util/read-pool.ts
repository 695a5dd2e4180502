/**
 * Reads of a socket into a small pool of reused buffers (net.connect's `onread`), for a relay that forwards a lot of
 * data: a socket left to itself allocates a fresh 64 KiB buffer per read, and with nodelet's 1 MB young generation
 * those backing stores pile up as external memory until V8 runs a full mark-compact to free them — most of the relay's
 * CPU. Here a buffer goes back to the pool when the write that carries it completed, so a long transfer allocates
 * at most `maxBuffers` + 1 buffers.
 */

/** Buffers of one size, reused; creates new ones on demand and counts them. */
export class ReadPool {
  readonly #free: Buffer[] = [];
  readonly #size: number;
  #created = 0;

  constructor(size: number) {
    this.#size = size;
  }

  /** A free buffer, or a new one when none is free. */
  take(): Buffer {
    const b = this.#free.pop();
    if (b !== undefined) return b;
    this.#created++;
    return Buffer.allocUnsafe(this.#size);
  }

  /** Returns `b` (taken from this pool) once nothing references its bytes any more. */
  give(b: Buffer): void {
    this.#free.push(b);
  }

  /** How many buffers were ever created (for tests). */
  get created(): number {
    return this.#created;
  }
}

/** The side a {@link PooledRelay} reads from: pause()/resume() as net.Socket in `onread` mode honours them. */
export interface PausableSource {
  pause(): unknown;
  resume(): unknown;
}

/** The side a {@link PooledRelay} writes to. */
export interface RelaySink {
  write(chunk: Buffer, cb: (err?: Error | null) => void): boolean;
}

/**
 * Forwards reads made into pool buffers to `sink`, holding at most `maxInFlight` buffers in writes not yet
 * completed: the source is paused at that many and resumed at half. Wire {@link onRead} as the socket's `onread`
 * callback and the pool's take() as its `onread` buffer.
 */
export class PooledRelay {
  readonly pool: ReadPool;
  readonly #sink: RelaySink;
  readonly #maxInFlight: number;
  #source: PausableSource | undefined;
  #inFlight = 0;
  #paused = false;

  constructor(o: { sink: RelaySink; bufferSize?: number; maxInFlight?: number }) {
    this.pool = new ReadPool(o.bufferSize ?? 64 * 1024);
    this.#sink = o.sink;
    this.#maxInFlight = o.maxInFlight ?? 16;
  }

  /** The socket to pause and resume (known only once it exists). */
  attach(source: PausableSource): void {
    this.#source = source;
  }

  /** Forwards `nread` bytes read into `buf`. */
  onRead(nread: number, buf: Buffer): void {
    this.#inFlight++;
    this.#sink.write(buf.subarray(0, nread), () => {
      this.pool.give(buf);
      this.#inFlight--;
      if (this.#paused && this.#inFlight <= this.#maxInFlight / 2) {
        this.#paused = false;
        this.#source?.resume();
      }
    });
    if (!this.#paused && this.#inFlight >= this.#maxInFlight) {
      this.#paused = true;
      this.#source?.pause();
    }
  }

  /** Writes not yet completed. */
  get inFlight(): number {
    return this.#inFlight;
  }
}
