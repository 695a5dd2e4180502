/**
 * Kubernetes resource quantities (`100Mi`, `1Gi`, `500m`, `2`, `1e3`) as plain numbers: the one parser every area
 * uses. Values a node agent meets fit in a double exactly (< 2^53), so no big-number arithmetic is needed; this is
 * not a full apimachinery Quantity.
 */
import { InvalidError } from './errors.js';

const SUFFIX: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};
const QUANTITY = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])|[eE]([+-]?\d+))?$/;

/** A quantity in the API may arrive as a string or (from hand-written manifests) a number. */
export type QuantityInput = string | number | undefined | null;

/**
 * The numeric value of a quantity (bytes for memory, cores for cpu; e.g. "500m" → 0.5, "64Mi" → 67108864), or
 * undefined when it is absent or not a valid quantity. Never throws.
 */
export function parseQuantity(q: QuantityInput): number | undefined {
  if (q === undefined || q === null) return undefined;
  if (typeof q === 'number') return Number.isFinite(q) ? q : undefined;
  const m = QUANTITY.exec(q.trim());
  if (m === null) return undefined;
  const base = Number(m[1]);
  if (m[3] !== undefined) return base * 10 ** Number(m[3]);
  return base * (SUFFIX[m[2] ?? ''] ?? 1);
}

/**
 * Like {@link parseQuantity}, but an absent quantity is 0 and an invalid one throws InvalidError naming `field`
 * (with the upstream apimachinery message).
 */
export function parseQuantityOrThrow(q: QuantityInput, field = 'quantity'): number {
  if (q === undefined || q === null) return 0;
  const v = parseQuantity(q);
  if (v !== undefined) return v;
  if (typeof q === 'number') throw new InvalidError(`${field}: invalid quantity ${String(q)}`, { field });
  throw new InvalidError(`${field}: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$' (got "${q}")`, { field });
}

/** Value rounded up to an integer (Kubernetes `Quantity.Value()`), e.g. bytes; throws like {@link parseQuantityOrThrow}. */
export function quantityValue(q: QuantityInput, field?: string): number {
  return Math.ceil(roundNoise(parseQuantityOrThrow(q, field)));
}

/** Value × 1000 rounded up (Kubernetes `Quantity.MilliValue()`), e.g. milli-CPUs; throws like {@link parseQuantityOrThrow}. */
export function quantityMilliValue(q: QuantityInput, field?: string): number {
  return Math.ceil(roundNoise(parseQuantityOrThrow(q, field) * 1000));
}

// Float products like 0.1 * 1000 = 100.00000000000001 must not round up to 101.
function roundNoise(v: number): number {
  const r = Math.round(v);
  return Math.abs(v - r) < 1e-9 * Math.max(1, Math.abs(v)) ? r : v;
}

/** Formats bytes as a Kubernetes quantity in Ki (how the kubelet reports memory capacity). */
export function formatKi(bytes: number): string {
  return `${Math.max(0, Math.floor(bytes / 1024))}Ki`;
}

/** Formats millicores as a quantity (`2`, `1500m`). */
export function formatMilliCPU(milli: number): string {
  const m = Math.max(0, Math.round(milli));
  return m % 1000 === 0 ? String(m / 1000) : `${m}m`;
}
