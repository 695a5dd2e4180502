import { describe, expect, it } from 'vitest';
import { hasCode } from './errors.js';
import { formatKi, formatMilliCPU, parseQuantity, parseQuantityOrThrow, quantityMilliValue, quantityValue } from './quantity.js';

describe('parseQuantity', () => {
  it('parses binary and decimal suffixes, millis and exponents', () => {
    expect(parseQuantity('100Mi')).toBe(100 * 2 ** 20);
    expect(parseQuantity('1Gi')).toBe(2 ** 30);
    expect(parseQuantity('1G')).toBe(1e9);
    expect(parseQuantity('500m')).toBe(0.5);
    expect(parseQuantity('2')).toBe(2);
    expect(parseQuantity('1e3')).toBe(1000);
    expect(parseQuantity('lots')).toBeUndefined();
    expect(parseQuantity('1Qi')).toBeUndefined();
  });

  it.each([
    ['500m', 0.5],
    ['1', 1],
    ['1.5', 1.5],
    ['64Mi', 64 * 2 ** 20],
    ['1Gi', 2 ** 30],
    ['1k', 1000],
    ['2M', 2e6],
    ['1e3', 1000],
    ['100n', 1e-7],
  ])('%s = %d', (q, v) => expect(parseQuantityOrThrow(q)).toBeCloseTo(v, 12));

  it('accepts numbers and treats absent or non-finite values as undefined', () => {
    expect(parseQuantity(3)).toBe(3);
    expect(parseQuantity(undefined)).toBeUndefined();
    expect(parseQuantity(null)).toBeUndefined();
    expect(parseQuantity(Number.NaN)).toBeUndefined();
  });
});

describe('parseQuantityOrThrow, quantityValue, quantityMilliValue', () => {
  it('Value and MilliValue round up', () => {
    expect(quantityMilliValue('0.1')).toBe(100);
    expect(quantityMilliValue('1n')).toBe(1);
    expect(quantityValue('1500m')).toBe(2);
  });

  it('treats an absent quantity as zero', () => {
    expect(parseQuantityOrThrow(undefined)).toBe(0);
    expect(quantityValue(null)).toBe(0);
  });

  it('rejects garbage naming the field', () => {
    expect(() => parseQuantityOrThrow('12 parsecs', 'spec.containers[0].resources.limits.memory')).toThrow(/limits\.memory/);
    let err: unknown;
    try {
      parseQuantityOrThrow(Number.POSITIVE_INFINITY, 'spec.x');
    } catch (e) {
      err = e;
    }
    expect(hasCode(err, 'INVALID')).toBe(true);
    expect((err as Error).message).toBe('spec.x: invalid quantity Infinity');
  });
});

describe('formatKi and formatMilliCPU', () => {
  it('formats memory in Ki and cpu in cores or millicores', () => {
    expect(formatKi(8 * 2 ** 30)).toBe('8388608Ki');
    expect(formatKi(-5)).toBe('0Ki');
    expect(formatMilliCPU(2000)).toBe('2');
    expect(formatMilliCPU(1500)).toBe('1500m');
  });
});
