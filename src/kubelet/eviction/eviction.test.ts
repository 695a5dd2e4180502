import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { EventRecorder } from '../../api/types.js';
import { FakeClock } from '../../util/clock.js';
import { silentLogger } from '../../util/logger.js';
import { EvictionManager, type EvictionFailure } from './manager.js';
import { evictionMessage, formatBinarySI, rankForEviction, type PodUsage } from './rank.js';
import { buildThresholds, thresholdsMet, thresholdsMetGracePeriod, type Observations } from './thresholds.js';

const Mi = 2 ** 20;
const pod = (name: string, o: { request?: string; limit?: string; priority?: number; static?: boolean } = {}): V1Pod => ({
  metadata: { name, namespace: 'ns', uid: `uid-${name}`, annotations: o.static ? { 'kubernetes.io/config.source': 'file' } : {} },
  spec: {
    priority: o.priority,
    containers: [{ name: 'c', image: 'x', resources: { requests: o.request ? { memory: o.request } : undefined, limits: o.limit ? { memory: o.limit, ...(o.request ? {} : {}) } : undefined } }],
  },
});
const use = (name: string, mem: number): PodUsage => ({ uid: `uid-${name}`, memoryWorkingSet: mem, ephemeralBytes: 0, processes: 1, containers: [{ name: 'c', memoryWorkingSet: mem, ephemeralBytes: 0 }] });

describe('thresholds', () => {
  const [hard] = buildThresholds({ hard: { 'memory.available': { kind: 'quantity', value: 100 * Mi } }, soft: {}, softGracePeriodMs: {}, minReclaim: { 'memory.available': { kind: 'quantity', value: 50 * Mi } } });
  it('are met below the value, and held until value + minimum reclaim once met', () => {
    const obs = (avail: number): Observations => ({ 'memory.available': { available: avail * Mi, capacity: 1000 * Mi } });
    expect(thresholdsMet([hard!], obs(120))).toEqual([]);
    expect(thresholdsMet([hard!], obs(90))).toEqual([hard]);
    expect(thresholdsMet([hard!], obs(120), [hard!])).toEqual([hard]);
    expect(thresholdsMet([hard!], obs(151), [hard!])).toEqual([]);
  });
  it('soft thresholds need their grace period, and a soft threshold without one is refused', () => {
    const [soft] = buildThresholds({ hard: {}, soft: { 'nodefs.available': { kind: 'percent', value: 10 } }, softGracePeriodMs: { 'nodefs.available': 60_000 }, minReclaim: {} });
    const first = new Map();
    expect(thresholdsMetGracePeriod([soft!], first, 0)).toEqual([]);
    expect(thresholdsMetGracePeriod([soft!], first, 60_000)).toEqual([soft]);
    expect(thresholdsMetGracePeriod([], first, 70_000)).toEqual([]);
    expect(first.size).toBe(0);
    expect(() => buildThresholds({ hard: {}, soft: { 'memory.available': { kind: 'quantity', value: 1 } }, softGracePeriodMs: {}, minReclaim: {} })).toThrow(/no grace period/);
  });
});

describe('ranking and messages', () => {
  it('evicts pods above their requests first, then lower priority, then larger usage above request', () => {
    const pods = [pod('guaranteed', { request: '500Mi', limit: '500Mi' }), pod('be-small'), pod('be-big'), pod('be-important', { priority: 1000 })];
    const usages = new Map([['uid-guaranteed', use('guaranteed', 400 * Mi)], ['uid-be-small', use('be-small', 10 * Mi)], ['uid-be-big', use('be-big', 300 * Mi)], ['uid-be-important', use('be-important', 900 * Mi)]]);
    expect(rankForEviction(pods, usages, 'memory').map((p) => p.metadata?.name)).toEqual(['be-big', 'be-small', 'be-important', 'guaranteed']);
  });
  it('formats quantities and messages as upstream', () => {
    expect(formatBinarySI(100 * Mi)).toBe('100Mi');
    expect(formatBinarySI(104861696)).toBe('102404Ki');
    expect(formatBinarySI(1500)).toBe('1500');
    expect(evictionMessage({ pod: pod('p'), usage: use('p', 200 * Mi), resource: 'memory', thresholdQuantity: 100 * Mi, observation: { available: 50 * Mi, capacity: 1 } })).toBe(
      'The node was low on resource: memory. Threshold quantity: 100Mi, available: 50Mi. Container c was using 200Mi, request is 0, has larger consumption of memory. ',
    );
  });
});

describe('EvictionManager', () => {
  const setup = (available: number) => {
    const clock = new FakeClock();
    const evicted: [string, EvictionFailure][] = [];
    const events: string[] = [];
    const recorder: EventRecorder = { event: (_r, type, reason, message) => events.push(`${type} ${reason} ${message}`) };
    const state = { available, pods: [pod('static', { static: true }), pod('guaranteed', { request: '64Mi', limit: '64Mi' }), pod('hog')] };
    const m = new EvictionManager({
      thresholds: buildThresholds({ hard: { 'memory.available': { kind: 'quantity', value: 100 * Mi } }, soft: {}, softGracePeriodMs: {}, minReclaim: {} }),
      observer: {
        observe: async () => ({ 'memory.available': { available: state.available, capacity: 1000 * Mi } }),
        podUsage: async (pods) => new Map(pods.map((p) => [p.metadata?.uid ?? '', use(p.metadata?.name ?? '', p.metadata?.name === 'hog' ? 500 * Mi : 60 * Mi)])),
      },
      activePods: () => state.pods,
      evict: (p, f) => {
        evicted.push([p.metadata?.name ?? '', f]);
        state.pods = state.pods.filter((x) => x !== p);
      },
      transitionPeriodMs: 300_000,
      maxPodGracePeriodSeconds: 0,
      recorder,
      clock,
      logger: silentLogger(),
    });
    return { m, evicted, events, state, clock };
  };

  it('evicts one pod per step, the BestEffort hog before the Guaranteed pod, never the static pod', async () => {
    const { m, evicted, events, state } = setup(50 * Mi);
    expect((await m.synchronize())?.metadata?.name).toBe('hog');
    expect(evicted[0]?.[1]).toEqual({
      reason: 'Evicted',
      gracePeriodSeconds: 0,
      message: expect.stringContaining('Container c was using 500Mi, request is 0'),
      evicted: true,
      disruptionTarget: { reason: 'TerminationByKubelet', message: evicted[0]?.[1].message },
    });
    expect(events[0]).toMatch(/^Warning Evicted The node was low on resource: memory\. Threshold quantity: 100Mi, available: 50Mi\./);
    expect((await m.synchronize())?.metadata?.name).toBe('guaranteed');
    expect(await m.synchronize()).toBeUndefined();
    expect(state.pods.map((p) => p.metadata?.name)).toEqual(['static']);
  });

  it('keeps MemoryPressure for the transition period and refuses BestEffort pods meanwhile', async () => {
    const { m, state, clock } = setup(50 * Mi);
    await m.synchronize();
    state.available = 900 * Mi;
    await m.synchronize();
    expect([...m.conditions()]).toEqual(['MemoryPressure']);
    expect(m.admit(pod('new-be'))).toEqual({ reason: 'Evicted', message: 'The node had condition: [MemoryPressure]. ' });
    expect(m.admit(pod('new-burstable', { request: '10Mi' }))).toBeUndefined();
    expect(m.admit(pod('new-static', { static: true }))).toBeUndefined();
    clock.advance(300_001);
    expect(m.conditions().size).toBe(0);
    expect(m.admit(pod('new-be'))).toBeUndefined();
  });
});
