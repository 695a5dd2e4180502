import { describe, expect, it } from 'vitest';
import { Limiter } from './limiter.js';

/** A promise the test resolves or rejects by hand. */
function deferred(): { promise: Promise<void>; resolve(): void; reject(err: Error): void } {
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('Limiter', () => {
  it('runs at most `limit` at a time, the waiters in arrival order, and frees a slot when a holder fails', async () => {
    const l = new Limiter(2);
    const gates = [deferred(), deferred(), deferred(), deferred()];
    const started: number[] = [];
    const runs = gates.map((g, i) =>
      l.run(async () => {
        started.push(i);
        await g.promise;
        return i;
      }),
    );
    await tick();
    expect(started).toEqual([0, 1]);
    expect([l.active, l.waiting]).toEqual([2, 2]);
    gates[1]?.reject(new Error('boom'));
    await expect(runs[1]).rejects.toThrow('boom');
    await tick();
    expect(started).toEqual([0, 1, 2]);
    // A newcomer does not overtake the waiter that is next in line.
    const late = l.run(async () => 'late');
    gates[0]?.resolve();
    await tick();
    expect(started).toEqual([0, 1, 2, 3]);
    gates[2]?.resolve();
    gates[3]?.resolve();
    expect(await Promise.all([runs[0], runs[2], runs[3], late])).toEqual([0, 2, 3, 'late']);
    expect([l.active, l.waiting]).toEqual([0, 0]);
  });

  it('rejects a limit below 1', () => {
    expect(() => new Limiter(0)).toThrow(RangeError);
    expect(() => new Limiter(Number.NaN)).toThrow(RangeError);
    expect(new Limiter(Infinity).active).toBe(0);
  });
});
