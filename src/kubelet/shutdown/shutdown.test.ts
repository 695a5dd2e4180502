import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../util/clock.js';
import { silentLogger } from '../../util/logger.js';
import { groupPods, shutdownGroups, SYSTEM_CRITICAL_PRIORITY } from './groups.js';
import { FakeLogind } from './logind.js';
import { NodeShutdownManager, SHUTDOWN_MESSAGE } from './manager.js';

const pod = (name: string, priority?: number, grace = 30): V1Pod => ({ metadata: { name, uid: name }, spec: { priority, terminationGracePeriodSeconds: grace, containers: [] } });

describe('shutdown groups', () => {
  it('splits regular and critical pods from the two grace periods, or follows byPodPriority', () => {
    const g = shutdownGroups(30, 10, []);
    expect(g).toEqual([{ priority: 0, shutdownGracePeriodSeconds: 20 }, { priority: SYSTEM_CRITICAL_PRIORITY, shutdownGracePeriodSeconds: 10 }]);
    expect(groupPods([pod('a'), pod('crit', SYSTEM_CRITICAL_PRIORITY), pod('neg', -5)], g).map((x) => x.map((p) => p.metadata?.name))).toEqual([['a', 'neg'], ['crit']]);
    expect(shutdownGroups(0, 0, [])).toEqual([]);
    expect(shutdownGroups(0, 0, [{ priority: 100, shutdownGracePeriodSeconds: 5 }, { priority: 0, shutdownGracePeriodSeconds: 7 }]).map((x) => x.priority)).toEqual([0, 100]);
  });
});

describe('NodeShutdownManager', () => {
  const setup = (delayMaxMs = 60_000) => {
    const logind = new FakeLogind();
    logind.delayMaxMs = delayMaxMs;
    const clock = new FakeClock();
    const pods = [pod('web'), pod('crit', SYSTEM_CRITICAL_PRIORITY, 60)];
    const killed: string[] = [];
    const done = new Set<string>();
    const events: string[] = [];
    const m = new NodeShutdownManager({
      logind,
      groups: shutdownGroups(30, 10, []),
      nodeName: 'n1',
      activePods: () => pods.filter((p) => !killed.includes(p.metadata?.name ?? '')),
      killPod: (p, f) => {
        killed.push(`${p.metadata?.name}:${f.gracePeriodSeconds}:${f.reason}:${f.message}`);
        expect(f.disruptionTarget).toEqual({ reason: 'TerminationByKubelet', message: SHUTDOWN_MESSAGE });
        done.add(p.metadata?.uid ?? '');
      },
      podTerminated: (uid) => done.has(uid),
      recorder: { event: (_r, type, reason, message) => events.push(`${type} ${reason} ${message}`) },
      clock,
      logger: silentLogger(),
    });
    return { logind, m, killed, events };
  };

  it('holds the lock, terminates regular pods before critical ones with capped grace, then releases it', async () => {
    const { logind, m, killed, events } = setup();
    await m.start();
    expect(logind.locked).toBe(true);
    expect(m.admit()).toBeUndefined();
    logind.prepare(true);
    expect(m.readinessError()).toBe('node is shutting down');
    expect(m.admit()).toEqual({ reason: 'NodeShutdown', message: 'Pod was rejected as the node is shutting down.' });
    await m.settled();
    expect(killed).toEqual([`web:20:Terminated:${SHUTDOWN_MESSAGE}`, `crit:10:Terminated:${SHUTDOWN_MESSAGE}`]);
    expect(events).toEqual(['Normal Shutdown Shutdown manager detected shutdown event']);
    expect(logind.locked).toBe(false);
    logind.prepare(false);
    expect(m.readinessError()).toBeUndefined();
    await new Promise((r) => setImmediate(r));
    expect(logind.locked).toBe(true);
  });

  it('refuses to start when logind allows less delay than the grace periods', async () => {
    const { m } = setup(5_000);
    await expect(m.start()).rejects.toThrow(/InhibitDelayMaxSec \(5s\) is less than the requested shutdown grace period \(30s\)/);
  });
});
