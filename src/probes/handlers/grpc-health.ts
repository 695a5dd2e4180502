/**
 * A hand-written protobuf codec for grpc.health.v1 (health.proto): HealthCheckRequest { string service = 1; } and
 * HealthCheckResponse { ServingStatus status = 1; }. Small enough that no .proto loading is needed.
 */

/** grpc.health.v1.Health/Check. */
export const HEALTH_CHECK_METHOD = '/grpc.health.v1.Health/Check';

/** ServingStatus enum values → names. */
export const SERVING_STATUS_NAMES: Record<number, string> = {
  0: 'UNKNOWN',
  1: 'SERVING',
  2: 'NOT_SERVING',
  3: 'SERVICE_UNKNOWN',
};

/** SERVING. */
export const SERVING = 1;

function encodeVarint(n: number): number[] {
  const out: number[] = [];
  let v = n >>> 0;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return out;
}

function readVarint(buf: Buffer, pos: number): [number, number] {
  let result = 0;
  let shift = 0;
  for (;;) {
    if (pos >= buf.length) throw new Error('truncated varint');
    const b = buf[pos++]!;
    if (shift < 32) result |= (b & 0x7f) << shift;
    if ((b & 0x80) === 0) return [result >>> 0, pos];
    shift += 7;
    if (shift > 63) throw new Error('varint too long');
  }
}

/** Iterates (field number, wire type, value) over a message, skipping unknown fields. */
function* fields(buf: Buffer): Generator<[number, number, number | Buffer]> {
  let pos = 0;
  while (pos < buf.length) {
    const [key, p1] = readVarint(buf, pos);
    pos = p1;
    const field = key >>> 3;
    const wire = key & 7;
    if (wire === 0) {
      const [v, p2] = readVarint(buf, pos);
      pos = p2;
      yield [field, wire, v];
    } else if (wire === 2) {
      const [len, p2] = readVarint(buf, pos);
      if (p2 + len > buf.length) throw new Error('truncated field');
      yield [field, wire, buf.subarray(p2, p2 + len)];
      pos = p2 + len;
    } else if (wire === 1) {
      pos += 8;
    } else if (wire === 5) {
      pos += 4;
    } else {
      throw new Error(`unsupported wire type ${wire}`);
    }
  }
}

/** Encodes HealthCheckRequest. */
export function encodeHealthCheckRequest(service: string): Buffer {
  if (service === '') return Buffer.alloc(0);
  const s = Buffer.from(service, 'utf8');
  return Buffer.concat([Buffer.from([0x0a, ...encodeVarint(s.length)]), s]);
}

/** Decodes HealthCheckRequest. */
export function decodeHealthCheckRequest(buf: Buffer): { service: string } {
  let service = '';
  for (const [f, w, v] of fields(buf)) if (f === 1 && w === 2 && Buffer.isBuffer(v)) service = v.toString('utf8');
  return { service };
}

/** Encodes HealthCheckResponse. */
export function encodeHealthCheckResponse(status: number): Buffer {
  return status === 0 ? Buffer.alloc(0) : Buffer.from([0x08, ...encodeVarint(status)]);
}

/** Decodes HealthCheckResponse. */
export function decodeHealthCheckResponse(buf: Buffer): { status: number } {
  let status = 0;
  for (const [f, w, v] of fields(buf)) if (f === 1 && w === 0 && typeof v === 'number') status = v;
  return { status };
}
