/**
 * A minimal Prometheus text-format writer that prints like Go's client_golang (expfmt): families sorted by name,
 * samples sorted by label values, labels sorted by name, floats as Go's strconv 'g' shortest form, optional
 * millisecond timestamps. Families without samples are left out, as the Go gatherer does.
 */

/** One sample of a family. */
export interface Sample {
  labels: Record<string, string>;
  value: number;
  timestampMs?: number;
}

/** One metric family. */
export interface Family {
  name: string;
  help: string;
  type: 'counter' | 'gauge';
  samples: Sample[];
}

/** Go's strconv.FormatFloat(v, 'g', -1, 64). */
export function goFloat(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  const [mant, expText] = v.toExponential().split('e') as [string, string];
  const exp = Number(expText);
  if (exp < -4 || exp >= 21 || exp >= 6) {
    const abs = Math.abs(exp);
    return `${mant}e${exp < 0 ? '-' : '+'}${abs < 10 ? `0${abs}` : abs}`;
  }
  return String(v);
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function escapeHelp(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function labelText(labels: Record<string, string>): string {
  const keys = Object.keys(labels).sort();
  if (keys.length === 0) return '';
  return `{${keys.map((k) => `${k}="${escapeLabel(labels[k]!)}"`).join(',')}}`;
}

/** Renders the families in the text exposition format 0.0.4. */
export function renderFamilies(families: Family[]): string {
  const out: string[] = [];
  for (const f of [...families].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (f.samples.length === 0) continue;
    out.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`);
    const rows = f.samples.map((s) => ({ key: Object.keys(s.labels).sort().map((k) => s.labels[k]).join('\u0000'), line: `${f.name}${labelText(s.labels)} ${goFloat(s.value)}${s.timestampMs !== undefined ? ` ${Math.floor(s.timestampMs)}` : ''}` }));
    rows.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    for (const r of rows) out.push(r.line);
  }
  return out.length === 0 ? '' : `${out.join('\n')}\n`;
}

/** The content type of the text format. */
export const TEXT_FORMAT = 'text/plain; version=0.0.4; charset=utf-8';
