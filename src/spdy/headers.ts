/**
 * SPDY/3 header blocks: the name/value block format and its zlib compression with the SPDY dictionary. Both
 * directions are one zlib stream per connection. Incoming blocks are inflated synchronously while the connection's
 * compressed history is small (the whole history is inflated again, one-shot, and the new block's output is the new
 * suffix: a few hundred bytes for an exec, no thread-pool round trip per stream), then with a persistent inflater
 * (async); outgoing blocks are written as deflate "stored" blocks, which needs no compression state and is valid input for
 * every peer's inflater (the header names Kubernetes sends back are few and short).
 */
import { constants, createInflate, inflateSync, type Inflate } from 'node:zlib';
import dictionaries from 'spdy-transport/lib/spdy-transport/protocol/spdy/dictionary.js';
import { SpdyProtocolError } from './frames.js';

/** The SPDY/3 (and 3.1) compression dictionary. */
export const SPDY_DICTIONARY: Buffer = dictionaries['3.1'] ?? dictionaries['3'] ?? Buffer.alloc(0);

function adler32(buf: Buffer): number {
  let a = 1;
  let b = 0;
  for (const byte of buf) {
    a = (a + byte) % 65521;
    b = (b + a) % 65521;
  }
  return ((b << 16) | a) >>> 0;
}

/** Header names are lowercase in SPDY; values of one name are joined with NUL. */
export type SpdyHeaders = Record<string, string>;

/** Serializes headers into an uncompressed name/value block (names lowercased). */
export function encodeNameValueBlock(headers: SpdyHeaders): Buffer {
  const parts: Buffer[] = [];
  const count = Buffer.alloc(4);
  const entries = Object.entries(headers);
  count.writeUInt32BE(entries.length, 0);
  parts.push(count);
  for (const [name, value] of entries) {
    for (const s of [name.toLowerCase(), value]) {
      const b = Buffer.from(s, 'utf8');
      const len = Buffer.alloc(4);
      len.writeUInt32BE(b.length, 0);
      parts.push(len, b);
    }
  }
  return Buffer.concat(parts);
}

/** Parses an uncompressed name/value block; names are lowercased, repeated values joined with NUL as sent. */
export function decodeNameValueBlock(buf: Buffer): SpdyHeaders {
  let off = 0;
  const u32 = (): number => {
    if (off + 4 > buf.length) throw new SpdyProtocolError('truncated header block');
    const v = buf.readUInt32BE(off);
    off += 4;
    return v;
  };
  const str = (): string => {
    const n = u32();
    if (off + n > buf.length) throw new SpdyProtocolError('truncated header block');
    const s = buf.toString('utf8', off, off + n);
    off += n;
    return s;
  };
  const count = u32();
  const headers: SpdyHeaders = {};
  for (let i = 0; i < count; i++) {
    const name = str().toLowerCase();
    headers[name] = str();
  }
  return headers;
}

const SYNC_MARKER = Buffer.from([0x00, 0x00, 0x00, 0xff, 0xff]);

/** Compresses outgoing header blocks for one connection (a zlib stream with the SPDY dictionary, stored blocks). */
export class HeaderCompressor {
  #started = false;

  compress(headers: SpdyHeaders): Buffer {
    const raw = encodeNameValueBlock(headers);
    const parts: Buffer[] = [];
    if (!this.#started) {
      this.#started = true;
      // CMF 0x78 (deflate, 32 KiB window), FLG 0x20 (FDICT; 0x7820 is a multiple of 31), then the dictionary's Adler-32.
      const head = Buffer.from([0x78, 0x20, 0, 0, 0, 0]);
      head.writeUInt32BE(adler32(SPDY_DICTIONARY), 2);
      parts.push(head);
    }
    for (let off = 0; off < raw.length || off === 0; off += 0xffff) {
      const chunk = raw.subarray(off, off + 0xffff);
      const block = Buffer.alloc(5);
      block[0] = 0; // BFINAL=0, BTYPE=00 (stored), padded to the byte boundary
      block.writeUInt16LE(chunk.length, 1);
      block.writeUInt16LE(~chunk.length & 0xffff, 3);
      parts.push(block, chunk);
      if (raw.length === 0) break;
    }
    // An empty stored block (the sync-flush marker) ends every header block: Go's flate reader hands out a stored
    // block's bytes only when the next block header is read, and fails for good when that header is not there yet.
    parts.push(SYNC_MARKER);
    return Buffer.concat(parts);
  }
}

/** Compressed bytes of a connection's header history up to which blocks are inflated synchronously. */
const SYNC_HISTORY_LIMIT = 16 * 1024;

/** Inflates incoming header blocks of one connection, in order. Call close() when the connection ends. */
export class HeaderDecompressor {
  #inflate: Inflate | undefined;
  #chain: Promise<unknown> = Promise.resolve();
  #closed = false;
  /** Compressed blocks so far (while inflated synchronously). */
  readonly #history: Buffer[] = [];
  #historyBytes = 0;
  /** Inflated bytes so far: the already-returned prefix of the history's output. */
  #outBytes = 0;
  /** Output bytes the async inflater will give again (the history fed to it when it took over). */
  #skip = 0;
  readonly #syncLimit: number;

  constructor(syncLimit: number = SYNC_HISTORY_LIMIT) {
    this.#syncLimit = syncLimit;
  }

  /**
   * Inflates one compressed header block and parses it: synchronously (the headers) while the history is small, else
   * a promise. Throws / rejects with SpdyProtocolError on corrupt input. Blocks must be given in arrival order.
   */
  decompress(block: Buffer): SpdyHeaders | Promise<SpdyHeaders> {
    if (this.#closed) return Promise.reject(new SpdyProtocolError('connection closed'));
    if (this.#inflate === undefined && this.#historyBytes + block.length <= this.#syncLimit) {
      this.#history.push(block);
      this.#historyBytes += block.length;
      let out: Buffer;
      try {
        out = inflateSync(Buffer.concat(this.#history), { dictionary: SPDY_DICTIONARY, finishFlush: constants.Z_SYNC_FLUSH });
      } catch (err) {
        throw new SpdyProtocolError(`header decompression failed: ${(err as Error).message}`);
      }
      const mine = out.subarray(this.#outBytes);
      this.#outBytes = out.length;
      return decodeNameValueBlock(mine);
    }
    if (this.#inflate === undefined) {
      // Hand over to a persistent inflater: it is fed the history first, whose output was already returned.
      this.#inflate = createInflate({ dictionary: SPDY_DICTIONARY });
      this.#inflate.on('error', () => undefined);
      if (this.#history.length > 0) this.#inflate.write(Buffer.concat(this.#history));
      this.#skip = this.#outBytes;
      this.#history.length = 0;
    }
    const run = this.#chain.then(() => this.#inflateOne(block));
    this.#chain = run.catch(() => undefined);
    return run.then(decodeNameValueBlock);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#inflate?.destroy();
  }

  #inflateOne(block: Buffer): Promise<Buffer> {
    const inflate = this.#inflate as Inflate;
    return new Promise((resolve, reject) => {
      if (this.#closed) {
        reject(new SpdyProtocolError('connection closed'));
        return;
      }
      const onError = (err: Error): void => reject(new SpdyProtocolError(`header decompression failed: ${err.message}`));
      inflate.once('error', onError);
      inflate.write(block);
      inflate.flush(constants.Z_SYNC_FLUSH, () => {
        inflate.off('error', onError);
        if (this.#closed) {
          reject(new SpdyProtocolError('connection closed'));
          return;
        }
        const chunks: Buffer[] = [];
        for (let c = inflate.read() as Buffer | null; c !== null; c = inflate.read() as Buffer | null) chunks.push(c);
        const out = Buffer.concat(chunks);
        const skip = Math.min(this.#skip, out.length);
        this.#skip -= skip;
        resolve(out.subarray(skip));
      });
    });
  }
}
