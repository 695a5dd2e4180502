import { describe, expect, it } from 'vitest';
import { retryDelayMs, rotationDeadline } from './schedule.js';

describe('rotation deadline', () => {
  const nb = Date.UTC(2026, 0, 1);
  const year = 365 * 86_400_000;
  it('is between 70% and 84% of the lifetime after notBefore (0.7 × total, jittered by up to 20% of that)', () => {
    expect(rotationDeadline(nb, nb + year, () => 0)).toBe(nb + Math.round(0.7 * year));
    expect(rotationDeadline(nb, nb + year, () => 0.5)).toBe(nb + Math.round(0.77 * year));
    const hi = rotationDeadline(nb, nb + year, () => 0.999999);
    expect(hi).toBeLessThan(nb + 0.84 * year);
    expect(hi).toBeGreaterThan(nb + 0.8399 * year);
  });
  it('takes another policy (tests: a short rotation after issue)', () => {
    // a 600 s certificate backdated 5 minutes by the signer: total 900 s; 0.36 × 900 s = 324 s = 24 s after issue
    expect(rotationDeadline(nb, nb + 900_000, () => 0.9, { baseFraction: 0.36, jitter: 0 })).toBe(nb + 324_000);
  });
  it('retries failures after 2 s doubling up to 5 minutes', () => {
    expect([1, 2, 3, 4, 8, 9, 20].map(retryDelayMs)).toEqual([2000, 4000, 8000, 16000, 256000, 300000, 300000]);
  });
});
