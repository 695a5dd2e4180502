import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../util/clock.js';
import { silentLogger } from '../../util/logger.js';
import type { ContainerRecord, PodRuntimeState } from '../podstate/records.js';
import { AllocationManager } from './manager.js';
import { allocationFromPod, applyAllocation, computeResizePlan, infeasibleMessage } from './resize.js';
import { ALLOCATION_CHECKPOINT, FileAllocationState, MemoryAllocationState, type AllocationState } from './state.js';

const MI = 1024 * 1024;
const res = (cpuReq: string, cpuLim: string, mem: string): V1Container['resources'] => ({ requests: { cpu: cpuReq, memory: '32Mi' }, limits: { cpu: cpuLim, memory: mem } });
const ctr = (name: string, resources: V1Container['resources'], extra: Partial<V1Container> = {}): V1Container => ({ name, image: 'x', resources, ...extra });
const pod = (containers: V1Container[], init: V1Container[] = [], uid = 'u1'): V1Pod => ({ metadata: { name: 'p', namespace: 'ns', uid }, spec: { containers, initContainers: init } });
const rec = (name: string, over: Partial<ContainerRecord> = {}): ContainerRecord => ({
  id: `id-${name}`, name, sandboxId: 'sb', state: 'running', exitCode: 0, reason: '', message: '', createdAt: 1, startedAt: 1, finishedAt: 0,
  restartCount: 0, hash: '', image: 'x', imageRef: '', resources: { cpuShares: 102, cpuPeriod: 100_000, cpuQuota: 20_000, memoryLimitInBytes: 64 * MI }, ...over,
});
const state = (...containers: ContainerRecord[]): PodRuntimeState => ({ uid: 'u1', sandboxes: [], containers });

let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});
const tmp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'h6-alloc-'));
  dirs.push(d);
  return d;
};

describe.each([
  ['MemoryAllocationState', (): AllocationState => new MemoryAllocationState()],
  ['FileAllocationState', (): AllocationState => FileAllocationState.inRootDir(tmp())],
])('%s', (_name, make) => {
  it('stores, returns copies, lists and removes allocations', () => {
    const s = make();
    const a = { c: { requests: { cpu: '100m' } } };
    s.set('u1', a);
    a.c.requests.cpu = '1';
    expect(s.get('u1')).toEqual({ c: { requests: { cpu: '100m' } } });
    expect(s.uids()).toEqual(['u1']);
    s.remove('u1');
    s.remove('u1');
    expect(s.get('u1')).toBeUndefined();
  });
});

describe('FileAllocationState', () => {
  it('survives a restart (a new instance reads the checkpoint) and starts empty from a corrupt file', () => {
    const dir = tmp();
    FileAllocationState.inRootDir(dir).set('u1', { c: { limits: { memory: '64Mi' } } });
    expect(FileAllocationState.inRootDir(dir).get('u1')).toEqual({ c: { limits: { memory: '64Mi' } } });
    const body = JSON.parse(readFileSync(join(dir, ALLOCATION_CHECKPOINT), 'utf8')) as { data: unknown; checksum: string };
    writeFileSync(join(dir, ALLOCATION_CHECKPOINT), JSON.stringify({ ...body, data: { u1: { c: { limits: { memory: '1Gi' } } } } }));
    const errors: Error[] = [];
    const s = FileAllocationState.inRootDir(dir, (e) => errors.push(e));
    expect(s.uids()).toEqual([]);
    expect(errors[0]?.message).toMatch(/corrupt/);
  });

  it('reports an unwritable checkpoint with code CHECKPOINT_FAILED', () => {
    const file = join(tmp(), 'a-file');
    writeFileSync(file, '');
    const s = new FileAllocationState(join(file, 'sub', ALLOCATION_CHECKPOINT));
    expect(() => s.set('u1', {})).toThrow(expect.objectContaining({ code: 'CHECKPOINT_FAILED' }) as unknown as Error);
  });
});

describe('allocation of a pod', () => {
  it('covers app containers and sidecars, not regular init containers; applying replaces only what differs', () => {
    const p = pod([ctr('a', res('100m', '200m', '64Mi'))], [ctr('init', res('1', '1', '1Gi')), ctr('side', res('50m', '50m', '16Mi'), { restartPolicy: 'Always' })]);
    const alloc = allocationFromPod(p);
    expect(Object.keys(alloc).sort()).toEqual(['a', 'side']);
    expect(applyAllocation(p, alloc)).toEqual({ pod: p, changed: false });
    // Semantic equality: 0.1 is 100m.
    expect(applyAllocation(p, { ...alloc, a: { requests: { cpu: '0.1', memory: '32Mi' }, limits: { cpu: '200m', memory: '64Mi' } } }).changed).toBe(false);
    const { pod: out, changed } = applyAllocation(p, { ...alloc, a: { requests: { cpu: '100m' }, limits: { cpu: '100m' } } });
    expect(changed).toBe(true);
    expect(out.spec?.containers[0]?.resources).toEqual({ requests: { cpu: '100m' }, limits: { cpu: '100m' } });
    expect(p.spec?.containers[0]?.resources?.limits?.['cpu']).toBe('200m');
  });

  it('is Infeasible beyond allocatable with upstream\'s messages (memory checked first)', () => {
    const requestsOf = (x: V1Pod) => ({ cpu: x.spec?.containers.length === 2 ? 3000 : 500, memory: x.metadata?.name === 'm' ? 2 * 1024 * MI : 0 });
    const alloc = { cpu: '2', memory: '1Gi' };
    expect(infeasibleMessage(pod([ctr('a', {}), ctr('b', {})]), alloc, requestsOf)).toBe("Node didn't have enough capacity: cpu, requested: 3000, capacity: 2000");
    expect(infeasibleMessage({ ...pod([ctr('a', {}), ctr('b', {})]), metadata: { name: 'm' } }, alloc, requestsOf)).toBe(
      "Node didn't have enough capacity: memory, requested: 2147483648, capacity: 1073741824");
    expect(infeasibleMessage(pod([ctr('a', {})]), alloc, requestsOf)).toBeUndefined();
  });
});

describe('computeResizePlan', () => {
  it('updates running containers whose settings differ, shrinking ones first; restarts under RestartContainer', () => {
    const p = pod([
      ctr('grow', res('100m', '400m', '64Mi')),
      ctr('same', res('100m', '200m', '64Mi')),
      ctr('shrink', res('100m', '100m', '64Mi')),
      ctr('restart', res('100m', '200m', '32Mi'), { resizePolicy: [{ resourceName: 'memory', restartPolicy: 'RestartContainer' }] }),
      ctr('cpuOnlyRestartMem', res('100m', '300m', '64Mi'), { resizePolicy: [{ resourceName: 'memory', restartPolicy: 'RestartContainer' }] }),
      ctr('exited', res('1', '1', '1Gi')),
    ]);
    const plan = computeResizePlan(p, state(rec('grow'), rec('same'), rec('shrink'), rec('restart'), rec('cpuOnlyRestartMem'), rec('exited', { state: 'exited' })), 'sb', true);
    expect(plan.updates.map((u) => [u.name, u.shrinks])).toEqual([['shrink', true], ['grow', false], ['cpuOnlyRestartMem', false]]);
    expect(plan.updates[1]?.resources).toEqual({ cpuShares: 102, cpuPeriod: 100_000, cpuQuota: 40_000, memoryLimitInBytes: 64 * MI });
    expect(plan.restarts).toEqual([{ id: 'id-restart', name: 'restart', isInit: false, message: 'Container restart resize requires restart' }]);
  });

  it('resizes sidecars (restartable init containers) but never regular init containers', () => {
    const p = pod([ctr('a', res('100m', '200m', '64Mi'))], [
      ctr('init', res('100m', '400m', '64Mi')),
      ctr('side', res('100m', '400m', '64Mi'), { restartPolicy: 'Always' }),
    ]);
    const plan = computeResizePlan(p, state(rec('a'), rec('init'), rec('side')), 'sb', true);
    expect(plan.updates.map((u) => [u.name, u.isInit])).toEqual([['side', true]]);
  });

  it('leaves containers alone whose runtime reports no settings, and treats unset shares as the minimum', () => {
    const p = pod([ctr('a', res('100m', '400m', '64Mi')), ctr('b', {})]);
    expect(computeResizePlan(p, state(rec('a', { resources: undefined }), rec('b', { resources: {} })), 'sb', true)).toEqual({ updates: [], restarts: [] });
  });
});

describe('AllocationManager', () => {
  const clock = new FakeClock();
  const make = () => new AllocationManager({ state: new MemoryAllocationState(), requestsOf: () => ({ cpu: 0, memory: 0 }), clock, logger: silentLogger() });

  it('keeps PodResizeInProgress reason Error until the resize completes, with stable times', () => {
    const m = make();
    m.setInProgress('u1', true);
    const t0 = clock.now();
    expect(m.conditions('u1')).toEqual([{ type: 'PodResizeInProgress', status: 'True', lastProbeTime: new Date(t0), lastTransitionTime: new Date(t0) }]);
    clock.advance(1000);
    m.setInProgress('u1', true, 'boom');
    m.setInProgress('u1', true);
    expect(m.conditions('u1')[0]).toMatchObject({ reason: 'Error', message: 'boom', lastTransitionTime: new Date(t0 + 1000) });
    m.setInProgress('u1', false);
    expect(m.conditions('u1')).toEqual([]);
  });

  it('refuses static pods as Infeasible and Deferred what admission rejects', () => {
    const m = make();
    const p = pod([ctr('a', res('100m', '200m', '64Mi'))]);
    m.admitted(p);
    const bigger = pod([ctr('a', res('200m', '200m', '64Mi'))]);
    const ctx = { allocatable: { cpu: '4', memory: '4Gi' }, otherPods: [], admit: () => ({ reason: 'OutOfcpu', message: 'Node didn\'t have enough resource: cpu' }) };
    expect(m.handleResize(bigger, ctx).spec?.containers[0]?.resources?.requests?.['cpu']).toBe('100m');
    expect(m.conditions('u1')[0]).toMatchObject({ type: 'PodResizePending', reason: 'Deferred', message: "Node didn't have enough resource: cpu" });
    const staticPod = { ...bigger, metadata: { ...bigger.metadata, annotations: { 'kubernetes.io/config.source': 'file' } } };
    m.handleResize(staticPod, ctx);
    expect(m.conditions('u1')[0]).toMatchObject({ reason: 'Infeasible', message: 'In-place resize of static-pods is not supported' });
    expect(m.handleResize(bigger, { ...ctx, admit: () => undefined }).spec?.containers[0]?.resources?.requests?.['cpu']).toBe('200m');
    expect(m.conditions('u1')).toEqual([]);
    expect(m.allocation('u1')?.['a']?.requests?.['cpu']).toBe('200m');
  });
});
