/**
 * Encodes and decodes CRI runtime.v1 messages by walking the committed descriptor (../proto/descriptor.ts) — one
 * small interpreter instead of a reflection library that generates a JS function per message type (issue 14:
 * protobufjs made ~470 of them). Objects look as @grpc/proto-loader made them with `longs: String, enums: String,
 * defaults: true, oneofs: true` (messages.ts): camelCase names, int64/uint64 as decimal strings, enums by name,
 * bytes as Buffers, maps as plain objects, unset scalars/lists/maps as their defaults, unset messages as null
 * (members of a oneof stay absent; the oneof's own name holds the member that is set).
 *
 * Encoding takes such objects (int64 also as numbers or bigints, enums also as numbers); null/undefined fields are
 * left out, and so are scalars equal to their proto3 default (the wire form Go's encoder writes).
 */
import { CRI_V1_DESCRIPTOR } from '../proto/descriptor.js';
import { WireError, WireReader, WireWriter } from './wire.js';

type Scalar = 'string' | 'bytes' | 'bool' | 'int32' | 'uint32' | 'int64' | 'uint64';

interface FieldSpec {
  name: string;
  no: number;
  repeated: boolean;
  /** A map<string, …>: the entry's value is described by the other fields. */
  map: boolean;
  kind: Scalar | 'enum' | 'message';
  /** Enum or message type name (kind enum/message). */
  type: string;
  /** Name of the oneof the field belongs to. */
  oneof?: string;
}

interface MessageSpec {
  fields: FieldSpec[];
  byNo: Map<number, FieldSpec>;
}

interface EnumSpec {
  byName: Map<string, number>;
  byNo: Map<number, string>;
  zero: string;
}

interface RawField {
  type: string;
  id: number;
  rule?: string;
  keyType?: string;
}
interface RawType {
  fields?: Record<string, RawField>;
  oneofs?: Record<string, { oneof: string[] }>;
  values?: Record<string, number>;
  methods?: Record<string, { requestType: string; responseType: string }>;
}

const SCALARS = new Set<string>(['string', 'bytes', 'bool', 'int32', 'uint32', 'int64', 'uint64']);
const VARINT_KINDS = new Set<string>(['bool', 'int32', 'uint32', 'int64', 'uint64', 'enum']);

const nested = (): Record<string, RawType> =>
  ((CRI_V1_DESCRIPTOR['nested'] as Record<string, { nested: Record<string, { nested: Record<string, RawType> }> }>)['runtime']?.nested['v1']
    ?.nested ?? {});

const short = (t: string): string => t.slice(t.lastIndexOf('.') + 1);

const messages = new Map<string, MessageSpec>();
const enums = new Map<string, EnumSpec>();

function raw(name: string): RawType {
  const t = nested()[short(name)];
  if (t === undefined) throw new WireError(`CRI type ${name} is not in the descriptor`);
  return t;
}

function enumSpec(name: string): EnumSpec {
  let e = enums.get(name);
  if (e !== undefined) return e;
  const values = Object.entries(raw(name).values ?? {});
  e = { byName: new Map(values), byNo: new Map(values.map(([k, v]) => [v, k])), zero: values.find(([, v]) => v === 0)?.[0] ?? values[0]?.[0] ?? '' };
  enums.set(name, e);
  return e;
}

function messageSpec(name: string): MessageSpec {
  let m = messages.get(name);
  if (m !== undefined) return m;
  const t = raw(name);
  if (t.fields === undefined) throw new WireError(`CRI type ${name} is not a message`);
  const oneofOf = new Map<string, string>();
  for (const [o, { oneof }] of Object.entries(t.oneofs ?? {})) for (const f of oneof) oneofOf.set(f, o);
  const fields = Object.entries(t.fields).map(([fname, f]): FieldSpec => {
    if (f.keyType !== undefined && f.keyType !== 'string') throw new WireError(`${name}.${fname}: map keys of type ${f.keyType} are not supported`);
    const kind = SCALARS.has(f.type) ? (f.type as Scalar) : raw(f.type).values !== undefined ? 'enum' : 'message';
    return { name: fname, no: f.id, repeated: f.rule === 'repeated', map: f.keyType !== undefined, kind, type: short(f.type), oneof: oneofOf.get(fname) };
  });
  m = { fields, byNo: new Map(fields.map((f) => [f.no, f])) };
  messages.set(name, m);
  return m;
}

/** Request and response type names of a method of `service` (RuntimeService or ImageService). */
export function methodTypes(service: string, method: string): { request: string; response: string } {
  const m = raw(service).methods?.[method];
  if (m === undefined) throw new WireError(`CRI method ${service}/${method} is not in the descriptor`);
  return { request: short(m.requestType), response: short(m.responseType) };
}

// ---- encoding -------------------------------------------------------------------------------------------------

function toBigInt(v: unknown, where: string): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return BigInt(Math.trunc(v));
  if (typeof v === 'string') {
    try {
      return BigInt(v.trim() === '' ? '0' : v.trim());
    } catch {
      /* fall through */
    }
  }
  throw new WireError(`${where}: not an integer: ${String(v)}`);
}

/** The varint of a number-like field, or undefined for its default (zero). */
function varintValue(f: FieldSpec, v: unknown, where: string): bigint | number | undefined {
  switch (f.kind) {
    case 'bool':
      return v === true || v === 1 ? 1 : undefined;
    case 'int32': {
      const n = Number(v) | 0;
      return n === 0 ? undefined : n < 0 ? BigInt(n) : n;
    }
    case 'uint32': {
      const n = Number(v) >>> 0;
      return n === 0 ? undefined : n;
    }
    case 'enum': {
      const n = typeof v === 'number' ? v | 0 : (enumSpec(f.type).byName.get(String(v)) ?? 0);
      return n === 0 ? undefined : n < 0 ? BigInt(n) : n;
    }
    default: {
      const b = toBigInt(v, where);
      return b === 0n ? undefined : b;
    }
  }
}

function writeVarint(w: WireWriter, v: bigint | number): void {
  if (typeof v === 'number') w.uint(v);
  else w.uint64(v);
}

function writeSingle(w: WireWriter, f: FieldSpec, no: number, v: unknown, where: string, keepDefault: boolean): void {
  if (f.kind === 'message') {
    if (typeof v !== 'object' || v === null) throw new WireError(`${where}: object expected`);
    w.tag(no, 2);
    w.bytes(encodeMessage(f.type, v as Record<string, unknown>, where));
  } else if (f.kind === 'string') {
    const s = String(v);
    if (s === '' && !keepDefault) return;
    w.tag(no, 2);
    w.string(s);
  } else if (f.kind === 'bytes') {
    const b = typeof v === 'string' ? Buffer.from(v, 'base64') : v instanceof Uint8Array ? v : undefined;
    if (b === undefined) throw new WireError(`${where}: bytes expected`);
    if (b.length === 0 && !keepDefault) return;
    w.tag(no, 2);
    w.bytes(b);
  } else {
    const n = varintValue(f, v, where);
    if (n === undefined && !keepDefault) return;
    w.tag(no, 0);
    writeVarint(w, n ?? 0);
  }
}

function writeField(w: WireWriter, f: FieldSpec, v: unknown, where: string): void {
  if (f.map) {
    if (typeof v !== 'object') throw new WireError(`${where}: object expected`);
    const valueField: FieldSpec = { ...f, map: false, repeated: false };
    for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
      if (val === null || val === undefined) continue;
      const entry = new WireWriter();
      entry.tag(1, 2);
      entry.string(k);
      writeSingle(entry, valueField, 2, val, `${where}[${k}]`, true);
      w.tag(f.no, 2);
      w.bytes(entry.finish());
    }
  } else if (f.repeated) {
    if (!Array.isArray(v)) throw new WireError(`${where}: array expected`);
    if (VARINT_KINDS.has(f.kind)) {
      if (v.length === 0) return;
      // proto3 packs repeated numbers.
      const packed = new WireWriter();
      for (const x of v) writeVarint(packed, varintValue(f, x, where) ?? 0);
      w.tag(f.no, 2);
      w.bytes(packed.finish());
    } else {
      for (const x of v) writeSingle(w, f, f.no, x, where, true);
    }
  } else {
    writeSingle(w, f, f.no, v, where, false);
  }
}

/** Encodes `obj` as CRI message `type`. Throws {@link WireError} for a value of the wrong shape. */
export function encodeMessage(type: string, obj: Record<string, unknown>, where = type): Buffer {
  const w = new WireWriter();
  for (const f of messageSpec(type).fields) {
    const v = obj[f.name];
    if (v !== null && v !== undefined) writeField(w, f, v, `${where}.${f.name}`);
  }
  return w.finish();
}

// ---- decoding -------------------------------------------------------------------------------------------------

function defaultOf(f: FieldSpec): unknown {
  if (f.map) return {};
  if (f.repeated) return [];
  switch (f.kind) {
    case 'message':
      return null;
    case 'string':
      return '';
    case 'bytes':
      return Buffer.alloc(0);
    case 'bool':
      return false;
    case 'int64':
    case 'uint64':
      return '0';
    case 'enum':
      return enumSpec(f.type).zero;
    default:
      return 0;
  }
}

function readScalar(r: WireReader, f: FieldSpec): unknown {
  switch (f.kind) {
    case 'message':
      return decodeFrom(f.type, r.sub());
    case 'string':
      return r.string();
    case 'bytes':
      return r.bytes();
    case 'bool':
      return r.varint() !== 0;
    case 'int32':
      return Number(BigInt.asIntN(32, r.varint64()));
    case 'uint32':
      return Number(BigInt.asUintN(32, r.varint64()));
    case 'int64':
      return BigInt.asIntN(64, r.varint64()).toString();
    case 'uint64':
      return r.varint64().toString();
    case 'enum': {
      const n = Number(BigInt.asIntN(32, r.varint64()));
      return enumSpec(f.type).byNo.get(n) ?? n;
    }
  }
}

function readMapEntry(r: WireReader, f: FieldSpec, into: Record<string, unknown>): void {
  const valueField: FieldSpec = { ...f, map: false, repeated: false };
  let key = '';
  let value: unknown = defaultOf(valueField);
  while (r.more()) {
    const tag = r.varint();
    if (tag === 10) key = r.string();
    else if (tag >>> 3 === 2) value = readScalar(r, valueField);
    else r.skip(tag & 7);
  }
  into[key] = value;
}

function decodeFrom(type: string, r: WireReader): Record<string, unknown> {
  const spec = messageSpec(type);
  const obj: Record<string, unknown> = {};
  for (const f of spec.fields) if (f.oneof === undefined) obj[f.name] = defaultOf(f);
  while (r.more()) {
    const tag = r.varint();
    const wireType = tag & 7;
    const f = spec.byNo.get(Math.floor(tag / 8));
    if (f === undefined) {
      r.skip(wireType);
    } else if (f.map) {
      if (wireType !== 2) throw new WireError(`${type}.${f.name}: wire type ${wireType} for a map`);
      readMapEntry(r.sub(), f, obj[f.name] as Record<string, unknown>);
    } else if (f.repeated) {
      const list = obj[f.name] as unknown[];
      if (wireType === 2 && VARINT_KINDS.has(f.kind)) {
        const packed = r.sub();
        while (packed.more()) list.push(readScalar(packed, f));
      } else list.push(readScalar(r, f));
    } else {
      obj[f.name] = readScalar(r, f);
      if (f.oneof !== undefined) obj[f.oneof] = f.name;
    }
  }
  return obj;
}

/** Decodes CRI message `type` from `buf`. Throws {@link WireError} for bytes that are not such a message. */
export function decodeMessage(type: string, buf: Buffer): Record<string, unknown> {
  return decodeFrom(type, new WireReader(buf));
}
