/**
 * Kubernetes resource quantities ("500m", "64Mi", "1.5", "2e3") as plain numbers. Values a node agent meets fit in a
 * double exactly (< 2^53), so no big-number arithmetic is needed.
 */
import { InvalidError } from '../../util/errors.js';

const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };
const PATTERN = /^([+-]?(?:\d+\.?\d*|\.\d+))(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?$/;

/** A quantity in the API may arrive as a string or (from hand-written manifests) a number. */
export type QuantityInput = string | number | undefined | null;

/**
 * Parses a quantity into its exact numeric value (e.g. "500m" → 0.5, "64Mi" → 67108864).
 * Throws InvalidError naming `field` when the text is not a quantity.
 */
export function parseQuantity(q: QuantityInput, field = 'quantity'): number {
  if (q === undefined || q === null) return 0;
  if (typeof q === 'number') {
    if (!Number.isFinite(q)) throw new InvalidError(`${field}: invalid quantity ${String(q)}`, { field });
    return q;
  }
  const m = PATTERN.exec(q.trim());
  if (m === null) throw new InvalidError(`${field}: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$' (got "${q}")`, { field });
  const base = Number(m[1]);
  const suffix = m[2] ?? '';
  if (suffix in BINARY) return base * (BINARY[suffix] ?? 1);
  if (suffix in DECIMAL) return base * (DECIMAL[suffix] ?? 1);
  return base * 10 ** Number(suffix.slice(1));
}

/** Value rounded up to an integer (Kubernetes `Quantity.Value()`), e.g. bytes. */
export function quantityValue(q: QuantityInput, field?: string): number {
  return Math.ceil(roundNoise(parseQuantity(q, field)));
}

/** Value × 1000 rounded up (Kubernetes `Quantity.MilliValue()`), e.g. milli-CPUs. */
export function quantityMilliValue(q: QuantityInput, field?: string): number {
  return Math.ceil(roundNoise(parseQuantity(q, field) * 1000));
}

// Float products like 0.1 * 1000 = 100.00000000000001 must not round up to 101.
function roundNoise(v: number): number {
  const r = Math.round(v);
  return Math.abs(v - r) < 1e-9 * Math.max(1, Math.abs(v)) ? r : v;
}
