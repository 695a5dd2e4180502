/** In-place pod resize through the pod lifecycle (FakeRuntime + FakeClock): accepted, Infeasible, Deferred, restart policy, errors, agent restart. */
import type { V1Container, V1Node, V1Pod } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { NodeletError } from '../../util/errors.js';
import { silentLogger } from '../../util/logger.js';
import { FakeCgroups, PodCgroupManager } from '../cm/index.js';
import { MemoryAllocationState } from '../allocation/state.js';
import { apiPod, ctr, mkPod, NODE, world, type World } from './harness.test-util.js';

let w: World | undefined;
afterEach(async () => {
  await w?.lc.stop();
  w = undefined;
});

const MI = 1024 * 1024;
const node = (cpu = '4', memory = '8Gi'): V1Node => ({
  metadata: { name: NODE, uid: 'node-uid', labels: { 'kubernetes.io/hostname': NODE } },
  status: { allocatable: { cpu, memory, pods: '110' } },
});
const res = (cpu: string, mem: string, reqCpu = '100m', reqMem = '32Mi'): V1Container['resources'] => ({
  requests: { cpu: reqCpu, memory: reqMem },
  limits: { cpu, memory: mem },
});
const app = (resources: V1Container['resources'], extra: Partial<V1Container> = {}): V1Container => ctr('c', undefined, { resources, ...extra });

/** Replaces container c's resources in the API object (what `kubectl patch --subresource resize` leaves). */
function resize(world: World, name: string, resources: V1Container['resources']): void {
  const p = structuredClone(apiPod(world, name) as V1Pod);
  const c = p.spec?.containers.find((x) => x.name === 'c');
  if (c === undefined) throw new Error('no container c');
  c.resources = resources;
  world.api.apply(p);
}

const cond = (name: string, type: string) => apiPod(w as World, name)?.status?.conditions?.find((c) => c.type === type);
const cstat = (name: string) => apiPod(w as World, name)?.status?.containerStatuses?.find((s) => s.name === 'c');
const running = (world: World) => world.runtime.listContainers({ state: 'running', labelSelector: { 'io.kubernetes.container.name': 'c' } });

describe('in-place pod resize', () => {
  it('applies a resize to the running container in place: no restart, status shows the new resources', async () => {
    w = await world({ getNode: () => node() });
    w.api.apply(mkPod('web', { containers: [app(res('200m', '64Mi'))] }));
    await w.settle();
    const [before] = await running(w);
    expect(cstat('web')?.resources).toEqual({ requests: { cpu: '100m', memory: '32Mi' }, limits: { cpu: '200m', memory: '64Mi' } });

    resize(w, 'web', res('400m', '128Mi', '150m'));
    await w.settle();
    const updates = w.runtime.callsTo('updateContainerResources');
    expect(updates.map((u) => u.args)).toEqual([[before?.id, { cpuShares: 153, cpuPeriod: 100_000, cpuQuota: 40_000, memoryLimitInBytes: 128 * MI }]]);
    const [after] = await running(w);
    expect(after?.id).toBe(before?.id);
    expect(cstat('web')).toMatchObject({ restartCount: 0, resources: { requests: { cpu: '150m', memory: '32Mi' }, limits: { cpu: '400m', memory: '128Mi' } } });
    expect(cond('web', 'PodResizePending')).toBeUndefined();
    expect(cond('web', 'PodResizeInProgress')).toBeUndefined();
    // Nothing more to do: a later sync makes no further update.
    await w.advance(70_000, 10_000);
    expect(w.runtime.callsTo('updateContainerResources')).toHaveLength(1);
  });

  it('keeps a resize beyond the node\'s allocatable pending as Infeasible, with upstream\'s message', async () => {
    w = await world({ getNode: () => node('1', '1Gi') });
    w.api.apply(mkPod('big', { containers: [app(res('500m', '64Mi', '500m', '64Mi'))] }));
    await w.settle();
    resize(w, 'big', res('2', '64Mi', '2', '64Mi'));
    await w.settle();
    expect(cond('big', 'PodResizePending')).toMatchObject({
      status: 'True',
      reason: 'Infeasible',
      message: "Node didn't have enough capacity: cpu, requested: 2000, capacity: 1000",
    });
    expect(w.runtime.callsTo('updateContainerResources')).toHaveLength(0);
    expect(cstat('big')?.resources).toEqual({ requests: { cpu: '500m', memory: '64Mi' }, limits: { cpu: '500m', memory: '64Mi' } });
    // Back to a feasible size: the pending condition goes.
    resize(w, 'big', res('500m', '64Mi', '500m', '64Mi'));
    await w.settle();
    expect(cond('big', 'PodResizePending')).toBeUndefined();
  });

  it('defers a resize that does not fit next to the other pods, and applies it once they are gone', async () => {
    w = await world({ getNode: () => node('2', '4Gi') });
    w.api.apply(mkPod('other', { containers: [ctr('o', undefined, { resources: { requests: { cpu: '1' } } })] }));
    w.api.apply(mkPod('web', { containers: [app(res('500m', '64Mi', '500m'))] }));
    await w.settle();
    resize(w, 'web', res('1500m', '64Mi', '1500m'));
    await w.settle();
    expect(cond('web', 'PodResizePending')).toMatchObject({
      reason: 'Deferred',
      message: expect.stringContaining("Node didn't have enough resource: cpu, requested: 1500, used: 1000, capacity: 2000") as unknown,
    });
    expect(w.runtime.callsTo('updateContainerResources')).toHaveLength(0);
    w.api.remove('default', 'other');
    await w.advance(70_000, 10_000);
    expect(cond('web', 'PodResizePending')).toBeUndefined();
    expect(w.runtime.callsTo('updateContainerResources')).toHaveLength(1);
    expect(cstat('web')?.resources?.requests).toMatchObject({ cpu: '1500m' });
  });

  it('restarts a container whose changed resource has resizePolicy RestartContainer', async () => {
    w = await world({ getNode: () => node() });
    const policy = [{ resourceName: 'memory', restartPolicy: 'RestartContainer' }];
    w.api.apply(mkPod('web', { containers: [app(res('200m', '64Mi'), { resizePolicy: policy })] }));
    await w.settle();
    const [before] = await running(w);
    resize(w, 'web', res('200m', '32Mi'));
    await w.advance(40_000, 5_000); // the old instance gets its grace period (sleep ignores SIGTERM)
    const [after] = await running(w);
    expect(after?.id).not.toBe(before?.id);
    expect(w.runtime.containerConfig(after?.id ?? '').linux.resources.memoryLimitInBytes).toBe(32 * MI);
    expect(w.runtime.callsTo('updateContainerResources')).toHaveLength(0);
    expect(cstat('web')).toMatchObject({ restartCount: 1, resources: { limits: { memory: '32Mi' } } });
    expect(w.recorder.events.map((e) => e.message)).toContain('Container c resize requires restart');
  });

  it('reports a failed update as PodResizeInProgress reason Error and retries it', async () => {
    w = await world({ getNode: () => node() });
    w.api.apply(mkPod('web', { containers: [app(res('200m', '64Mi'))] }));
    await w.settle();
    w.runtime.failNext('updateContainerResources', new NodeletError('RUNTIME_ERROR', 'cannot set memory limit: device or resource busy'));
    resize(w, 'web', res('300m', '96Mi'));
    await w.settle();
    expect(cond('web', 'PodResizeInProgress')).toMatchObject({ status: 'True', reason: 'Error', message: expect.stringContaining('device or resource busy') as unknown });
    expect(cstat('web')?.resources?.limits).toEqual({ cpu: '200m', memory: '64Mi' });
    await w.advance(15_000, 5_000);
    expect(cond('web', 'PodResizeInProgress')).toBeUndefined();
    expect(cstat('web')?.resources?.limits).toEqual({ cpu: '300m', memory: '96Mi' });
  });

  it('refuses to lower the memory limit under the pod\'s current usage (upstream\'s message), and applies it once usage drops', async () => {
    const cgroups = new FakeCgroups(1);
    const cm = new PodCgroupManager({ cgroups, driver: 'cgroupfs', cgroupRoot: '/', kubepods: { cpuMilli: 4000, memoryBytes: 8192 * MI }, cpuCFSQuota: true, podPidsLimit: -1, logger: silentLogger() });
    await cm.start();
    w = await world({ getNode: () => node(), podCgroups: cm });
    const p = mkPod('web', { containers: [app(res('200m', '64Mi'))] });
    w.api.apply(p);
    await w.settle();
    const path = cm.podCgroupPath(apiPod(w, 'web') as V1Pod);
    cgroups.usage.set(path, 40 * MI);
    resize(w, 'web', res('200m', '32Mi'));
    await w.settle();
    expect(cond('web', 'PodResizeInProgress')).toMatchObject({ status: 'True', reason: 'Error', message: 'Aborting attempt to set pod memory limit less than current memory usage for pod web' });
    expect(w.runtime.callsTo('updateContainerResources')).toHaveLength(0);
    expect(await cgroups.read(path)).toMatchObject({ memoryLimit: 64 * MI });
    // Usage below the new limit: the next sync applies it.
    cgroups.usage.set(path, 20 * MI);
    await w.advance(15_000, 5_000);
    expect(cond('web', 'PodResizeInProgress')).toBeUndefined();
    expect(w.runtime.callsTo('updateContainerResources')).toHaveLength(1);
    expect(await cgroups.read(path)).toMatchObject({ memoryLimit: 32 * MI });
  });

  it('keeps allocations across an agent restart: an accepted resize stays, a deferred one stays pending', async () => {
    const state = new MemoryAllocationState();
    w = await world({ getNode: () => node('2', '4Gi'), allocationState: state });
    w.api.apply(mkPod('other', { containers: [ctr('o', undefined, { resources: { requests: { cpu: '1' } } })] }));
    w.api.apply(mkPod('web', { containers: [app(res('500m', '64Mi', '500m'))] }));
    await w.settle();
    resize(w, 'web', res('600m', '64Mi', '600m'));
    await w.settle();
    expect(state.get(apiPod(w, 'web')?.metadata?.uid ?? '')?.['c']?.requests?.['cpu']).toBe('600m');
    resize(w, 'web', res('1500m', '64Mi', '1500m'));
    await w.settle();
    expect(cond('web', 'PodResizePending')?.reason).toBe('Deferred');
    const [before] = await running(w);
    await w.restart();
    const [after] = await running(w);
    expect(after?.id).toBe(before?.id);
    expect(state.get(apiPod(w, 'web')?.metadata?.uid ?? '')?.['c']?.requests?.['cpu']).toBe('600m');
    expect(cond('web', 'PodResizePending')?.reason).toBe('Deferred');
    expect(cstat('web')?.resources?.requests).toMatchObject({ cpu: '600m' });
    // Gone pods lose their allocation.
    w.api.remove('default', 'web');
    await w.advance(60_000, 10_000);
    expect(state.uids()).not.toContain(before?.labels['io.kubernetes.pod.uid']);
  });
});
