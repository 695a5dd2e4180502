/**
 * Go-style durations as used by upstream configuration (`10s`, `1m0s`, `300ms`, `2h45m`). Parsed once at the config
 * edge into milliseconds; everything inside nodelet works with numbers.
 */

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/gy;

/** Parses a non-negative Go duration into milliseconds; returns undefined when `text` is not one. */
export function parseDuration(text: string): number | undefined {
  if (text === '0') return 0;
  if (text === '') return undefined;
  PART.lastIndex = 0;
  let total = 0;
  let consumed = 0;
  for (let m = PART.exec(text); m !== null; m = PART.exec(text)) {
    total += Number(m[1]) * (UNIT_MS[m[2] ?? ''] ?? Number.NaN);
    consumed = PART.lastIndex;
  }
  if (consumed !== text.length || !Number.isFinite(total)) return undefined;
  return total;
}

/** True when `text` is a valid non-negative Go duration. */
export function isDuration(text: string): boolean {
  return parseDuration(text) !== undefined;
}

/** Formats milliseconds the way Go prints durations (`1m0s`, `10s`, `500ms`, `0s`). */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 1000) return `${ms}ms`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = (ms % 60_000) / 1000;
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}

/** Human description of the accepted syntax, used in error messages. */
export const DURATION_HINT = 'a duration such as "10s", "1m30s" or "500ms" (units ns, us, ms, s, m, h)';
