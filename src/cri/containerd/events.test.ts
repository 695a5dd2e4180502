import { describe, expect, it } from 'vitest';
import { FakeClock, silentLogger } from '../../util/index.js';
import type { ContainerEvent } from '../types.js';
import { EventTracker, type ListedObject } from './events.js';

function setup(): { tracker: EventTracker; events: string[]; set: (objs: ListedObject[]) => void; clock: FakeClock } {
  let listed: ListedObject[] = [];
  const events: string[] = [];
  const clock = new FakeClock();
  const tracker = new EventTracker({
    list: async () => listed,
    onEvent: (e: ContainerEvent) => events.push(`${e.type} ${e.containerId}${e.isSandbox ? ' (sandbox)' : ''} in ${e.podSandboxId}`),
    logger: silentLogger(),
    clock,
    intervalMs: 1000,
  });
  return { tracker, events, clock, set: (objs) => (listed = objs) };
}

const flush = (): Promise<void> => new Promise((r) => setImmediate(r));
const sb = (phase: 0 | 1 | 2): ListedObject => ({ id: 's1', podSandboxId: 's1', isSandbox: true, phase });
const ctr = (id: string, phase: 0 | 1 | 2): ListedObject => ({ id, podSandboxId: 's1', isSandbox: false, phase });

describe('EventTracker', () => {
  it('learns the initial state silently, then reports transitions in order, filling skipped steps', async () => {
    const { tracker, events, set } = setup();
    tracker.start();
    set([sb(1), ctr('old', 1)]);
    await tracker.step();
    expect(events).toEqual([]);
    set([sb(1), ctr('old', 2), ctr('new', 1)]);
    await tracker.step();
    expect(events).toEqual(['stopped old in s1', 'created new in s1', 'started new in s1']);
    events.length = 0;
    set([sb(2)]);
    await tracker.step();
    expect(events).toEqual(['stopped s1 (sandbox) in s1', 'deleted old in s1', 'stopped new in s1', 'deleted new in s1']);
  });

  it('reports local calls at once and does not repeat them when a poll sees the same state', async () => {
    const { tracker, events, set } = setup();
    tracker.start();
    await tracker.step();
    tracker.report({ id: 'c', podSandboxId: 's1', isSandbox: false, phase: 0 });
    tracker.report({ id: 'c', podSandboxId: 's1', isSandbox: false, phase: 1 });
    set([ctr('c', 1)]);
    await tracker.step();
    tracker.report({ id: 'c', podSandboxId: 's1', isSandbox: false, phase: 'deleted' });
    expect(events).toEqual(['created c in s1', 'started c in s1', 'stopped c in s1', 'deleted c in s1']);
  });

  it('does not resurrect or delete objects changed locally while a poll was in flight', async () => {
    const { tracker, events, set } = setup();
    tracker.start();
    await tracker.step();
    set([ctr('gone', 1)]); // a list taken before 'gone' was removed and before 'fresh' was created
    const poll = tracker.step();
    tracker.report({ id: 'fresh', podSandboxId: 's1', isSandbox: false, phase: 0 });
    await poll;
    expect(events).toEqual(['created fresh in s1', 'created gone in s1', 'started gone in s1']);
    events.length = 0;
    tracker.report({ id: 'gone', podSandboxId: 's1', isSandbox: false, phase: 'deleted' });
    set([ctr('gone', 1), ctr('fresh', 0)]); // stale: still lists the deleted one
    await tracker.step();
    expect(events).toEqual(['stopped gone in s1', 'deleted gone in s1']);
  });

  it('ignores reports while stopped and polls on its timer while started', async () => {
    const { tracker, events, set, clock } = setup();
    tracker.report({ id: 'x', podSandboxId: 's1', isSandbox: false, phase: 0 });
    expect(events).toEqual([]);
    tracker.start();
    clock.advance(0); // first poll: learns the (empty) state
    await flush();
    set([ctr('y', 1)]);
    clock.advance(999);
    await flush();
    expect(events).toEqual([]);
    clock.advance(1);
    await flush();
    expect(events).toEqual(['created y in s1', 'started y in s1']);
    tracker.stop();
    expect(tracker.containersOf('s1')).toEqual([]);
  });

  it('lists the known containers of a sandbox', async () => {
    const { tracker, set } = setup();
    tracker.start();
    set([sb(1), ctr('a', 1), ctr('b', 0)]);
    await tracker.step();
    expect(tracker.containersOf('s1').sort()).toEqual(['a', 'b']);
  });
});
