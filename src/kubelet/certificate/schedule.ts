/**
 * When to rotate a certificate, as client-go's certificate manager: at `notBefore + jitter(70% of the lifetime)`,
 * where the jitter adds up to 20% of that (`wait.Jitter(0.7 × total, 0.2)`), i.e. between 70% and 84% of the
 * lifetime. Pure.
 */

/** Rotation tuning. `baseFraction` is 0.7 upstream; tests lower it to see a rotation within seconds. */
export interface RotationPolicy {
  /** Fraction of the lifetime before the jitter (default 0.7). */
  baseFraction: number;
  /** Maximum jitter as a fraction of the base (default 0.2). */
  jitter: number;
}

/** Upstream's policy. */
export const UPSTREAM_ROTATION: RotationPolicy = { baseFraction: 0.7, jitter: 0.2 };

/**
 * The rotation deadline (ms since the epoch) of a certificate valid from `notBefore` to `notAfter`; `random()` is in
 * [0, 1) (Math.random in production, fixed in tests).
 */
export function rotationDeadline(notBefore: number, notAfter: number, random: () => number, policy: RotationPolicy = UPSTREAM_ROTATION): number {
  const total = Math.max(0, notAfter - notBefore);
  const base = total * policy.baseFraction;
  return Math.round(notBefore + base + base * policy.jitter * random());
}

/** Retry delay after the `attempt`-th consecutive failure (1-based): 2 s doubling, at most 5 minutes. */
export function retryDelayMs(attempt: number): number {
  return Math.min(300_000, 2000 * 2 ** Math.max(0, attempt - 1));
}
