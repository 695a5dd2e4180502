/**
 * A minimal ASN.1 DER writer and reader: just what building a PKCS#10 certificate request (and, in the test API server,
 * an X.509 certificate) needs. Pure functions over Buffers.
 *
 * Why not @peculiar/x509: its CommonJS and ESM builds load tsyringe, which throws at import unless a
 * `reflect-metadata` polyfill is loaded first, and that package is not a dependency.
 */

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** One TLV with the given tag byte. */
export function tlv(tag: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), length(content.length), content]);
}

/** SEQUENCE of the given elements. */
export const seq = (...items: Buffer[]): Buffer => tlv(0x30, Buffer.concat(items));
/** SET OF the given elements (DER order: sorted by encoding). */
export const set = (...items: Buffer[]): Buffer => tlv(0x31, Buffer.concat([...items].sort(Buffer.compare)));
/** Context-specific constructed tag `[n]`. */
export const ctx = (n: number, ...items: Buffer[]): Buffer => tlv(0xa0 + n, Buffer.concat(items));
/** UTF8String. */
export const utf8 = (s: string): Buffer => tlv(0x0c, Buffer.from(s, 'utf8'));
/** OCTET STRING. */
export const octets = (b: Buffer): Buffer => tlv(0x04, b);
/** BIT STRING with no unused bits. */
export const bits = (b: Buffer): Buffer => tlv(0x03, Buffer.concat([Buffer.from([0]), b]));
/** BOOLEAN. */
export const bool = (v: boolean): Buffer => tlv(0x01, Buffer.from([v ? 0xff : 0]));

/** INTEGER from a non-negative number or big-endian magnitude bytes. */
export function int(v: number | Buffer): Buffer {
  let b: Buffer;
  if (typeof v === 'number') {
    const bytes: number[] = [];
    for (let x = v; x > 0; x = Math.floor(x / 256)) bytes.unshift(x & 0xff);
    b = Buffer.from(bytes.length === 0 ? [0] : bytes);
  } else {
    let i = 0;
    while (i < v.length - 1 && v[i] === 0) i++;
    b = v.subarray(i);
  }
  return tlv(0x02, (b[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b);
}

/** OBJECT IDENTIFIER from dotted text (`1.2.840.10045.4.3.2`). */
export function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const out: number[] = [40 * (parts[0] ?? 0) + (parts[1] ?? 0)];
  for (const p of parts.slice(2)) {
    const chunk: number[] = [p & 0x7f];
    for (let v = Math.floor(p / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift(0x80 | (v & 0x7f));
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

/** UTCTime (years before 2050) or GeneralizedTime, seconds precision, UTC. */
export function time(ms: number): Buffer {
  const iso = new Date(Math.floor(ms / 1000) * 1000).toISOString();
  const digits = iso.slice(0, 19).replace(/[-T:]/g, '');
  const year = new Date(ms).getUTCFullYear();
  return year >= 1950 && year < 2050 ? tlv(0x17, Buffer.from(`${digits.slice(2)}Z`)) : tlv(0x18, Buffer.from(`${digits}Z`));
}

/** A parsed TLV: tag byte, content, and the whole encoding. */
export interface Tlv {
  tag: number;
  content: Buffer;
  raw: Buffer;
}

/** Reads the TLV at `offset` of `b`. Throws on truncated input. */
export function readTlv(b: Buffer, offset = 0): Tlv {
  const tag = b[offset];
  let len = b[offset + 1];
  if (tag === undefined || len === undefined) throw new RangeError('DER: truncated');
  let start = offset + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + (b[start + i] ?? 0);
    start += n;
  }
  if (start + len > b.length) throw new RangeError('DER: truncated');
  return { tag, content: b.subarray(start, start + len), raw: b.subarray(offset, start + len) };
}

/** The elements of a constructed TLV's content. */
export function children(content: Buffer): Tlv[] {
  const out: Tlv[] = [];
  for (let off = 0; off < content.length; ) {
    const t = readTlv(content, off);
    out.push(t);
    off += t.raw.length;
  }
  return out;
}

/** Decodes an OBJECT IDENTIFIER's content to dotted text. */
export function oidText(content: Buffer): string {
  const first = content[0] ?? 0;
  const parts = [Math.floor(first / 40), first % 40];
  let v = 0;
  for (const byte of content.subarray(1)) {
    v = v * 128 + (byte & 0x7f);
    if ((byte & 0x80) === 0) {
      parts.push(v);
      v = 0;
    }
  }
  return parts.join('.');
}

/** PEM text of DER bytes. */
export function toPem(label: string, der: Buffer): string {
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

/** DER bytes of the first PEM block with `label`; undefined when there is none. */
export function fromPem(label: string, pem: string): Buffer | undefined {
  const m = new RegExp(`-----BEGIN ${label}-----([A-Za-z0-9+/=\\s]+)-----END ${label}-----`).exec(pem);
  return m === null ? undefined : Buffer.from((m[1] ?? '').replace(/\s+/g, ''), 'base64');
}
