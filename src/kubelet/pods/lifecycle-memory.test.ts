import { afterEach, describe, expect, it } from 'vitest';
import { ctr, mkPod, world, type World } from './harness.test-util.js';

let w: World | undefined;
afterEach(async () => {
  await w?.lc.stop();
  w = undefined;
});

describe('per-pod state is one record, removed with the pod; caches are bounded', () => {
  it('after churn (running, crash-looping, rejected pods) every per-pod structure is empty again, back-offs age out', async () => {
    w = await world({ maxPods: 4 });
    for (let round = 0; round < 3; round++) {
      const names = ['run', 'crash', 'done', 'extra-1', 'extra-2'].map((n) => `${n}-${round}`);
      w.api.apply(mkPod(names[0]!, { terminationGracePeriodSeconds: 1, containers: [ctr('a')] }));
      w.api.apply(mkPod(names[1]!, { terminationGracePeriodSeconds: 1, containers: [ctr('c', 'exit 1')] }));
      w.api.apply(mkPod(names[2]!, { restartPolicy: 'Never', containers: [ctr('d', 'exit 0')] }));
      w.api.apply(mkPod(names[3]!, { terminationGracePeriodSeconds: 1, containers: [ctr('e')] }));
      w.api.apply(mkPod(names[4]!, { containers: [ctr('f')] })); // beyond maxPods: rejected (OutOfpods)
      await w.advance(30_000, 5_000);
      expect(w.lc.memoryStats().records).toBe(5);
      for (const n of names) w.api.markDeleted('default', n, 1, w.clock.now());
      await w.advance(10_000, 1_000);
      for (const n of names) w.api.remove('default', n);
      await w.advance(5_000, 1_000);
    }
    expect(w.lc.memoryStats()).toMatchObject({ records: 0, statuses: 0, workers: 0 });
    expect(w.lc.memoryStats().backoffEntries).toBeGreaterThan(0);
    await w.advance(11 * 60_000, 60_000);
    expect(w.lc.memoryStats().backoffEntries).toBe(0);
  });
});
