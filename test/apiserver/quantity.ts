import { isObject, objects, type Json, type JsonObject } from './json.js';
import { ApiError, badRequest, invalidValue, type StatusCause } from './status.js';

const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BINARY: Record<string, number> = { Ki: 1, Mi: 2, Gi: 3, Ti: 4, Pi: 5, Ei: 6 };
const RE = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(?:(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])|[eE]([+-]?\d+))?$/;

/** Value in nano-units (×10⁹) as a BigInt, rounded up like upstream; undefined when not a quantity. */
function nanos(s: string): { value: bigint; format: 'binary' | 'decimal' | 'exponent' } | undefined {
  const m = RE.exec(s.trim());
  if (!m) return undefined;
  const [, sign, num, suffix, exp] = m;
  const [int, frac = ''] = num!.split('.');
  let digits = BigInt(`${int || '0'}${frac}`);
  let scale = -frac.length + 9; // power of ten to apply to digits to get nanos
  let format: 'binary' | 'decimal' | 'exponent' = 'decimal';
  if (exp !== undefined) {
    scale += Number(exp);
    format = 'exponent';
  } else if (suffix !== undefined && suffix in BINARY) {
    digits *= 1024n ** BigInt(BINARY[suffix]!);
    format = 'binary';
  } else scale += DECIMAL[suffix ?? '']!;
  let value: bigint;
  if (scale >= 0) value = digits * 10n ** BigInt(scale);
  else {
    const div = 10n ** BigInt(-scale);
    value = digits / div + (digits % div === 0n ? 0n : 1n); // round up to the nano
  }
  return { value: sign === '-' ? -value : value, format };
}

/**
 * The canonical string form of a resource quantity, as kube-apiserver returns it (`0.5` → `500m`, `1000m` → `1`,
 * `2048Ki` → `2Mi`, `1000` → `1k`); numbers become strings. Returns undefined when `v` is not a valid quantity.
 */
export function canonicalQuantity(v: Json | undefined): string | undefined {
  if (typeof v !== 'string' && typeof v !== 'number') return undefined;
  const q = nanos(String(v));
  if (q === undefined) return undefined;
  const neg = q.value < 0n;
  const abs = neg ? -q.value : q.value;
  const sign = neg ? '-' : '';
  if (abs === 0n) return '0';
  if (q.format === 'binary' && abs % 1_000_000_000n === 0n) {
    const bytes = abs / 1_000_000_000n;
    for (const [suf, k] of Object.entries(BINARY).reverse()) {
      const unit = 1024n ** BigInt(k);
      if (bytes % unit === 0n) return `${sign}${bytes / unit}${suf}`;
    }
    return `${sign}${bytes}`;
  }
  const order = Object.entries(DECIMAL).sort((a, b) => b[1] - a[1]);
  for (const [suf, e] of order) {
    const unit = 10n ** BigInt(e + 9);
    if (abs % unit === 0n) {
      const mant = abs / unit;
      return q.format === 'exponent' && e !== 0 ? `${sign}${mant}e${e}` : `${sign}${mant}${suf}`;
    }
  }
  return `${sign}${abs}n`;
}

function canonicalMap(o: JsonObject | undefined, field: string, causes: StatusCause[]): void {
  if (o === undefined) return;
  for (const [k, v] of Object.entries(o)) {
    const c = canonicalQuantity(v);
    if (c === undefined) causes.push(invalidValue(`${field}[${k}]`, String(v), "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"));
    else o[k] = c;
  }
}

/** The decode error upstream answers (400) for a value that is not a quantity. */
export function quantityDecodeError(kind: string): ApiError {
  return badRequest(`${kind} in version "v1" cannot be handled as a ${kind}: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`);
}

/** Canonicalises the quantities of a pod spec in place; returns causes for values that are not quantities. */
export function canonicalizePodQuantities(spec: JsonObject): StatusCause[] {
  const causes: StatusCause[] = [];
  for (const key of ['containers', 'initContainers', 'ephemeralContainers']) {
    objects(spec, key).forEach((c, i) => {
      const res = c.resources;
      if (!isObject(res)) return;
      for (const kind of ['limits', 'requests']) if (isObject(res[kind])) canonicalMap(res[kind], `spec.${key}[${i}].resources.${kind}`, causes);
    });
  }
  if (isObject(spec.overhead)) canonicalMap(spec.overhead, 'spec.overhead', causes);
  objects(spec, 'volumes').forEach((v, i) => {
    if (isObject(v.emptyDir) && v.emptyDir.sizeLimit !== undefined) {
      const c = canonicalQuantity(v.emptyDir.sizeLimit);
      if (c === undefined) causes.push(invalidValue(`spec.volumes[${i}].emptyDir.sizeLimit`, String(v.emptyDir.sizeLimit), 'must be a quantity'));
      else v.emptyDir.sizeLimit = c;
    }
  });
  return causes;
}

/** Canonicalises node status capacity/allocatable in place. */
export function canonicalizeNodeQuantities(node: JsonObject): StatusCause[] {
  const causes: StatusCause[] = [];
  const status = node.status;
  if (isObject(status)) {
    for (const k of ['capacity', 'allocatable']) if (isObject(status[k])) canonicalMap(status[k], `status.${k}`, causes);
  }
  return causes;
}
