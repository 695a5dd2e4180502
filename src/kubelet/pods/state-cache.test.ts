import { beforeEach, describe, expect, it } from 'vitest';
import { containerConfig, sandboxConfig } from '../../cri/contract-fixtures.js';
import { FakeRuntime } from '../../cri/index.js';
import { FakeClock } from '../../util/clock.js';
import { ctr, mkPod, world } from './harness.test-util.js';
import { StateCachingRuntime } from './state-cache.js';
import { ownerLabels, readPodRuntimeState } from './state.js';

const OWNER = ownerLabels('node1');
const reads = (rt: FakeRuntime): number =>
  rt.calls.filter((c) => c.method === 'listContainers' || c.method === 'listPodSandboxes' || c.method === 'containerStatus' || c.method === 'podSandboxStatus').length;

describe('StateCachingRuntime', () => {
  let clock: FakeClock;
  let fake: FakeRuntime;
  let rt: StateCachingRuntime;
  let uid: string;
  let sandboxId: string;
  let containerId: string;

  beforeEach(async () => {
    clock = new FakeClock();
    fake = new FakeRuntime({ clock, honorStopTimeout: false });
    rt = new StateCachingRuntime(fake, { clock, maxAgeMs: 60_000 });
    const sb = sandboxConfig('web', OWNER);
    uid = sb.metadata.uid;
    sandboxId = await rt.runPodSandbox(sb);
    containerId = await rt.createContainer(sandboxId, containerConfig('app', sb, OWNER), sb);
    await rt.startContainer(containerId);
    fake.clearCalls();
  });

  const state = () => readPodRuntimeState(rt, uid, OWNER);

  it('answers repeated reads from the cache, with copies callers may change', async () => {
    const a = await state();
    expect(a.containers.map((c) => c.state)).toEqual(['running']);
    const n = reads(fake);
    expect(n).toBeGreaterThan(0);
    a.containers[0]!.state = 'exited';
    a.sandboxes.length = 0;
    const b = await state();
    expect(reads(fake)).toBe(n);
    expect(b.containers.map((c) => c.state)).toEqual(['running']);
    expect(b.sandboxes).toHaveLength(1);
    expect(rt.size).toBe(1);
  });

  it('reads again after the agent changes the pod through it (stop, create, remove)', async () => {
    await state();
    await rt.stopContainer(containerId, 0);
    expect((await state()).containers.map((c) => c.state)).toEqual(['exited']);
    await rt.removeContainer(containerId);
    expect((await state()).containers).toEqual([]);
  });

  it('keeps showing a change made behind its back until invalidated (the PLEG does that), then shows it', async () => {
    await state();
    fake.exitContainer(containerId, 1);
    expect((await state()).containers[0]?.state).toBe('running');
    rt.invalidatePod(uid);
    expect((await state()).containers[0]).toMatchObject({ state: 'exited', exitCode: 1 });
  });

  it('reads again once an entry is older than maxAgeMs', async () => {
    await state();
    const n = reads(fake);
    clock.advance(59_999);
    await state();
    expect(reads(fake)).toBe(n);
    clock.advance(1);
    await state();
    expect(reads(fake)).toBeGreaterThan(n);
  });

  it('does not store a load that overlapped an invalidation', async () => {
    const pending = state();
    rt.invalidatePod(uid);
    await pending;
    expect(rt.size).toBe(0);
    const n = reads(fake);
    await state();
    expect(reads(fake)).toBeGreaterThan(n);
    expect(rt.size).toBe(1);
  });

  it('caches podSandboxStatus and drops it with the pod and on sandbox changes', async () => {
    expect((await rt.podSandboxStatus(sandboxId)).state).toBe('ready');
    const n = reads(fake);
    await rt.podSandboxStatus(sandboxId);
    expect(reads(fake)).toBe(n);
    await rt.stopPodSandbox(sandboxId);
    expect((await rt.podSandboxStatus(sandboxId)).state).toBe('notready');
    rt.invalidatePod(uid);
    await rt.podSandboxStatus(sandboxId);
    expect(reads(fake)).toBe(n + 2);
  });

  it('drops everything when a mutated id belongs to no known pod', async () => {
    await state();
    expect(rt.size).toBe(1);
    await rt.removeContainer('unknown-id').catch(() => undefined);
    expect(rt.size).toBe(0);
  });
});

describe('pod lifecycle with the state cache', () => {
  it('resyncs an idle healthy pod without reading its runtime state, and still restarts a container that died', async () => {
    const w = await world({ relistPeriodMs: 10_000, syncFrequencyMs: 60_000 });
    w.api.apply(mkPod('idle', { containers: [ctr('app')] }));
    await w.advance(2000);
    const uid = w.api.pods.get('default/idle')?.metadata?.uid ?? '';
    const podScoped = (): number =>
      w.runtime.calls.filter((c) => {
        const sel = (c.args[0] as { labelSelector?: Record<string, string> } | undefined)?.labelSelector;
        return c.method === 'containerStatus' || (c.method === 'listContainers' && sel?.['io.kubernetes.pod.uid'] === uid);
      }).length;
    await w.advance(65_000, 5000); // one full resync period
    w.runtime.clearCalls();
    await w.advance(65_000, 5000);
    expect(podScoped()).toBe(0);
    const app = w.runtime.calls.length; // only PLEG relists (and their fingerprints) ran
    expect(app).toBeGreaterThan(0);
    const id = (await readPodRuntimeState(w.runtime, uid, ownerLabels('node1'))).containers[0]?.id ?? '';
    w.runtime.exitContainer(id, 1);
    await w.advance(12_000, 1000);
    const after = await readPodRuntimeState(w.runtime, uid, ownerLabels('node1'));
    expect(after.containers.map((c) => c.state)).toEqual(['running', 'exited']);
    expect(after.containers[0]?.restartCount).toBe(1);
    await w.lc.stop();
  });
});
