import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../util/clock.js';
import { silentLogger } from '../../util/logger.js';
import { canTransition, PHASE_EDGES, transition } from './phases.js';
import { PodWorkers, type StepResult, type WorkerSteps } from './workers.js';

const pod = (uid: string, rv: string): V1Pod => ({ metadata: { uid, name: uid, namespace: 'default', resourceVersion: rv } });

function harness() {
  const log: string[] = [];
  let active = 0;
  let maxActive = 0;
  const gates: (() => void)[] = [];
  const step = (name: string, res: StepResult = {}) => async (p: V1Pod, removed: boolean): Promise<StepResult> => {
    active++;
    maxActive = Math.max(maxActive, active);
    log.push(`${name}:${p.metadata?.resourceVersion}${removed ? ':removed' : ''}`);
    await new Promise<void>((r) => gates.push(r));
    active--;
    return res;
  };
  const steps: WorkerSteps = { sync: step('sync'), terminating: step('terminating', { advance: true }), terminated: step('terminated') };
  const clock = new FakeClock();
  const workers = new PodWorkers({ steps, clock, logger: silentLogger() });
  const release = async (): Promise<void> => {
    for (let idle = 0; idle < 5; ) {
      await new Promise((r) => setImmediate(r));
      const g = gates.shift();
      if (g === undefined) idle++;
      else {
        idle = 0;
        g();
      }
    }
  };
  return { log, workers, release, maxActive: () => maxActive, steps, clock };
}

describe('PodWorkers', () => {
  it('serializes steps per pod and syncs only the latest pending version', async () => {
    const h = harness();
    h.workers.update(pod('u', '1'));
    h.workers.update(pod('u', '2'));
    h.workers.update(pod('u', '3'));
    await h.release();
    await h.workers.settled();
    expect(h.log).toEqual(['sync:1', 'sync:3']);
    expect(h.maxActive()).toBe(1);
  });

  it('moves sync → terminating → terminated on removal and forgets the pod', async () => {
    const h = harness();
    h.steps.sync = async (_p, removed) => ({ advance: removed });
    let forgotten = '';
    h.steps.forgotten = (uid) => (forgotten = uid);
    h.workers.update(pod('u', '1'));
    await h.release();
    await h.workers.settled();
    h.workers.update(pod('u', '2'), true);
    await h.release();
    await h.workers.settled();
    expect(h.log).toEqual(['terminating:2:removed', 'terminated:2:removed']);
    expect(forgotten).toBe('u');
    expect(h.workers.phase('u')).toBeUndefined();
  });

  it('never goes back: an update after removal is ignored while terminating', async () => {
    const h = harness();
    h.steps.sync = async (_p, removed) => ({ advance: removed });
    h.workers.update(pod('u', '1'), true);
    h.workers.update(pod('u', '2'));
    await h.release();
    await h.workers.settled();
    expect(h.log.every((l) => l.endsWith(':removed'))).toBe(true);
  });

  it('requeues after the requested delay on the clock, and retries failed steps', async () => {
    const h = harness();
    let n = 0;
    h.steps.sync = async () => {
      n++;
      if (n === 1) throw new Error('boom');
      return { requeueAfterMs: 5000 };
    };
    h.workers.update(pod('u', '1'));
    await h.workers.settled();
    expect(n).toBe(1);
    h.clock.advance(9_999);
    await h.workers.settled();
    expect(n).toBe(1);
    h.clock.advance(1);
    await h.workers.settled();
    expect(n).toBe(2);
    h.clock.advance(5000);
    await h.workers.settled();
    expect(n).toBe(3);
  });
});

describe('phase edges', () => {
  it('declares only forward transitions', () => {
    expect(PHASE_EDGES).toEqual({ sync: ['terminating'], terminating: ['terminated'], terminated: [] });
    expect(canTransition('terminated', 'sync')).toBe(false);
    expect(() => transition('terminating', 'sync')).toThrow(/illegal/);
  });
});
