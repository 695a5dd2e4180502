import type { V1Pod, V1PodStatus } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { LABELS } from '../../cri/index.js';
import { NO_PROBE_RESULTS, type ContainerProbeFailure, type ProberManager } from '../../probes/index.js';
import { apiPod, ctr, mkPod, world, type World } from './harness.test-util.js';

let w: World | undefined;
afterEach(async () => {
  await w?.lc.stop();
  w = undefined;
});

const status = (name: string) => apiPod(w as World, name)?.status;
const methodsFor = (ids: Set<string>) => (w as World).runtime.calls.filter((c) => ids.has(c.args[0] as string));

/** A fake ProberManager and a way to report a container failure to the lifecycle's listeners. */
interface FakeProber {
  prober: ProberManager;
  fail(f: ContainerProbeFailure): void;
}

/**
 * A ProberManager without probe workers: running containers read as started and ready, failure listeners are kept
 * for `fail`; `overrides` replace single methods.
 */
function fakeProber(overrides: Partial<ProberManager> = {}): FakeProber {
  const listeners: ((f: ContainerProbeFailure) => void)[] = [];
  const prober: ProberManager = {
    addPod: () => undefined,
    removePod: () => undefined,
    cleanupPods: () => undefined,
    results: () => NO_PROBE_RESULTS,
    onResultChange: () => () => undefined,
    onContainerFailure: (l) => {
      listeners.push(l);
      return () => undefined;
    },
    stop: () => undefined,
    ...overrides,
  };
  return { prober, fail: (f) => listeners.forEach((l) => l(f)) };
}

describe('pod lifecycle: termination', () => {
  it('runs preStop, then stops with the remaining grace, writes final status, deletes with uid precondition', async () => {
    w = await world();
    const p = w.api.apply(mkPod('web', {
      terminationGracePeriodSeconds: 30,
      containers: [ctr('a', undefined, { lifecycle: { preStop: { exec: { command: ['sleep', '5'] } } } }), ctr('b')],
    }));
    await w.settle();
    const ids = new Set((await w.runtime.listContainers()).map((c) => c.id));
    w.runtime.clearCalls();
    w.api.markDeleted('default', 'web', 30, w.clock.now());
    await w.settle();
    expect(w.recorder.of('Killing').map((e) => e.message).sort()).toEqual(['Stopping container a', 'Stopping container b']);
    await w.advance(5_000);
    const seq = methodsFor(ids).map((c) => `${c.method}:${String(c.args[1] ?? '')}`).filter((m) => !m.startsWith('containerStatus'));
    const a = [...ids].find((id) => w?.runtime.containerConfig(id).metadata.name === 'a') as string;
    const aCalls = w.runtime.calls.filter((c) => c.args[0] === a).map((c) => c.method).filter((m) => m === 'execSync' || m === 'stopContainer');
    expect(aCalls).toEqual(['execSync', 'stopContainer']);
    expect(w.runtime.calls.find((c) => c.method === 'stopContainer' && c.args[0] === a)?.args[1]).toBe(25);
    expect(seq.length).toBeGreaterThan(0);
    await w.advance(30_000, 5_000);
    expect(w.api.deletes).toEqual([{ key: 'default/web', uid: p.metadata?.uid }]);
    expect(apiPod(w, 'web')).toBeUndefined();
    expect((await w.runtime.listContainers()).length).toBe(0);
    expect((await w.runtime.listPodSandboxes()).length).toBe(0);
  });

  it('gives a preStop that overruns the grace period 2 more seconds, once', async () => {
    w = await world();
    w.api.apply(mkPod('slow', { terminationGracePeriodSeconds: 10, containers: [ctr('a', undefined, { lifecycle: { preStop: { exec: { command: ['sleep', '100'] } } } })] }));
    await w.settle();
    w.runtime.clearCalls();
    w.api.markDeleted('default', 'slow', 10, w.clock.now());
    await w.advance(10_000);
    expect(w.runtime.callsTo('stopContainer')[0]?.args[1]).toBe(2);
  });

  it('uses min(terminationGracePeriodSeconds, deletionGracePeriodSeconds)', async () => {
    w = await world();
    w.api.apply(mkPod('g', { terminationGracePeriodSeconds: 30, containers: [ctr('a')] }));
    await w.settle();
    w.api.markDeleted('default', 'g', 5, w.clock.now());
    await w.settle();
    expect(w.runtime.callsTo('stopContainer')[0]?.args[1]).toBe(5);
  });

  it('stops sidecars after the main containers', async () => {
    w = await world();
    w.api.apply(mkPod('side', { initContainers: [ctr('s1', undefined, { restartPolicy: 'Always' }), ctr('s2', undefined, { restartPolicy: 'Always' })], containers: [ctr('app')] }));
    await w.settle();
    expect(status('side')?.phase).toBe('Running');
    const names = new Map((await w.runtime.listContainers()).map((c) => [c.id, c.metadata.name]));
    w.runtime.clearCalls();
    w.api.markDeleted('default', 'side', 30, w.clock.now());
    await w.advance(100_000, 5_000);
    const order = w.runtime.callsTo('stopContainer').map((c) => names.get(c.args[0] as string));
    expect(order).toEqual(['app', 's2', 's1']);
  });

  it('fails a pod past activeDeadlineSeconds with DeadlineExceeded', async () => {
    w = await world();
    w.api.apply(mkPod('dl', { activeDeadlineSeconds: 30, containers: [ctr('a')] }));
    await w.settle();
    await w.advance(31_000, 10_000);
    expect(w.recorder.of('DeadlineExceeded').length).toBe(1);
    await w.advance(31_000, 10_000);
    expect(status('dl')).toMatchObject({ phase: 'Failed', reason: 'DeadlineExceeded', message: 'Pod was active on the node longer than the specified deadline' });
    expect((await w.runtime.listContainers({ state: 'running' })).length).toBe(0);
  });

  it('kills a container on a liveness failure from the prober and restarts it', async () => {
    const { prober, fail } = fakeProber();
    w = await world({}, prober);
    const p = w.api.apply(mkPod('live', { containers: [ctr('a')] }));
    await w.settle();
    const id = apiPod(w, 'live')?.status?.containerStatuses?.[0]?.containerID as string;
    fail({ podUID: p.metadata?.uid as string, containerName: 'a', containerID: id, probeType: 'liveness', message: 'Container a failed liveness probe, will be restarted' });
    await w.settle();
    expect(w.recorder.of('Killing').map((e) => e.message)).toEqual(['Container a failed liveness probe, will be restarted']);
    await w.advance(30_000, 5_000);
    const a = apiPod(w, 'live')?.status?.containerStatuses?.[0];
    expect(a?.restartCount).toBe(1);
    expect(a?.lastState?.terminated?.exitCode).toBe(137);
    expect(a?.state?.running).toBeDefined();
  });

  it('backs off restarts of a container its liveness probe kills again and again (CrashLoopBackOff)', async () => {
    const { prober, fail } = fakeProber();
    w = await world({}, prober);
    const p = w.api.apply(mkPod('flappy', { containers: [ctr('a', "trap 'exit 0' TERM; sleep 3600")] }));
    await w.settle();
    const creates = (): number => w?.runtime.callsTo('createContainer').length ?? 0;
    const kill = async (): Promise<void> => {
      const id = apiPod(w as World, 'flappy')?.status?.containerStatuses?.[0]?.containerID as string;
      fail({ podUID: p.metadata?.uid as string, containerName: 'a', containerID: id, probeType: 'liveness', message: 'Container a failed liveness probe, will be restarted' });
      await w?.settle();
    };
    // 1st kill: no earlier exit, restarted at once; 2nd: the 1st instance is the last exit, restarted at once and the
    // backoff starts (10 s); 3rd, 3 s later: still within 10 s of the last exit, so it waits (as upstream doBackOff).
    await kill();
    expect(creates()).toBe(2);
    await w.advance(3_000);
    await kill();
    expect(creates()).toBe(3);
    await w.advance(3_000);
    await kill();
    expect(creates()).toBe(3);
    expect(apiPod(w, 'flappy')?.status?.containerStatuses?.[0]?.state?.waiting?.reason).toBe('CrashLoopBackOff');
    await w.advance(10_000, 1_000);
    expect(creates()).toBe(4);
  });

  it('registers a pod with the prober before computing its status, so it is never Ready before a probe succeeds', async () => {
    // Models the real prober: a pod it knows has readiness workers and stays unready until a success; a pod it does not
    // know has no probes and is ready once running.
    const known = new Set<string>();
    const { prober } = fakeProber({
      addPod: (pod) => known.add(pod.metadata?.uid ?? ''),
      results: (uid) => ({ ...NO_PROBE_RESULTS, readinessProbed: new Set(known.has(uid) ? ['a'] : []) }),
    });
    w = await world({}, prober);
    w.api.apply(mkPod('probed', { containers: [ctr('a', undefined, { readinessProbe: { exec: { command: ['true'] } } })] }));
    await w.settle();
    const readyValues = w.api.patches
      .map((pt) => (pt.patch as { status?: V1PodStatus }).status?.conditions?.find((c) => c.type === 'Ready')?.status)
      .filter((v) => v !== undefined);
    expect(readyValues.length).toBeGreaterThan(0);
    expect(readyValues).not.toContain('True');
    expect(apiPod(w, 'probed')?.status?.phase).toBe('Running');
  });

  it('replaces a dead sandbox (attempt+1) and restarts the containers', async () => {
    w = await world();
    w.api.apply(mkPod('sb', { containers: [ctr('a')] }));
    await w.settle();
    const [sandbox] = await w.runtime.listPodSandboxes();
    await w.runtime.stopPodSandbox(sandbox?.id as string);
    await w.settle();
    const sbs = await w.runtime.listPodSandboxes({ state: 'ready' });
    expect(sbs.map((s) => s.metadata.attempt)).toEqual([1]);
    expect(w.recorder.of('SandboxChanged').length).toBe(1);
    expect(apiPod(w, 'sb')?.status?.containerStatuses?.[0]).toMatchObject({ restartCount: 1, ready: true });
  });
});

describe('pod lifecycle: restart safety', () => {
  it('adopts running containers after an agent restart without restarting them', async () => {
    w = await world();
    w.api.apply(mkPod('keep', { containers: [ctr('a'), ctr('b')] }));
    await w.settle();
    w.runtime.clearCalls();
    await w.restart();
    const mutating = w.runtime.calls.filter((c) => ['createContainer', 'startContainer', 'stopContainer', 'runPodSandbox', 'stopPodSandbox', 'removeContainer'].includes(c.method));
    expect(mutating).toEqual([]);
    expect(apiPod(w, 'keep')?.status?.phase).toBe('Running');
  });

  it('restarts only the container whose spec changed', async () => {
    w = await world();
    const p = w.api.apply(mkPod('chg', { containers: [ctr('a'), ctr('b')] }));
    await w.settle();
    w.runtime.clearCalls();
    await w.restart();
    w.api.apply({ ...p, spec: { ...p.spec, containers: [ctr('a', 'sleep 1000'), ctr('b')] } } as V1Pod);
    await w.advance(30_000, 5_000);
    const created = w.runtime.callsTo('createContainer').map((c) => (c.args[1] as { metadata: { name: string } }).metadata.name);
    expect(created).toEqual(['a']);
    expect(w.recorder.of('Killing').map((e) => e.message)).toContain('Container a definition changed, will be restarted');
  });

  it('removes containers of pods that are no longer assigned', async () => {
    w = await world();
    w.api.apply(mkPod('gone', { containers: [ctr('a')] }));
    await w.settle();
    await w.lc.stop();
    w.api.remove('default', 'gone');
    await w.restart();
    await w.advance(40_000, 5_000);
    expect(await w.runtime.listContainers({ labelSelector: { [LABELS.podName]: 'gone' } })).toEqual([]);
    expect(await w.runtime.listPodSandboxes()).toEqual([]);
  });

  it('resumes a termination in progress after a restart', async () => {
    w = await world();
    w.api.apply(mkPod('term', { containers: [ctr('a')] }));
    await w.settle();
    await w.lc.stop();
    w.api.markDeleted('default', 'term', 30, w.clock.now());
    await w.restart();
    await w.advance(31_000, 5_000);
    expect(apiPod(w, 'term')).toBeUndefined();
    expect(await w.runtime.listContainers()).toEqual([]);
  });

  it('garbage-collects dead containers, keeping the newest per container', async () => {
    w = await world();
    w.api.apply(mkPod('gc', { containers: [ctr('c', 'exit 1')] }));
    await w.advance(200_000, 5_000);
    const dead = await w.runtime.listContainers({ state: 'exited' });
    expect(dead.length).toBe(1);
    expect(apiPod(w, 'gc')?.status?.containerStatuses?.[0]?.restartCount).toBeGreaterThanOrEqual(4);
  });
});
