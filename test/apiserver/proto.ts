import type { Json, JsonObject } from './json.js';
import { ApiError } from './status.js';

/**
 * A decoder for the Kubernetes protobuf wire format (`application/vnd.kubernetes.protobuf`): the `k8s\0` envelope
 * around runtime.Unknown, then the object by a small schema of field numbers (from k8s.io/api generated.proto).
 * kubectl's typed clients (`create namespace|configmap|secret|serviceaccount|service|token`) send bodies this way
 * and do not fall back to JSON. Kinds outside the schema are answered with 415.
 */

type Scalar = 'string' | 'int' | 'bool' | 'bytes' | 'time' | 'intorstr' | 'mapss' | 'mapsb';
/** [json name, type, repeated]. */
type Field = [string, Scalar | string, boolean?];
type Message = Record<number, Field>;

const S: Record<string, Message> = {
  Unknown: { 1: ['typeMeta', 'TypeMeta'], 2: ['raw', 'bytes'], 3: ['contentEncoding', 'string'], 4: ['contentType', 'string'] },
  TypeMeta: { 1: ['apiVersion', 'string'], 2: ['kind', 'string'] },
  ObjectMeta: {
    1: ['name', 'string'], 2: ['generateName', 'string'], 3: ['namespace', 'string'], 5: ['uid', 'string'], 6: ['resourceVersion', 'string'],
    7: ['generation', 'int'], 10: ['deletionGracePeriodSeconds', 'int'], 11: ['labels', 'mapss'], 12: ['annotations', 'mapss'],
    13: ['ownerReferences', 'OwnerReference', true], 14: ['finalizers', 'string', true],
  },
  OwnerReference: { 1: ['kind', 'string'], 3: ['name', 'string'], 4: ['uid', 'string'], 5: ['apiVersion', 'string'], 6: ['controller', 'bool'], 7: ['blockOwnerDeletion', 'bool'] },
  Namespace: { 1: ['metadata', 'ObjectMeta'], 2: ['spec', 'NamespaceSpec'] },
  NamespaceSpec: { 1: ['finalizers', 'string', true] },
  ConfigMap: { 1: ['metadata', 'ObjectMeta'], 2: ['data', 'mapss'], 3: ['binaryData', 'mapsb'], 4: ['immutable', 'bool'] },
  Secret: { 1: ['metadata', 'ObjectMeta'], 2: ['data', 'mapsb'], 3: ['type', 'string'], 4: ['stringData', 'mapss'], 5: ['immutable', 'bool'] },
  ServiceAccount: { 1: ['metadata', 'ObjectMeta'], 2: ['secrets', 'ObjectReference', true], 3: ['imagePullSecrets', 'LocalObjectReference', true], 4: ['automountServiceAccountToken', 'bool'] },
  ObjectReference: { 1: ['kind', 'string'], 2: ['namespace', 'string'], 3: ['name', 'string'], 4: ['uid', 'string'], 5: ['apiVersion', 'string'], 6: ['resourceVersion', 'string'], 7: ['fieldPath', 'string'] },
  LocalObjectReference: { 1: ['name', 'string'] },
  Service: { 1: ['metadata', 'ObjectMeta'], 2: ['spec', 'ServiceSpec'] },
  ServiceSpec: {
    1: ['ports', 'ServicePort', true], 2: ['selector', 'mapss'], 3: ['clusterIP', 'string'], 4: ['type', 'string'], 5: ['externalIPs', 'string', true],
    7: ['sessionAffinity', 'string'], 8: ['loadBalancerIP', 'string'], 10: ['externalName', 'string'], 11: ['externalTrafficPolicy', 'string'],
    13: ['publishNotReadyAddresses', 'bool'], 17: ['ipFamilyPolicy', 'string'], 18: ['clusterIPs', 'string', true], 19: ['ipFamilies', 'string', true],
    22: ['internalTrafficPolicy', 'string'],
  },
  ServicePort: { 1: ['name', 'string'], 2: ['protocol', 'string'], 3: ['port', 'int'], 4: ['targetPort', 'intorstr'], 5: ['nodePort', 'int'], 6: ['appProtocol', 'string'] },
  TokenRequest: { 1: ['metadata', 'ObjectMeta'], 2: ['spec', 'TokenRequestSpec'] },
  TokenRequestSpec: { 1: ['audiences', 'string', true], 3: ['boundObjectRef', 'BoundObjectReference'], 4: ['expirationSeconds', 'int'] },
  BoundObjectReference: { 1: ['kind', 'string'], 2: ['apiVersion', 'string'], 3: ['name', 'string'], 4: ['uid', 'string'] },
  SelfSubjectAccessReview: { 1: ['metadata', 'ObjectMeta'], 2: ['spec', 'SelfSubjectAccessReviewSpec'] },
  SelfSubjectAccessReviewSpec: { 1: ['resourceAttributes', 'ResourceAttributes'], 2: ['nonResourceAttributes', 'NonResourceAttributes'] },
  ResourceAttributes: { 1: ['namespace', 'string'], 2: ['verb', 'string'], 3: ['group', 'string'], 4: ['version', 'string'], 5: ['resource', 'string'], 6: ['subresource', 'string'], 7: ['name', 'string'] },
  NonResourceAttributes: { 1: ['path', 'string'], 2: ['verb', 'string'] },
  // `kubectl certificate approve|deny` PUTs the whole CSR to …/approval (k8s.io/api/certificates/v1).
  CertificateSigningRequest: { 1: ['metadata', 'ObjectMeta'], 2: ['spec', 'CertificateSigningRequestSpec'], 3: ['status', 'CertificateSigningRequestStatus'] },
  CertificateSigningRequestSpec: { 1: ['request', 'bytes'], 2: ['username', 'string'], 3: ['uid', 'string'], 4: ['groups', 'string', true], 5: ['usages', 'string', true], 7: ['signerName', 'string'], 8: ['expirationSeconds', 'int'] },
  CertificateSigningRequestStatus: { 1: ['conditions', 'CertificateSigningRequestCondition', true], 2: ['certificate', 'bytes'] },
  CertificateSigningRequestCondition: { 1: ['type', 'string'], 2: ['reason', 'string'], 3: ['message', 'string'], 4: ['lastUpdateTime', 'time'], 5: ['lastTransitionTime', 'time'], 6: ['status', 'string'] },
  IntOrString: { 1: ['type', 'int'], 2: ['intVal', 'int'], 3: ['strVal', 'string'] },
  Time: { 1: ['seconds', 'int'], 2: ['nanos', 'int'] },
  MapEntry: { 1: ['key', 'string'], 2: ['value', 'bytes'] },
  DeleteOptions: { 1: ['gracePeriodSeconds', 'int'], 2: ['preconditions', 'Preconditions'], 4: ['propagationPolicy', 'string'] },
  Preconditions: { 1: ['uid', 'string'], 2: ['resourceVersion', 'string'] },
};

class Reader {
  pos = 0;
  constructor(readonly buf: Buffer) {}
  varint(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (this.pos >= this.buf.length) throw new Error('truncated varint');
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
    }
  }
  bytes(): Buffer {
    const n = this.varint();
    const out = this.buf.subarray(this.pos, this.pos + n);
    if (out.length !== n) throw new Error('truncated field');
    this.pos += n;
    return out;
  }
}

function decodeMessage(buf: Buffer, type: string): JsonObject {
  const msg = S[type]!;
  const r = new Reader(buf);
  const out: JsonObject = {};
  while (r.pos < buf.length) {
    const tag = r.varint();
    const num = Math.floor(tag / 8);
    const wire = tag & 7;
    let raw: number | Buffer;
    if (wire === 0) raw = r.varint();
    else if (wire === 2) raw = r.bytes();
    else if (wire === 1) raw = (r.pos += 8, 0);
    else if (wire === 5) raw = (r.pos += 4, 0);
    else throw new Error(`unsupported wire type ${wire}`);
    const f = msg[num];
    if (f === undefined) continue;
    const [name, ft, repeated] = f;
    const v = decodeValue(raw, ft);
    if (!repeated && !POINTERS.has(name) && (v === 0 || v === '' || v === false)) continue;
    if (ft === 'mapss' || ft === 'mapsb') {
      const m = (out[name] as JsonObject | undefined) ?? {};
      Object.assign(m, v as JsonObject);
      out[name] = m;
    } else if (repeated) {
      const arr = (out[name] as Json[] | undefined) ?? [];
      arr.push(v);
      out[name] = arr;
    } else out[name] = v;
  }
  return out;
}

function decodeValue(raw: number | Buffer, ft: string): Json {
  if (typeof raw === 'number') {
    if (ft === 'bool') return raw !== 0;
    return raw;
  }
  switch (ft) {
    case 'string':
      return raw.toString('utf8');
    case 'bytes':
      return raw.toString('base64');
    case 'intorstr': {
      const v = decodeMessage(raw, 'IntOrString');
      return v.type === 1 ? String(v.strVal ?? '') : Number(v.intVal ?? 0); // 0 / '' mean unset (dropped by the caller)
    }
    case 'time': {
      const t = decodeMessage(raw, 'Time');
      return new Date(Number(t.seconds ?? 0) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    }
    case 'mapss':
    case 'mapsb': {
      const e = decodeMessage(raw, 'MapEntry');
      const val = Buffer.from(String(e.value ?? ''), 'base64');
      return { [String(e.key ?? '')]: ft === 'mapss' ? val.toString('utf8') : val.toString('base64') };
    }
    default:
      return decodeMessage(raw, ft);
  }
}

/** Fields that are pointers in Go: their zero values are meaningful (false, 0, ""); other zero values mean unset. */
const POINTERS = new Set(['immutable', 'automountServiceAccountToken', 'deletionGracePeriodSeconds', 'expirationSeconds', 'controller', 'blockOwnerDeletion', 'ipFamilyPolicy', 'internalTrafficPolicy', 'appProtocol']);

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

/** Decodes a protobuf request body into the JSON object it encodes; 415 for kinds this server cannot decode. */
export function decodeProtobufObject(body: Buffer): JsonObject {
  const unsupported = (why: string): ApiError =>
    new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml (${why})`);
  if (!body.subarray(0, 4).equals(MAGIC)) throw unsupported('no protobuf envelope');
  let unknown: JsonObject;
  try {
    unknown = decodeMessage(body.subarray(4), 'Unknown');
  } catch (e) {
    throw unsupported(e instanceof Error ? e.message : String(e));
  }
  const tm = (unknown.typeMeta ?? {}) as JsonObject;
  const kind = String(tm.kind ?? '');
  if (S[kind] === undefined || typeof unknown.raw !== 'string') throw unsupported(`kind ${kind || '<none>'}`);
  try {
    const obj = decodeMessage(Buffer.from(unknown.raw, 'base64'), kind);
    return { apiVersion: String(tm.apiVersion ?? 'v1'), kind, ...obj };
  } catch (e) {
    throw unsupported(e instanceof Error ? e.message : String(e));
  }
}
