/**
 * The query of `/containerLogs/{ns}/{pod}/{container}` (upstream PodLogOptions) parsed and validated. Pure.
 */

/** Validated log options. */
export interface LogRequest {
  follow: boolean;
  previous: boolean;
  timestamps: boolean;
  /** Last N lines (undefined = all). */
  tailLines: number | undefined;
  /** Only lines at or after this time (from sinceSeconds or sinceTime). */
  sinceMs: number | undefined;
  /** Stop after this many bytes (undefined = unbounded). */
  limitBytes: number | undefined;
}

const bool = (q: URLSearchParams, name: string): boolean => {
  const v = q.get(name);
  return v !== null && (v === '' || v === 'true' || v === '1');
};

function int(q: URLSearchParams, name: string): number | undefined | string {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  if (!/^-?\d+$/.test(v)) return `${name}: invalid value "${v}": must be an integer`;
  return Number(v);
}

/** Parses the query; returns an error message (upstream wording) for invalid values. `nowMs` anchors sinceSeconds. */
export function parseLogRequest(q: URLSearchParams, nowMs: number): LogRequest | { error: string } {
  const tail = int(q, 'tailLines');
  const limit = int(q, 'limitBytes');
  const sinceSeconds = int(q, 'sinceSeconds');
  for (const v of [tail, limit, sinceSeconds]) if (typeof v === 'string') return { error: v };
  if (typeof tail === 'number' && tail < 0) return { error: 'tailLines: Invalid value: must be greater than or equal to 0' };
  if (typeof limit === 'number' && limit < 1) return { error: 'limitBytes: Invalid value: must be greater than 0' };
  if (typeof sinceSeconds === 'number' && sinceSeconds < 1) return { error: 'sinceSeconds: Invalid value: must be greater than 0' };
  const sinceTime = q.get('sinceTime');
  if (sinceTime !== null && sinceTime !== '' && sinceSeconds !== undefined) return { error: 'at most one of `sinceTime` or `sinceSeconds` may be specified' };
  let sinceMs: number | undefined;
  if (typeof sinceSeconds === 'number') sinceMs = nowMs - sinceSeconds * 1000;
  else if (sinceTime !== null && sinceTime !== '') {
    sinceMs = Date.parse(sinceTime);
    if (Number.isNaN(sinceMs)) return { error: `sinceTime: invalid value "${sinceTime}": must be an RFC3339 time` };
  }
  return {
    follow: bool(q, 'follow'),
    previous: bool(q, 'previous'),
    timestamps: bool(q, 'timestamps'),
    tailLines: tail as number | undefined,
    sinceMs,
    limitBytes: limit as number | undefined,
  };
}
