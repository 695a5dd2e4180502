/**
 * Eviction thresholds (`100Mi`, `10%`), parsed once at the config edge into numbers. Quantities themselves are parsed
 * by src/util/quantity.ts.
 */
import { parseQuantity } from '../util/quantity.js';

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
