import { describe, expect, it } from 'vitest';
import { canonicalQuantity } from './quantity.js';

describe('canonicalQuantity (upstream resource.Quantity String())', () => {
  it.each([
    ['0.5', '500m'],
    ['1000m', '1'],
    ['1500m', '1500m'],
    ['100000m', '100'],
    ['1000', '1k'],
    ['1', '1'],
    [2, '2'],
    [0.25, '250m'],
    ['128Mi', '128Mi'],
    ['2048Ki', '2Mi'],
    ['1.5Gi', '1536Mi'],
    ['1536', '1536'],
    ['1e3', '1e3'],
    ['0', '0'],
    ['0.0001', '100u'],
    ['-1', '-1'],
    ['110', '110'],
    ['24000000Ki', '24000000Ki'],
  ])('%s → %s', (input, out) => {
    expect(canonicalQuantity(input)).toBe(out);
  });

  it('rejects what is not a quantity', () => {
    for (const bad of ['abc', '1Qi', '', '1.2.3', true]) expect(canonicalQuantity(bad as string)).toBeUndefined();
  });
});
