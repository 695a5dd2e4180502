/**
 * The protobuf wire format, as much as the CRI messages need: varints (32- and 64-bit), length-delimited fields and
 * skipping the fixed-width ones. Used by codec.ts; no code generation, no reflection library.
 */

/** Thrown for bytes that are not valid protobuf (truncated, bad wire type) or a value that cannot be encoded. */
export class WireError extends Error {
  readonly code = 'CRI_PROTO_DECODE';
}

const TWO_32 = 2 ** 32;

/** An append-only protobuf writer over a growing buffer. */
export class WireWriter {
  #buf = Buffer.allocUnsafe(128);
  #len = 0;

  #ensure(n: number): void {
    if (this.#len + n <= this.#buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.#buf.length * 2, this.#len + n));
    this.#buf.copy(next, 0, 0, this.#len);
    this.#buf = next;
  }

  /** A non-negative integer below 2^53 as a varint. */
  uint(n: number): void {
    this.#ensure(10);
    let lo = n >>> 0;
    let hi = Math.floor(n / TWO_32) >>> 0;
    while (hi > 0 || lo > 0x7f) {
      this.#buf[this.#len++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    this.#buf[this.#len++] = lo;
  }

  /** Any 64-bit value (two's complement for negatives) as a varint. */
  uint64(v: bigint): void {
    let u = BigInt.asUintN(64, v);
    if (u < 2n ** 53n) {
      this.uint(Number(u));
      return;
    }
    this.#ensure(10);
    while (u > 0x7fn) {
      this.#buf[this.#len++] = Number(u & 0x7fn) | 0x80;
      u >>= 7n;
    }
    this.#buf[this.#len++] = Number(u);
  }

  /** Field tag: number and wire type. */
  tag(field: number, wireType: number): void {
    this.uint(field * 8 + wireType);
  }

  /** Length-prefixed bytes. */
  bytes(b: Uint8Array): void {
    this.uint(b.length);
    this.#ensure(b.length);
    this.#buf.set(b, this.#len);
    this.#len += b.length;
  }

  /** Length-prefixed UTF-8. */
  string(s: string): void {
    const n = Buffer.byteLength(s, 'utf8');
    this.uint(n);
    this.#ensure(n);
    this.#len += this.#buf.write(s, this.#len, 'utf8');
  }

  /** The bytes written so far (a view; the writer must not be used afterwards). */
  finish(): Buffer {
    return this.#buf.subarray(0, this.#len);
  }
}

/** A protobuf reader over one range of a buffer. */
export class WireReader {
  pos: number;
  readonly end: number;
  readonly #buf: Buffer;

  constructor(buf: Buffer, start = 0, end = buf.length) {
    this.#buf = buf;
    this.pos = start;
    this.end = end;
  }

  /** True while the range has bytes left. */
  more(): boolean {
    return this.pos < this.end;
  }

  /** A varint as a number (exact below 2^53; int64 callers use {@link varint64}). */
  varint(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (this.pos >= this.end) throw new WireError('truncated varint');
      const b = this.#buf[this.pos++] as number;
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
      if (shift > 63) throw new WireError('varint too long');
    }
  }

  /** A varint as an unsigned 64-bit bigint. */
  varint64(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.end) throw new WireError('truncated varint');
      const b = this.#buf[this.pos++] as number;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return BigInt.asUintN(64, result);
      shift += 7n;
      if (shift > 63n) throw new WireError('varint too long');
    }
  }

  /** Start and end of the length-delimited field at the cursor; advances past it. */
  range(): [number, number] {
    const len = this.varint();
    const start = this.pos;
    if (start + len > this.end) throw new WireError('truncated length-delimited field');
    this.pos = start + len;
    return [start, start + len];
  }

  string(): string {
    const [s, e] = this.range();
    return this.#buf.toString('utf8', s, e);
  }

  /** A copy of the bytes (the response buffer is not kept alive by a decoded field). */
  bytes(): Buffer {
    const [s, e] = this.range();
    return Buffer.from(this.#buf.subarray(s, e));
  }

  /** A reader over the length-delimited field at the cursor (a nested message or a packed run). */
  sub(): WireReader {
    const [s, e] = this.range();
    return new WireReader(this.#buf, s, e);
  }

  skip(wireType: number): void {
    if (wireType === 0) this.varint();
    else if (wireType === 2) this.range();
    else if (wireType === 1) this.pos += 8;
    else if (wireType === 5) this.pos += 4;
    else throw new WireError(`unsupported wire type ${wireType}`);
    if (this.pos > this.end) throw new WireError('truncated fixed-width field');
  }
}
