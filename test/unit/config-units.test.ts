import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration, parseThreshold } from '../../src/config/index.js';

describe('Go durations', () => {
  it('parses upstream duration strings into milliseconds', () => {
    expect(parseDuration('10s')).toBe(10_000);
    expect(parseDuration('1m0s')).toBe(60_000);
    expect(parseDuration('1m30s')).toBe(90_000);
    expect(parseDuration('2h45m')).toBe(9_900_000);
    expect(parseDuration('300ms')).toBe(300);
    expect(parseDuration('1.5s')).toBe(1500);
    expect(parseDuration('0')).toBe(0);
    expect(parseDuration('500us')).toBe(0.5);
  });

  it('rejects what Go rejects (and negatives)', () => {
    for (const bad of ['', '10', 's', '10x', '-1s', '1s ', '1d', 'ten seconds']) expect(parseDuration(bad), bad).toBeUndefined();
  });

  it('formats like Go', () => {
    expect([0, 500, 10_000, 60_000, 90_000, 3_600_000].map(formatDuration)).toEqual(['0s', '500ms', '10s', '1m0s', '1m30s', '1h0m0s']);
  });
});

describe('thresholds', () => {
  it('parses eviction thresholds as quantities or percentages', () => {
    expect(parseThreshold('100Mi')).toEqual({ kind: 'quantity', value: 100 * 2 ** 20 });
    expect(parseThreshold('10%')).toEqual({ kind: 'percent', value: 10 });
    expect(parseThreshold('101%')).toBeUndefined();
    expect(parseThreshold('%')).toBeUndefined();
    expect(parseThreshold('-1Mi')).toBeUndefined();
  });
});
