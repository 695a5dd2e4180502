import { describe, expect, it } from 'vitest';
import { containerConfig, sandboxConfig } from '../../cri/contract-fixtures.js';
import { FakeRuntime } from '../../cri/fake/index.js';
import { LABELS } from '../../cri/types.js';
import { FakeClock } from '../../util/clock.js';
import { silentLogger } from '../../util/logger.js';
import { ContainerGcManager } from './manager.js';
import { DEFAULT_CONTAINER_GC_POLICY, selectContainers, selectSandboxes, type GcContainer, type GcSandbox, type PodRemoval } from './policy.js';

const live: PodRemoval = { content: false, runtime: false };
const dead = (id: string, o: Partial<GcContainer> = {}): GcContainer => ({
  id,
  podUID: 'p1',
  name: 'c',
  podSandboxId: 's1',
  state: 'exited',
  createdAt: Number(id.replace(/\D/g, '')) || 0,
  ...o,
});
const ids = (cs: { id: string }[]): string[] => cs.map((c) => c.id);
const select = (containers: GcContainer[], o: Partial<Parameters<typeof selectContainers>[0]> = {}) =>
  selectContainers({
    containers,
    policy: DEFAULT_CONTAINER_GC_POLICY,
    now: 1_000_000,
    allSourcesReady: true,
    evictNonDeletedPods: false,
    podRemoval: () => live,
    ...o,
  });

describe('container GC policy (pure, upstream kuberuntime_gc)', () => {
  it('keeps the newest dead instance per (pod, container name) by default, removing the others oldest first', () => {
    const cs = [dead('c3'), dead('c1'), dead('c2'), dead('d1', { name: 'd' }), dead('e1', { podUID: 'p2' }), dead('r9', { state: 'running' })];
    expect(ids(select(cs))).toEqual(['c1', 'c2']);
  });

  it('counts created and unknown containers as dead, never running ones', () => {
    const cs = [dead('c1', { state: 'unknown' }), dead('c2', { state: 'created' }), dead('c3', { state: 'running' })];
    expect(select(cs).map((c) => `${c.id}:${c.state}`)).toEqual(['c1:unknown']);
  });

  it('honours maxPerPodContainer (negative = no limit, 0 = none kept)', () => {
    const cs = [dead('c1'), dead('c2'), dead('c3'), dead('c4')];
    expect(ids(select(cs, { policy: { minAgeMs: 0, maxPerPodContainer: 2, maxContainers: -1 } }))).toEqual(['c1', 'c2']);
    expect(ids(select(cs, { policy: { minAgeMs: 0, maxPerPodContainer: -1, maxContainers: -1 } }))).toEqual([]);
    expect(ids(select(cs, { policy: { minAgeMs: 0, maxPerPodContainer: 0, maxContainers: -1 } }))).toEqual(['c1', 'c2', 'c3', 'c4']);
  });

  it('leaves containers younger than minAge alone (they count for nothing)', () => {
    const cs = [dead('c10'), dead('c20'), dead('c999990')];
    // now 1_000_000, minAge 100: c999990 was created 10 ms ago → not evictable; of the rest, the newest (c20) stays.
    expect(ids(select(cs, { policy: { minAgeMs: 100, maxPerPodContainer: 1, maxContainers: -1 } }))).toEqual(['c10']);
    expect(ids(select(cs, { policy: { minAgeMs: 2_000_000, maxPerPodContainer: 0, maxContainers: -1 } }))).toEqual([]);
  });

  it('enforces maxContainers: an equal share per unit (at least 1), then the oldest overall', () => {
    const cs = [
      dead('a1', { name: 'a' }), dead('a2', { name: 'a' }), dead('a3', { name: 'a' }),
      dead('b4', { name: 'b' }), dead('b5', { name: 'b' }),
      dead('x6', { podUID: 'p2', name: 'x' }),
    ];
    const policy = { minAgeMs: 0, maxPerPodContainer: -1, maxContainers: 3 };
    // 3 units, share 1 each → a1, a2, b4 go; 3 left = maxContainers.
    expect(ids(select(cs, { policy })).sort()).toEqual(['a1', 'a2', 'b4']);
    // maxContainers 1: share max(1, 0) = 1 each, then the two oldest of the three survivors, oldest first (x6 stays).
    const r = ids(select(cs, { policy: { ...policy, maxContainers: 1 } }));
    expect(r.slice(-2)).toEqual(['a3', 'b5']);
    expect(r.sort()).toEqual(['a1', 'a2', 'a3', 'b4', 'b5']);
    expect(ids(select([], { policy: { ...policy, maxContainers: 0 } }))).toEqual([]);
  });

  it('removes every dead container of pods whose content should go, only once all sources are ready', () => {
    const cs = [dead('c1'), dead('c2'), dead('e1', { podUID: 'gone' }), dead('e2', { podUID: 'gone' })];
    const podRemoval = (uid: string): PodRemoval => (uid === 'gone' ? { content: true, runtime: true } : live);
    expect(ids(select(cs, { podRemoval })).sort()).toEqual(['c1', 'e1', 'e2']);
    expect(ids(select(cs, { podRemoval, allSourcesReady: false })).sort()).toEqual(['c1', 'e1']);
  });

  it('with evictNonDeletedPods (eviction reclaim) also removes all dead containers of terminated pods', () => {
    const cs = [dead('c1'), dead('t1', { podUID: 'term' }), dead('t2', { podUID: 'term' })];
    const podRemoval = (uid: string): PodRemoval => (uid === 'term' ? { content: false, runtime: true } : live);
    expect(ids(select(cs, { podRemoval })).sort()).toEqual(['t1']);
    expect(ids(select(cs, { podRemoval, evictNonDeletedPods: true })).sort()).toEqual(['t1', 't2']);
  });

  it('sandboxes: keeps the newest of a live pod, removes not-ready empty older ones, all removable ones of gone pods', () => {
    const sb = (id: string, o: Partial<GcSandbox> = {}): GcSandbox => ({ id, podUID: 'p1', ready: false, createdAt: Number(id.replace(/\D/g, '')), ...o });
    const sandboxes = [sb('s1'), sb('s2'), sb('s3', { ready: true }), sb('s4'), sb('g1', { podUID: 'gone' }), sb('g2', { podUID: 'gone' }), sb('g3', { podUID: 'gone', ready: true })];
    const containers = [{ podSandboxId: 's2' }];
    const podRemoval = (uid: string): PodRemoval => (uid === 'gone' ? { content: true, runtime: true } : live);
    // p1: newest s4 kept; s3 ready, s2 has a container → only s1. gone: g1, g2 (g3 is ready).
    expect(selectSandboxes({ sandboxes, containers, evictNonDeletedPods: false, podRemoval })).toEqual(['s1', 'g1', 'g2']);
    const term = (uid: string): PodRemoval => (uid === 'p1' ? { content: false, runtime: true } : live);
    expect(selectSandboxes({ sandboxes: sandboxes.slice(0, 4), containers, evictNonDeletedPods: false, podRemoval: term })).toEqual(['s1']);
    expect(selectSandboxes({ sandboxes: sandboxes.slice(0, 4), containers, evictNonDeletedPods: true, podRemoval: term })).toEqual(['s1', 's4']);
  });
});

describe('ContainerGcManager (FakeRuntime, FakeClock)', () => {
  const owner = { [LABELS.managedBy]: 'true', 'io.nodelet.node': 'n1' };

  async function setup() {
    const clock = new FakeClock();
    const runtime = new FakeRuntime({ clock });
    const sb = sandboxConfig('web', owner);
    const uid = sb.metadata.uid;
    const labels = { ...owner, [LABELS.podUID]: uid };
    const sandboxId = await runtime.runPodSandbox({ ...sb, labels: { ...sb.labels, ...labels } });
    const crash = async (attempt: number): Promise<string> => {
      const id = await runtime.createContainer(sandboxId, containerConfig('app', sb, labels, { metadata: { name: 'app', attempt } }), sb);
      await runtime.startContainer(id);
      runtime.exitContainer(id, 1);
      clock.advance(1000);
      return id;
    };
    const foreign = sandboxConfig('other', {});
    const foreignSb = await runtime.runPodSandbox(foreign);
    const foreignC = await runtime.createContainer(foreignSb, containerConfig('x', foreign, {}), foreign);
    await runtime.startContainer(foreignC);
    runtime.exitContainer(foreignC, 1);
    return { clock, runtime, uid, sandboxId, crash, foreignC };
  }

  it('removes dead instances beyond the newest, never another agent\'s containers, and honours minAge', async () => {
    const { clock, runtime, crash, foreignC } = await setup();
    const a = await crash(0);
    const b = await crash(1);
    const c = await crash(2);
    const gc = new ContainerGcManager({ runtime, owner, policy: { minAgeMs: 1500, maxPerPodContainer: 1, maxContainers: -1 }, clock, logger: silentLogger() });
    // minAge 1.5 s: c (created 1 s ago) is not evictable yet, so b is the newest evictable one and stays.
    expect(await gc.garbageCollect()).toEqual({ containers: 1, sandboxes: 0 });
    let left = (await runtime.listContainers()).map((x) => x.id);
    expect(left).not.toContain(a);
    expect(left).toEqual(expect.arrayContaining([b, c, foreignC]));
    clock.advance(1000);
    expect(await gc.garbageCollect()).toEqual({ containers: 1, sandboxes: 0 });
    left = (await runtime.listContainers()).map((x) => x.id);
    expect(left.sort()).toEqual([c, foreignC].sort());
  });

  it('removes an evicted pod\'s containers and sandbox once told by the pod state, and only after sources are ready', async () => {
    const { clock, runtime, uid, sandboxId, crash } = await setup();
    await crash(0);
    await runtime.stopPodSandbox(sandboxId);
    const gc = new ContainerGcManager({ runtime, owner, policy: DEFAULT_CONTAINER_GC_POLICY, clock, logger: silentLogger() });
    let ready = false;
    gc.setPodState({ allSourcesReady: () => ready, podRemoval: (u) => (u === uid ? { content: true, runtime: true } : live) });
    // Sources not ready: the container stays (the newest dead one), so its sandbox stays too.
    expect(await gc.garbageCollect()).toEqual({ containers: 0, sandboxes: 0 });
    ready = true;
    expect(await gc.garbageCollect()).toEqual({ containers: 1, sandboxes: 1 });
    expect((await runtime.listPodSandboxes({ labelSelector: owner })).length).toBe(0);
  });

  it('deleteAllUnusedContainers removes the dead containers of terminated pods; garbageCollect does not', async () => {
    const { clock, runtime, uid, crash } = await setup();
    await crash(0);
    const gc = new ContainerGcManager({ runtime, owner, policy: DEFAULT_CONTAINER_GC_POLICY, clock, logger: silentLogger() });
    gc.setPodState({ allSourcesReady: () => true, podRemoval: (u) => (u === uid ? { content: false, runtime: true } : live) });
    expect((await gc.garbageCollect()).containers).toBe(0);
    expect((await gc.deleteAllUnusedContainers()).containers).toBe(1);
  });

  it('refuses a negative minAge and reports a listing failure as CONTAINER_GC_FAILED', async () => {
    const { clock, runtime } = await setup();
    expect(() => new ContainerGcManager({ runtime, owner, policy: { minAgeMs: -1, maxPerPodContainer: 1, maxContainers: -1 }, clock, logger: silentLogger() })).toThrow(/invalid minimum garbage collection age/);
    const broken = { ...runtime, listContainers: () => Promise.reject(new Error('engine down')), listPodSandboxes: () => runtime.listPodSandboxes() } as unknown as FakeRuntime;
    const gc = new ContainerGcManager({ runtime: broken, owner, policy: DEFAULT_CONTAINER_GC_POLICY, clock, logger: silentLogger() });
    await expect(gc.garbageCollect()).rejects.toMatchObject({ code: 'CONTAINER_GC_FAILED', message: expect.stringContaining('engine down') });
  });
});
