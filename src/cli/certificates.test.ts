import { describe, expect, it } from 'vitest';
import { certificateTuning } from './certificates.js';

describe('certificate tuning from the environment (tests only)', () => {
  it('is upstream without variables', () => {
    expect(certificateTuning({})).toEqual({ expirationSeconds: undefined, policy: { baseFraction: 0.7, jitter: 0.2 } });
  });
  it('reads the requested lifetime, the fraction and a zero jitter', () => {
    expect(certificateTuning({ NODELET_CERT_EXPIRATION_SECONDS: '600', NODELET_CERT_ROTATION_FRACTION: '0.36', NODELET_CERT_ROTATION_JITTER: '0' })).toEqual({
      expirationSeconds: 600,
      policy: { baseFraction: 0.36, jitter: 0 },
    });
  });
  it('refuses nonsense with the variable name', () => {
    expect(() => certificateTuning({ NODELET_CERT_EXPIRATION_SECONDS: 'soon' })).toThrow(/NODELET_CERT_EXPIRATION_SECONDS: expected a positive number/);
    expect(() => certificateTuning({ NODELET_CERT_ROTATION_FRACTION: '1.5' })).toThrow(/must be below 1/);
  });
});
