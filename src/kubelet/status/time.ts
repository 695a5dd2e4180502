/** Time helpers for API status: RFC 3339 with whole seconds (metav1.Time) and Go duration strings. */

/** A Date truncated to whole seconds (metav1.Time precision), or undefined for 0/unset. */
export function apiTime(ms: number): Date | undefined {
  if (!Number.isFinite(ms) || ms <= 0) return undefined;
  return new Date(Math.floor(ms / 1000) * 1000);
}

/** RFC 3339 with whole seconds, e.g. `2026-01-01T00:00:00Z`. */
export function rfc3339(d: Date | string | number): string {
  const ms = d instanceof Date ? d.getTime() : typeof d === 'number' ? d : Date.parse(d);
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** Go's time.Duration.String() for whole seconds: `10s`, `1m20s`, `5m0s`, `1h0m0s`. */
export function goDuration(ms: number): string {
  const total = Math.round(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}

/**
 * Canonical JSON for comparing API objects: sorted keys, undefined/null dropped, Dates and date-like strings in
 * RFC 3339 whole seconds. Two statuses that the API would store identically serialize identically.
 */
export function canonicalJSON(value: unknown): string {
  return JSON.stringify(normalize(value));
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

function normalize(v: unknown): unknown {
  if (v instanceof Date) return rfc3339(v);
  if (typeof v === 'string' && ISO.test(v)) return rfc3339(v);
  if (Array.isArray(v)) return v.map(normalize);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const x = (v as Record<string, unknown>)[k];
      if (x === undefined || x === null) continue;
      out[k] = normalize(x);
    }
    return out;
  }
  return v;
}

/** JSON.stringify replacer-compatible conversion: Dates become RFC 3339 whole seconds. */
export function toApiJSON(value: unknown): string {
  return JSON.stringify(normalize(value));
}
