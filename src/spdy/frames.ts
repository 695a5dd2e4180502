/**
 * SPDY/3.1 frame codec (draft-mbelshe-httpbis-spdy-00 §2.2, SPDY/3.1 additions): pure encode/decode of the frames
 * Kubernetes streaming uses. Header blocks stay compressed here; src/kubelet/streaming/spdy/headers.ts handles them.
 */

/** The protocol version in every control frame. */
export const SPDY_VERSION = 3;

/** Largest frame payload SPDY can express (24-bit length). */
export const MAX_FRAME_LENGTH = 0xffffff;

/** Control frame types. */
export const FrameType = {
  synStream: 1,
  synReply: 2,
  rstStream: 3,
  settings: 4,
  ping: 6,
  goaway: 7,
  headers: 8,
  windowUpdate: 9,
} as const;

/** RST_STREAM status codes. */
export const RstStatus = { protocolError: 1, invalidStream: 2, refusedStream: 3, cancel: 5, internalError: 6 } as const;

const FLAG_FIN = 0x01;
const FLAG_UNIDIRECTIONAL = 0x02;

/** A decoded frame. Header blocks are the still-compressed bytes. */
export type SpdyFrame =
  | { type: 'data'; streamId: number; fin: boolean; data: Buffer }
  | { type: 'synStream'; streamId: number; associatedId: number; priority: number; fin: boolean; unidirectional: boolean; headerBlock: Buffer }
  | { type: 'synReply'; streamId: number; fin: boolean; headerBlock: Buffer }
  | { type: 'headers'; streamId: number; fin: boolean; headerBlock: Buffer }
  | { type: 'rstStream'; streamId: number; status: number }
  | { type: 'settings' }
  | { type: 'ping'; id: number }
  | { type: 'goaway'; lastGoodStreamId: number; status: number }
  | { type: 'windowUpdate'; streamId: number; delta: number }
  | { type: 'unknown'; frameType: number };

/** A frame that breaks the protocol (wrong version, truncated fixed fields): the connection must be closed. */
export class SpdyProtocolError extends Error {
  override readonly name = 'SpdyProtocolError';
}

function control(type: number, flags: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt16BE(0x8000 | SPDY_VERSION, 0);
  head.writeUInt16BE(type, 2);
  head.writeUInt32BE(((flags & 0xff) << 24) | payload.length, 4);
  return Buffer.concat([head, payload]);
}

/** The 8-byte header of a DATA frame whose payload of `length` bytes follows it. */
export function encodeDataHeader(streamId: number, length: number, fin: boolean): Buffer {
  const head = Buffer.allocUnsafe(8);
  head.writeUInt32BE(streamId & 0x7fffffff, 0);
  head.writeUInt32BE(((fin ? FLAG_FIN : 0) << 24) | length, 4);
  return head;
}

/** A DATA frame (payload ≤ 16 MiB - 1). */
export function encodeData(streamId: number, data: Buffer, fin: boolean): Buffer {
  const head = encodeDataHeader(streamId, data.length, fin);
  return data.length === 0 ? head : Buffer.concat([head, data]);
}

/** A SYN_REPLY frame with an already compressed header block. */
export function encodeSynReply(streamId: number, headerBlock: Buffer, fin: boolean): Buffer {
  const id = Buffer.alloc(4);
  id.writeUInt32BE(streamId & 0x7fffffff, 0);
  return control(FrameType.synReply, fin ? FLAG_FIN : 0, Buffer.concat([id, headerBlock]));
}

/** A SYN_STREAM frame (used by tests acting as the client). */
export function encodeSynStream(streamId: number, headerBlock: Buffer, fin: boolean): Buffer {
  const fixed = Buffer.alloc(10);
  fixed.writeUInt32BE(streamId & 0x7fffffff, 0);
  return control(FrameType.synStream, fin ? FLAG_FIN : 0, Buffer.concat([fixed, headerBlock]));
}

/** A RST_STREAM frame. */
export function encodeRstStream(streamId: number, status: number): Buffer {
  const p = Buffer.alloc(8);
  p.writeUInt32BE(streamId & 0x7fffffff, 0);
  p.writeUInt32BE(status, 4);
  return control(FrameType.rstStream, 0, p);
}

/** A PING frame (the answer to a ping repeats its id). */
export function encodePing(id: number): Buffer {
  const p = Buffer.alloc(4);
  p.writeUInt32BE(id >>> 0, 0);
  return control(FrameType.ping, 0, p);
}

/** A GOAWAY frame. */
export function encodeGoaway(lastGoodStreamId: number, status: number): Buffer {
  const p = Buffer.alloc(8);
  p.writeUInt32BE(lastGoodStreamId & 0x7fffffff, 0);
  p.writeUInt32BE(status, 4);
  return control(FrameType.goaway, 0, p);
}

function need(p: Buffer, n: number, what: string): void {
  if (p.length < n) throw new SpdyProtocolError(`${what} frame too short (${p.length} bytes)`);
}

function decodeControl(type: number, flags: number, p: Buffer): SpdyFrame {
  const fin = (flags & FLAG_FIN) !== 0;
  switch (type) {
    case FrameType.synStream:
      need(p, 10, 'SYN_STREAM');
      return {
        type: 'synStream',
        streamId: p.readUInt32BE(0) & 0x7fffffff,
        associatedId: p.readUInt32BE(4) & 0x7fffffff,
        priority: p.readUInt8(8) >> 5,
        fin,
        unidirectional: (flags & FLAG_UNIDIRECTIONAL) !== 0,
        headerBlock: p.subarray(10),
      };
    case FrameType.synReply:
    case FrameType.headers:
      need(p, 4, 'SYN_REPLY/HEADERS');
      return { type: type === FrameType.synReply ? 'synReply' : 'headers', streamId: p.readUInt32BE(0) & 0x7fffffff, fin, headerBlock: p.subarray(4) };
    case FrameType.rstStream:
      need(p, 8, 'RST_STREAM');
      return { type: 'rstStream', streamId: p.readUInt32BE(0) & 0x7fffffff, status: p.readUInt32BE(4) };
    case FrameType.settings:
      return { type: 'settings' };
    case FrameType.ping:
      need(p, 4, 'PING');
      return { type: 'ping', id: p.readUInt32BE(0) };
    case FrameType.goaway:
      need(p, 4, 'GOAWAY');
      return { type: 'goaway', lastGoodStreamId: p.readUInt32BE(0) & 0x7fffffff, status: p.length >= 8 ? p.readUInt32BE(4) : 0 };
    case FrameType.windowUpdate:
      need(p, 8, 'WINDOW_UPDATE');
      return { type: 'windowUpdate', streamId: p.readUInt32BE(0) & 0x7fffffff, delta: p.readUInt32BE(4) & 0x7fffffff };
    default:
      return { type: 'unknown', frameType: type };
  }
}

/**
 * Incremental frame reader: feed it bytes as they arrive, get back every complete frame. Throws SpdyProtocolError on
 * a control frame of another version or a frame larger than `maxFrameLength`.
 */
export class FrameReader {
  /** Unconsumed input, oldest first; only the first chunk may be partly consumed (from #offset). */
  readonly #chunks: Buffer[] = [];
  #offset = 0;
  #length = 0;
  readonly #max: number;

  constructor(maxFrameLength: number = MAX_FRAME_LENGTH) {
    this.#max = maxFrameLength;
  }

  /** Bytes buffered while waiting for the rest of a frame. */
  get buffered(): number {
    return this.#length;
  }

  /**
   * Frames completed by `chunk`. Payloads are views of the input when a frame lies within one chunk (no copy; the
   * input buffers must not be reused by the caller), and one copy when it spans chunks.
   */
  push(chunk: Buffer): SpdyFrame[] {
    if (chunk.length > 0) {
      this.#chunks.push(chunk);
      this.#length += chunk.length;
    }
    const frames: SpdyFrame[] = [];
    while (this.#length >= 8) {
      const head = this.#peek(8);
      const word = head.readUInt32BE(4);
      const flags = word >>> 24;
      const length = word & 0xffffff;
      if (length > this.#max) throw new SpdyProtocolError(`frame of ${length} bytes exceeds the limit of ${this.#max}`);
      if (this.#length < 8 + length) break;
      const first = head.readUInt32BE(0);
      const frame = this.#take(8 + length);
      const payload = frame.subarray(8);
      if ((first & 0x80000000) !== 0) {
        const version = (first >>> 16) & 0x7fff;
        if (version !== SPDY_VERSION) throw new SpdyProtocolError(`unsupported SPDY version ${version}`);
        frames.push(decodeControl(first & 0xffff, flags, payload));
      } else {
        frames.push({ type: 'data', streamId: first & 0x7fffffff, fin: (flags & FLAG_FIN) !== 0, data: payload });
      }
    }
    return frames;
  }

  /** The next `n` buffered bytes without consuming them (n ≤ #length). */
  #peek(n: number): Buffer {
    const c = this.#chunks[0] as Buffer;
    if (c.length - this.#offset >= n) return c.subarray(this.#offset, this.#offset + n);
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    for (let i = 0; filled < n; i++) {
      const part = this.#chunks[i] as Buffer;
      const from = i === 0 ? this.#offset : 0;
      filled += part.copy(out, filled, from, Math.min(part.length, from + n - filled));
    }
    return out;
  }

  /** Consumes and returns the next `n` bytes (n ≤ #length): a view when they lie in one chunk, else one copy. */
  #take(n: number): Buffer {
    const c = this.#chunks[0] as Buffer;
    let out: Buffer;
    if (c.length - this.#offset >= n) {
      out = c.subarray(this.#offset, this.#offset + n);
      this.#offset += n;
    } else {
      out = Buffer.allocUnsafe(n);
      let filled = 0;
      while (filled < n) {
        const part = this.#chunks[0] as Buffer;
        const want = n - filled;
        const avail = part.length - this.#offset;
        const k = Math.min(want, avail);
        part.copy(out, filled, this.#offset, this.#offset + k);
        filled += k;
        this.#offset += k;
        if (this.#offset === part.length) {
          this.#chunks.shift();
          this.#offset = 0;
        }
      }
    }
    if (this.#chunks.length > 0 && this.#offset === (this.#chunks[0] as Buffer).length) {
      this.#chunks.shift();
      this.#offset = 0;
    }
    this.#length -= n;
    return out;
  }
}
