import { describe, expect, it } from 'vitest';
import type { V1PodStatus, V1Probe } from '@kubernetes/client-node';
import { FakeClock, silentLogger } from '../util/index.js';
import { createProberManager } from './manager.js';
import type { ProbeOutcome } from './handlers/types.js';
import { applyResults, podWithProbes, runningStatus, scriptedHandlers, terminatedStatus, unusedRuntime } from './testing.js';

const execProbe = (extra: Partial<V1Probe> = {}): V1Probe => ({ exec: { command: ['true'] }, ...extra });

/** Lets pending promise continuations run (the worker loop is async); no wall-clock waiting. */
async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
}

function make(opts: { autoRun: boolean; random?: () => number; outcomes?: () => ProbeOutcome }) {
  const clock = new FakeClock();
  const st: { status: V1PodStatus | undefined } = { status: runningStatus('docker://a', new Date(clock.now())) };
  const { handlers, calls } = scriptedHandlers(opts.outcomes ?? (() => ({ result: 'success', output: '' })));
  const m = createProberManager({
    runtime: unusedRuntime,
    getPodStatus: () => st.status,
    logger: silentLogger(),
    clock,
    nodeIP: '10.9.9.9',
    autoRun: opts.autoRun,
    random: opts.random ?? (() => 0),
    handlers,
  });
  return { clock, st, calls, m };
}

describe('results (as status generation reads them)', () => {
  it('without probes: ready and started once running; not when not running', () => {
    const { m, clock } = make({ autoRun: false });
    m.addPod(podWithProbes({}));
    expect(m.workerCount()).toBe(0);
    const s = runningStatus('docker://a', new Date(clock.now()));
    applyResults(m, 'uid-1', s);
    expect(s.containerStatuses![0]).toMatchObject({ ready: true, started: true });
    const t = terminatedStatus('docker://a', 0);
    t.containerStatuses![0]!.ready = true;
    applyResults(m, 'uid-1', t);
    expect(t.containerStatuses![0]).toMatchObject({ ready: false, started: false });
  });

  it('readiness probe: not ready until its first success, then ready', async () => {
    const { m, clock } = make({ autoRun: false });
    m.addPod(podWithProbes({ readiness: execProbe() }));
    const s = runningStatus('docker://a', new Date(clock.now()));
    applyResults(m, 'uid-1', s);
    expect(s.containerStatuses![0]).toMatchObject({ ready: false, started: true });
    await m.getWorker('uid-1', 'c', 'readiness')!.doProbe();
    applyResults(m, 'uid-1', s);
    expect(s.containerStatuses![0]).toMatchObject({ ready: true, started: true });
  });

  it('startup probe: neither started nor ready until startup succeeds', async () => {
    const { m, clock } = make({ autoRun: false });
    m.addPod(podWithProbes({ startup: execProbe() }));
    const s = runningStatus('docker://a', new Date(clock.now()));
    applyResults(m, 'uid-1', s);
    expect(s.containerStatuses![0]).toMatchObject({ ready: false, started: false });
    await m.getWorker('uid-1', 'c', 'startup')!.doProbe();
    applyResults(m, 'uid-1', s);
    expect(s.containerStatuses![0]).toMatchObject({ ready: true, started: true });
  });

  it('results are per container ID: a new container starts over', async () => {
    const { m, clock } = make({ autoRun: false });
    m.addPod(podWithProbes({ readiness: execProbe() }));
    await m.getWorker('uid-1', 'c', 'readiness')!.doProbe();
    const s = runningStatus('docker://b', new Date(clock.now()));
    applyResults(m, 'uid-1', s);
    expect(s.containerStatuses![0]!.ready).toBe(false);
  });
});

describe('pod lifecycle', () => {
  it('addPod is idempotent; removePod and cleanupPods stop workers and forget results', async () => {
    const { m } = make({ autoRun: false });
    const pod = podWithProbes({ readiness: execProbe(), liveness: execProbe() });
    m.addPod(pod);
    m.addPod(pod);
    expect(m.workerCount()).toBe(2);
    const w = m.getWorker('uid-1', 'c', 'readiness')!;
    await w.doProbe();
    expect(m.cachedResult('readiness', 'docker://a')).toBe('success');
    m.cleanupPods(new Set(['uid-1']));
    expect(m.workerCount()).toBe(2);
    m.cleanupPods(new Set());
    expect(m.workerCount()).toBe(0);
    expect(w.stopped).toBe(true);
    expect(m.cachedResult('readiness', 'docker://a')).toBeUndefined();
    m.addPod(pod);
    m.removePod('uid-1');
    expect(m.workerCount()).toBe(0);
  });

  it('a pod without uid is ignored (logged), never throws', () => {
    const { m } = make({ autoRun: false });
    const pod = podWithProbes({ readiness: execProbe() });
    delete pod.metadata!.uid;
    expect(() => m.addPod(pod)).not.toThrow();
    expect(m.workerCount()).toBe(0);
  });

  it('a throwing listener does not break probing', async () => {
    const { m } = make({ autoRun: false });
    m.onResultChange(() => {
      throw new Error('listener bug');
    });
    const seen: string[] = [];
    const off = m.onResultChange((u) => seen.push(u));
    m.addPod(podWithProbes({ readiness: execProbe() }));
    await m.getWorker('uid-1', 'c', 'readiness')!.doProbe();
    expect(seen).toEqual(['uid-1', 'uid-1']);
    off();
    m.removePod('uid-1');
  });
});

describe('run loop (FakeClock)', () => {
  it('first probe after a random jitter below one period, then every period', async () => {
    const { m, clock, calls } = make({ autoRun: true, random: () => 0.999 });
    m.addPod(podWithProbes({ liveness: execProbe({ periodSeconds: 10 }) }));
    clock.advance(9_989);
    await flush();
    expect(calls).toHaveLength(0);
    clock.advance(1);
    await flush();
    expect(calls).toHaveLength(1);
    for (let i = 2; i <= 4; i++) {
      clock.advance(9_999);
      await flush();
      expect(calls).toHaveLength(i - 1);
      clock.advance(1);
      await flush();
      expect(calls).toHaveLength(i);
    }
    m.stop();
    clock.advance(60_000);
    await flush();
    expect(calls).toHaveLength(4);
    expect(clock.pending()).toBe(0);
  });

  it('no jitter for pods added more than a period after the manager started', async () => {
    const { m, clock, calls } = make({ autoRun: true, random: () => 0.999 });
    clock.advance(10_001);
    m.addPod(podWithProbes({ liveness: execProbe({ periodSeconds: 10 }) }));
    await flush();
    expect(calls).toHaveLength(1);
    m.stop();
  });

  it('results() triggers an immediate readiness probe while not ready', async () => {
    const { m, clock, calls, st } = make({ autoRun: true, outcomes: () => ({ result: 'failure', output: 'no' }) });
    m.addPod(podWithProbes({ readiness: execProbe({ periodSeconds: 30 }) }));
    clock.advance(0); // jitter 0
    await flush();
    expect(calls).toHaveLength(1);
    applyResults(m, 'uid-1', st.status!);
    await flush();
    expect(calls).toHaveLength(2);
    clock.advance(29_999);
    await flush();
    expect(calls).toHaveLength(2);
    clock.advance(1);
    await flush();
    expect(calls).toHaveLength(3);
    m.stop();
  });

  it('never overlaps probes: a probe slower than the period delays the next one and missed ticks are dropped', async () => {
    const clock0 = new FakeClock();
    const st = runningStatus('docker://a', new Date(clock0.now()));
    const pending: (() => void)[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    let calls = 0;
    const slow = (): Promise<ProbeOutcome> =>
      new Promise((resolve) => {
        calls++;
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        pending.push(() => {
          inFlight--;
          resolve({ result: 'success', output: '' });
        });
      });
    const m = createProberManager({
      runtime: unusedRuntime,
      getPodStatus: () => st,
      logger: silentLogger(),
      clock: clock0,
      nodeIP: '10.9.9.9',
      random: () => 0,
      handlers: { exec: slow },
    });
    m.addPod(podWithProbes({ liveness: execProbe({ periodSeconds: 1 }) }));
    clock0.advance(0);
    await flush();
    expect(calls).toBe(1);
    clock0.advance(2_500); // two ticks pass while the probe hangs
    await flush();
    expect(calls).toBe(1);
    pending.shift()!();
    await flush();
    expect(calls).toBe(2); // the overdue tick fires at once, once
    pending.shift()!();
    await flush();
    expect(calls).toBe(2);
    clock0.advance(499); // back on the 1 s grid: next at 3.0 s
    await flush();
    expect(calls).toBe(2);
    clock0.advance(1);
    await flush();
    expect(calls).toBe(3);
    expect(maxInFlight).toBe(1);
    m.stop();
  });

  it('a worker whose pod terminated leaves the manager by itself', async () => {
    const { m, st, clock } = make({ autoRun: true });
    st.status = { ...st.status!, phase: 'Failed' };
    m.addPod(podWithProbes({ liveness: execProbe() }));
    clock.advance(0);
    await flush();
    expect(m.workerCount()).toBe(0);
  });
});
