import { describe, expect, it } from 'vitest';
import { PooledRelay } from './read-pool.js';

describe('PooledRelay', () => {
  it('holds at most maxInFlight buffers: pauses the source there, resumes at half, reuses completed buffers', () => {
    const pending: (() => void)[] = [];
    const written: string[] = [];
    const relay = new PooledRelay({ sink: { write: (c, cb) => (written.push(c.toString()), pending.push(() => cb()), true) }, bufferSize: 8, maxInFlight: 4 });
    const calls: string[] = [];
    relay.attach({ pause: () => calls.push('pause'), resume: () => calls.push('resume') });
    const read = (text: string): void => {
      const b = relay.pool.take();
      b.write(text);
      relay.onRead(text.length, b);
    };
    for (const t of ['a', 'bb', 'ccc', 'dddd']) read(t);
    expect(calls).toEqual(['pause']);
    expect(relay.inFlight).toBe(4);
    pending.shift()?.();
    expect(calls).toEqual(['pause']); // 3 in flight: above half
    pending.shift()?.();
    expect(calls).toEqual(['pause', 'resume']);
    read('e');
    read('f');
    expect(relay.pool.created).toBe(4); // the two completed buffers were reused
    expect(written).toEqual(['a', 'bb', 'ccc', 'dddd', 'e', 'f']);
  });
});
