/**
 * The container spec hash stored in the `io.kubernetes.container.hash` annotation: a changed spec restarts the
 * container, an unchanged one (also after an agent restart) does not. Resources are left out, as upstream
 * does since in-place resize: they do not force a restart. This is the only implementation: the pod workers write
 * the annotation (start.ts) and compare it (actions.ts); the pod environment leaves it out of the container config.
 * The values must never change (containers adopted after an upgrade would restart); actions.test.ts pins some.
 */
import { createHash } from 'node:crypto';
import type { V1Container } from '@kubernetes/client-node';

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v instanceof Date) return v.toISOString();
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const x = (v as Record<string, unknown>)[k];
      if (x !== undefined && x !== null) out[k] = canonical(x);
    }
    return out;
  }
  return v;
}

/** Stable 8-hex-digit hash of the container spec (key order and undefined fields do not matter). */
export function hashContainer(c: V1Container): string {
  const { resources: _resources, ...rest } = c;
  return createHash('sha256').update(JSON.stringify(canonical(rest))).digest('hex').slice(0, 8);
}
