/** Small statistics and formatting helpers for the benchmarks. */

/** The q-quantile (0..1) of `values` by the nearest-rank method (as upstream's e2e latency summaries); NaN when empty. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1] ?? Number.NaN;
}

/** p50/p90/p99/max/min of a sample. */
export interface Summary {
  n: number;
  min: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** Summarises a sample (NaN fields when empty). */
export function summarize(values: readonly number[]): Summary {
  return {
    n: values.length,
    min: values.length ? Math.min(...values) : Number.NaN,
    p50: quantile(values, 0.5),
    p90: quantile(values, 0.9),
    p99: quantile(values, 0.99),
    max: values.length ? Math.max(...values) : Number.NaN,
  };
}

/** Milliseconds as seconds with 3 decimals (`0.512 s`), or `n/a`. */
export function sec(ms: number): string {
  return Number.isFinite(ms) ? `${(ms / 1000).toFixed(3)} s` : 'n/a';
}

/** `p50 / p90 / p99 / max` of a summary in seconds. */
export function quartet(s: Summary): string {
  return `${sec(s.p50)} / ${sec(s.p90)} / ${sec(s.p99)} / ${sec(s.max)}`;
}
