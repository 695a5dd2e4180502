/**
 * Named health checks (upstream k8s.io/apiserver healthz): each role adds checks; `/healthz` is ok when all pass.
 * Verbose output is upstream's: `[+]name ok` / `[-]name failed: reason`, then `healthz check passed|failed`.
 */

/** A check returns undefined when healthy, or the reason it is not. It must be cheap and must not throw. */
export type HealthCheck = () => string | undefined;

/** Result of running the checks. */
export interface HealthReport {
  ok: boolean;
  /** Verbose body, upstream format. */
  text: string;
}

/** A set of named checks. */
export class HealthChecks {
  readonly #checks = new Map<string, HealthCheck>();

  constructor() {
    this.add('ping', () => undefined);
  }

  /** Adds (or replaces) a check. */
  add(name: string, check: HealthCheck): void {
    this.#checks.set(name, check);
  }

  /** Names of the checks. */
  names(): string[] {
    return [...this.#checks.keys()];
  }

  /** Runs all checks, or only `name` when given (undefined result when there is no such check). */
  run(name?: string): HealthReport | undefined {
    const selected = name === undefined ? [...this.#checks] : this.#checks.has(name) ? [[name, this.#checks.get(name)] as const] : [];
    if (selected.length === 0) return undefined;
    let ok = true;
    const lines: string[] = [];
    for (const [n, check] of selected) {
      let reason: string | undefined;
      try {
        reason = check?.();
      } catch (err) {
        reason = err instanceof Error ? err.message : String(err);
      }
      if (reason === undefined) lines.push(`[+]${n} ok`);
      else {
        ok = false;
        lines.push(`[-]${n} failed: ${reason}`);
      }
    }
    lines.push(ok ? 'healthz check passed' : 'healthz check failed');
    return { ok, text: `${lines.join('\n')}\n` };
  }
}

/** A check that fails when `lastAt()` is older than `maxAgeMs` (or never happened after `graceMs` since start). */
export function freshnessCheck(
  what: string,
  lastAt: () => number | undefined,
  maxAgeMs: number,
  now: () => number,
  startedAt: number,
): HealthCheck {
  return () => {
    const t = lastAt();
    const n = now();
    if (t === undefined) return n - startedAt > maxAgeMs ? `${what} never succeeded` : undefined;
    const age = n - t;
    return age > maxAgeMs ? `${what} was last seen ${Math.round(age / 1000)}s ago; threshold is ${Math.round(maxAgeMs / 1000)}s` : undefined;
  };
}
