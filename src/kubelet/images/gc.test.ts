import { describe, expect, it } from 'vitest';
import { containerConfig, sandboxConfig } from '../../cri/contract-fixtures.js';
import { FakeRuntime } from '../../cri/fake/index.js';
import { PAUSE_IMAGE } from '../../cri/images.js';
import type { EventRecorder } from '../../api/types.js';
import { FakeClock } from '../../util/clock.js';
import { silentLogger } from '../../util/logger.js';
import { ImageGcManager } from './gc.js';
import { detectImages, evictionOrder, planImageGc, type ImageGcPolicy, type ImageRecord } from './gc-policy.js';

const MiB = 2 ** 20;
const policy: ImageGcPolicy = { highThresholdPercent: 85, lowThresholdPercent: 80, minAgeMs: 120_000, maxAgeMs: 0 };
const none = { ids: new Set<string>(), refs: new Set<string>() };
const rec = (id: string, o: Partial<ImageRecord> = {}): ImageRecord => ({
  id,
  repoTags: [`img/${id}:1`],
  size: 10 * MiB,
  firstDetectedMs: 0,
  lastUsedMs: 0,
  pinned: false,
  ...o,
});

describe('image GC policy (pure)', () => {
  it('records first detection once and last use whenever a container uses the image', () => {
    const img = { id: 'a', repoTags: ['a:1'], repoDigests: [], size: 5, user: '', stopSignal: '' };
    const r1 = detectImages(new Map(), [img], none, new Set(), 1000);
    expect(r1.get('a')).toMatchObject({ firstDetectedMs: 1000, lastUsedMs: 0 });
    const r2 = detectImages(r1, [img], { ids: new Set(), refs: new Set(['a:1']) }, new Set(), 5000);
    expect(r2.get('a')).toMatchObject({ firstDetectedMs: 1000, lastUsedMs: 5000 });
    expect(detectImages(r2, [], none, new Set(), 6000).size).toBe(0);
    expect(detectImages(new Map(), [img], none, new Set(['a:1']), 1).get('a')?.pinned).toBe(true);
  });

  it('orders unused unpinned images least recently used first, then earliest detected', () => {
    const order = evictionOrder(
      [rec('new', { lastUsedMs: 50 }), rec('old', { lastUsedMs: 10 }), rec('p', { pinned: true }), rec('u'), rec('u0', { firstDetectedMs: -5 })],
      { ids: new Set(['u']), refs: new Set() },
    );
    expect(order.map((r) => r.id)).toEqual(['u0', 'old', 'new']);
  });

  it('does nothing below the high threshold', () => {
    const plan = planImageGc({ records: [rec('a')], inUse: none, fs: { capacityBytes: 100 * MiB, availableBytes: 16 * MiB }, policy, nowMs: 1e9, startedMs: 0 });
    expect(plan).toMatchObject({ usagePercent: 84, bytesToFree: 0, forSpace: [] });
  });

  it('frees down to the low threshold, oldest first, skipping images younger than minAge or used now', () => {
    const now = 1_000_000;
    const records = [
      rec('young', { firstDetectedMs: now - 60_000 }),
      rec('used-now', { lastUsedMs: now }),
      rec('a', { lastUsedMs: 100 }),
      rec('b', { lastUsedMs: 200 }),
      rec('c', { lastUsedMs: 300 }),
    ];
    // 90 % used of 100 MiB: free 20 MiB - 10 MiB = 10 MiB → one 10 MiB image.
    const plan = planImageGc({ records, inUse: none, fs: { capacityBytes: 100 * MiB, availableBytes: 10 * MiB }, policy, nowMs: now, startedMs: 0 });
    expect(plan.usagePercent).toBe(90);
    expect(plan.bytesToFree).toBe(10 * MiB);
    expect(plan.forSpace.map((r) => r.id)).toEqual(['a']);
    const more = planImageGc({ records, inUse: none, fs: { capacityBytes: 100 * MiB, availableBytes: 0 }, policy, nowMs: now, startedMs: 0 });
    expect(more.forSpace.map((r) => r.id)).toEqual(['a', 'b']);
    expect(more.bytesFreed).toBe(more.bytesToFree);
    const short = planImageGc({ records: records.slice(0, 3), inUse: none, fs: { capacityBytes: 100 * MiB, availableBytes: 0 }, policy, nowMs: now, startedMs: 0 });
    expect(short.bytesFreed).toBeLessThan(short.bytesToFree);
  });

  it('expires images unused for longer than maxAge, but only once the agent has collected that long', () => {
    const p = { ...policy, maxAgeMs: 3_600_000 };
    const records = [rec('stale', { lastUsedMs: 0 }), rec('fresh', { lastUsedMs: 9_000_000 })];
    const fs = { capacityBytes: 100, availableBytes: 100 };
    expect(planImageGc({ records, inUse: none, fs, policy: p, nowMs: 10_000_000, startedMs: 9_000_000 }).expired).toEqual([]);
    expect(planImageGc({ records, inUse: none, fs, policy: p, nowMs: 10_000_000, startedMs: 0 }).expired.map((r) => r.id)).toEqual(['stale']);
  });

  it('refuses a zero-capacity filesystem', () => {
    expect(() => planImageGc({ records: [], inUse: none, fs: { capacityBytes: 0, availableBytes: 0 }, policy, nowMs: 0, startedMs: 0 })).toThrow(/invalid capacity 0/);
  });
});

describe('ImageGcManager (FakeRuntime)', () => {
  async function setup(fs: { capacityBytes: number; availableBytes: number }) {
    const clock = new FakeClock();
    const runtime = new FakeRuntime({ clock });
    runtime.addImage({ ref: PAUSE_IMAGE, size: 1 * MiB });
    for (const n of ['old1', 'old2', 'inuse', 'exited']) runtime.addImage({ ref: `localhost/gc/${n}:1`, size: 10 * MiB });
    const events: string[] = [];
    const recorder: EventRecorder = { event: (_r, type, reason, message) => events.push(`${type} ${reason} ${message}`) };
    const sb = sandboxConfig('p', {});
    const sandboxId = await runtime.runPodSandbox(sb);
    const running = await runtime.createContainer(sandboxId, containerConfig('c', sb, {}, { image: 'localhost/gc/inuse:1' }), sb);
    await runtime.startContainer(running);
    const exited = await runtime.createContainer(sandboxId, containerConfig('d', sb, {}, { image: 'localhost/gc/exited:1' }), sb);
    await runtime.startContainer(exited);
    runtime.exitContainer(exited, 1);
    const gc = new ImageGcManager({
      runtime,
      fsStats: async () => fs,
      policy,
      pinnedImages: [PAUSE_IMAGE],
      nodeName: 'n1',
      recorder,
      clock,
      logger: silentLogger(),
    });
    return { clock, runtime, gc, events };
  }

  it('never removes images of containers (running or exited) or the pinned infra image, and waits out minAge', async () => {
    const { clock, runtime, gc, events } = await setup({ capacityBytes: 100 * MiB, availableBytes: 0 });
    await expect(gc.garbageCollect()).rejects.toThrow(/only found 0 bytes eligible/);
    expect(events.some((e) => e.startsWith('Warning FreeDiskSpaceFailed Failed to garbage collect required amount of images'))).toBe(true);
    clock.advance(policy.minAgeMs + 1);
    const res = await gc.garbageCollect();
    expect(res.removed.map((r) => r.reason)).toEqual(['space', 'space', 'space']);
    const left = (await runtime.listImages()).flatMap((i) => i.repoTags).sort();
    expect(left).toEqual(['localhost/gc/exited:1', 'localhost/gc/inuse:1', PAUSE_IMAGE].sort());
  });

  it('stops at the low threshold', async () => {
    const { clock, runtime, gc } = await setup({ capacityBytes: 100 * MiB, availableBytes: 10 * MiB });
    await gc.detect();
    clock.advance(policy.minAgeMs + 1);
    const res = await gc.garbageCollect();
    // 10 MiB to free: the 1 MiB test image (detected first) and one 10 MiB image.
    expect(res.removed.map((r) => r.size)).toEqual([MiB, 10 * MiB]);
    expect(await runtime.listImages()).toHaveLength(4);
  });
});
