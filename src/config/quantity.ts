/**
 * Kubernetes resource quantities (`100Mi`, `1Gi`, `500m`, `2`, `1e3`) and eviction thresholds (`100Mi`, `10%`).
 * Parsed once at the config edge into numbers.
 */

const SUFFIX: Record<string, number> = {
  '': 1,
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
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
const QUANTITY = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(?:(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)|[eE]([+-]?\d+))?$/;

/** Parses a quantity into its numeric value (bytes for memory, cores for cpu); undefined when invalid. */
export function parseQuantity(text: string): number | undefined {
  const m = QUANTITY.exec(text.trim());
  if (m === null) return undefined;
  const base = Number(m[1]);
  if (m[3] !== undefined) return base * 10 ** Number(m[3]);
  return base * (SUFFIX[m[2] ?? ''] ?? Number.NaN);
}

/** A threshold: an absolute quantity or a percentage of capacity. */
export type Threshold = { kind: 'quantity'; value: number } | { kind: 'percent'; value: number };

/** Parses an eviction threshold value (`100Mi`, `10%`); undefined when invalid. */
export function parseThreshold(text: string): Threshold | undefined {
  if (text.endsWith('%')) {
    const p = Number(text.slice(0, -1));
    if (text.length < 2 || !Number.isFinite(p) || p < 0 || p > 100) return undefined;
    return { kind: 'percent', value: p };
  }
  const q = parseQuantity(text);
  if (q === undefined || q < 0) return undefined;
  return { kind: 'quantity', value: q };
}

/** Resolves a threshold against a capacity. */
export function thresholdValue(t: Threshold, capacity: number): number {
  return t.kind === 'percent' ? (capacity * t.value) / 100 : t.value;
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
