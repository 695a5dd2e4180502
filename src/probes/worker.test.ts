import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import type { V1PodStatus, V1Probe } from '@kubernetes/client-node';
import { FakeClock, silentLogger } from '../util/index.js';
import { createProberManager } from './manager.js';
import type { ProbeOutcome } from './handlers/types.js';
import { RecordingRecorder, podWithProbes, runningStatus, scriptedHandlers, terminatedStatus, unusedRuntime } from './testing.js';
import type { ContainerProbeFailure, ProbeType } from './types.js';

const execProbe = (extra: Partial<V1Probe> = {}): V1Probe => ({ exec: { command: ['cat', '/tmp/healthy'] }, ...extra });
const ok: ProbeOutcome = { result: 'success', output: '' };
const bad = (output = 'boom'): ProbeOutcome => ({ result: 'failure', output });

function setup(probes: Parameters<typeof podWithProbes>[0], extra?: Parameters<typeof podWithProbes>[1]) {
  const clock = new FakeClock();
  const pod = podWithProbes(probes, extra);
  const st: { status: V1PodStatus | undefined } = { status: runningStatus('docker://a', new Date(clock.now())) };
  const queue: ProbeOutcome[] = [];
  const fallback: { outcome: ProbeOutcome } = { outcome: ok };
  const { handlers, calls } = scriptedHandlers(() => queue.shift() ?? fallback.outcome);
  const recorder = new RecordingRecorder();
  const registry = new Registry();
  const m = createProberManager({
    runtime: unusedRuntime,
    getPodStatus: () => st.status,
    recorder,
    logger: silentLogger(),
    clock,
    nodeIP: '10.9.9.9',
    metrics: registry,
    autoRun: false,
    handlers,
  });
  const changes: string[] = [];
  const failures: ContainerProbeFailure[] = [];
  m.onResultChange((uid) => changes.push(uid));
  m.onContainerFailure((f) => failures.push(f));
  m.addPod(pod);
  const worker = (t: ProbeType) => {
    const w = m.getWorker('uid-1', 'c', t);
    if (!w) throw new Error(`no ${t} worker`);
    return w;
  };
  const step = (t: ProbeType) => worker(t).doProbe();
  return { clock, pod, st, queue, fallback, calls, recorder, registry, m, changes, failures, worker, step };
}

describe('probe worker thresholds', () => {
  it('liveness: three failures in a row, then a kill request with the upstream message; then holds', async () => {
    const t = setup({ liveness: execProbe({ terminationGracePeriodSeconds: 7 }) });
    t.fallback.outcome = bad('cat: can\'t open \'/tmp/healthy\': No such file or directory');
    await t.step('liveness');
    await t.step('liveness');
    expect(t.failures).toHaveLength(0);
    expect(t.m.cachedResult('liveness', 'docker://a')).toBe('success');
    await t.step('liveness');
    expect(t.m.cachedResult('liveness', 'docker://a')).toBe('failure');
    expect(t.failures).toEqual([
      {
        podUID: 'uid-1',
        containerName: 'c',
        containerID: 'docker://a',
        probeType: 'liveness',
        message: 'Container c failed liveness probe, will be restarted',
        terminationGracePeriodSeconds: 7,
      },
    ]);
    // On hold: no more probes, no more failures, until a new container ID.
    for (let i = 0; i < 5; i++) await t.step('liveness');
    expect(t.calls).toHaveLength(3);
    expect(t.failures).toHaveLength(1);
    t.st.status = runningStatus('docker://b', new Date(t.clock.now()));
    t.fallback.outcome = ok;
    await t.step('liveness');
    expect(t.calls).toHaveLength(4);
    expect(t.m.cachedResult('liveness', 'docker://b')).toBe('success');
    expect(t.m.cachedResult('liveness', 'docker://a')).toBeUndefined();
  });

  it('failures must be consecutive: a success in between restarts the count', async () => {
    const t = setup({ liveness: execProbe() });
    t.queue.push(bad(), bad(), ok, bad(), bad());
    for (let i = 0; i < 5; i++) await t.step('liveness');
    expect(t.failures).toHaveLength(0);
    t.queue.push(bad());
    await t.step('liveness');
    expect(t.failures).toHaveLength(1);
  });

  it('readiness: false until the first success; successThreshold and failureThreshold count runs', async () => {
    const t = setup({ readiness: execProbe({ successThreshold: 2, failureThreshold: 2 }) });
    await t.step('readiness');
    // first step stored the initial value (failure) and one success (below threshold 2)
    expect(t.m.cachedResult('readiness', 'docker://a')).toBe('failure');
    await t.step('readiness');
    expect(t.m.cachedResult('readiness', 'docker://a')).toBe('success');
    t.queue.push(bad());
    await t.step('readiness');
    expect(t.m.cachedResult('readiness', 'docker://a')).toBe('success');
    t.queue.push(bad());
    await t.step('readiness');
    expect(t.m.cachedResult('readiness', 'docker://a')).toBe('failure');
    expect(t.failures).toHaveLength(0); // readiness never kills
  });

  it('initial delay counts from the container start', async () => {
    const t = setup({ liveness: execProbe({ initialDelaySeconds: 5 }) });
    await t.step('liveness');
    t.clock.advance(4_999);
    await t.step('liveness');
    expect(t.calls).toHaveLength(0);
    t.clock.advance(1);
    await t.step('liveness');
    expect(t.calls).toHaveLength(1);
  });

  it('no container status or no container ID yet: waits without probing', async () => {
    const t = setup({ readiness: execProbe() });
    t.st.status = undefined;
    expect(await t.step('readiness')).toBe(true);
    t.st.status = { phase: 'Pending', containerStatuses: [] };
    expect(await t.step('readiness')).toBe(true);
    expect(t.calls).toHaveLength(0);
    expect(t.changes).toHaveLength(0);
  });

  it('a non-running container reads as failure; a terminated one under restartPolicy Never ends the worker', async () => {
    const t = setup({ readiness: execProbe() }, { restartPolicy: 'Never' });
    await t.step('readiness');
    expect(t.m.cachedResult('readiness', 'docker://a')).toBe('success');
    t.st.status = terminatedStatus('docker://a', 1);
    expect(await t.step('readiness')).toBe(false);
    expect(t.m.cachedResult('readiness', 'docker://a')).toBe('failure');
    const u = setup({ readiness: execProbe() });
    u.st.status = terminatedStatus('docker://a', 1);
    expect(await u.step('readiness')).toBe(true);
  });

  it('a terminated pod phase ends the worker', async () => {
    const t = setup({ liveness: execProbe() });
    t.st.status = { ...runningStatus('docker://a', new Date(t.clock.now())), phase: 'Succeeded' };
    expect(await t.step('liveness')).toBe(false);
  });

  it('pod deletion: liveness reports success and stops (quiet shutdown)', async () => {
    const t = setup({ liveness: execProbe() });
    t.fallback.outcome = bad();
    await t.step('liveness');
    t.m.addPod({ ...t.pod, metadata: { ...t.pod.metadata, deletionTimestamp: new Date(t.clock.now()) } });
    expect(await t.step('liveness')).toBe(false);
    expect(t.m.cachedResult('liveness', 'docker://a')).toBe('success');
    expect(t.failures).toHaveLength(0);
  });
});

describe('startup probe gating', () => {
  it('liveness and readiness wait until startup succeeds; startup stops probing once started', async () => {
    const t = setup({ startup: execProbe(), liveness: execProbe(), readiness: execProbe() });
    t.fallback.outcome = bad();
    await t.step('liveness');
    await t.step('readiness');
    expect(t.calls).toHaveLength(0);
    await t.step('startup');
    await t.step('startup');
    expect(t.calls).toHaveLength(2);
    t.fallback.outcome = ok;
    await t.step('startup');
    expect(t.m.cachedResult('startup', 'docker://a')).toBe('success');
    await t.step('startup');
    expect(t.calls).toHaveLength(3); // started: startup no longer probes
    await t.step('liveness');
    await t.step('readiness');
    expect(t.calls).toHaveLength(5);
    expect(t.failures).toHaveLength(0);
  });

  it('startup failing failureThreshold times requests a kill with the startup message', async () => {
    const t = setup({ startup: execProbe({ failureThreshold: 2 }), liveness: execProbe() });
    t.fallback.outcome = bad();
    await t.step('startup');
    await t.step('startup');
    expect(t.failures.map((f) => [f.probeType, f.message])).toEqual([
      ['startup', 'Container c failed startup probe, will be restarted'],
    ]);
    expect(t.calls).toHaveLength(2);
  });
});

describe('results cache and change notification', () => {
  it('emits on change only', async () => {
    const t = setup({ readiness: execProbe() });
    await t.step('readiness'); // initial failure (change), then success (change)
    expect(t.changes).toEqual(['uid-1', 'uid-1']);
    await t.step('readiness');
    await t.step('readiness');
    expect(t.changes).toHaveLength(2);
    t.queue.push(bad(), bad(), bad());
    for (let i = 0; i < 3; i++) await t.step('readiness');
    expect(t.changes).toHaveLength(3);
  });

  it('prober errors are thrown away (no result, one errored event after 3 attempts)', async () => {
    const t = setup({ readiness: execProbe() });
    let n = 0;
    t.fallback.outcome = ok;
    const { handlers } = scriptedHandlers(() => {
      n++;
      throw new Error('runtime down');
    });
    const m2 = createProberManager({
      runtime: unusedRuntime,
      getPodStatus: () => t.st.status,
      recorder: t.recorder,
      logger: silentLogger(),
      clock: t.clock,
      nodeIP: '10.9.9.9',
      autoRun: false,
      handlers,
    });
    m2.addPod(t.pod);
    await m2.getWorker('uid-1', 'c', 'readiness')!.doProbe();
    expect(n).toBe(3);
    expect(m2.cachedResult('readiness', 'docker://a')).toBe('failure'); // still the initial value
    expect(t.recorder.lines()).toEqual(['Warning Unhealthy Readiness probe errored: runtime down']);
  });
});

describe('events and metrics', () => {
  it('records Unhealthy per failed probe and ProbeWarning for warnings, against the container', async () => {
    const t = setup({ readiness: { httpGet: { port: 80, path: '/' } }, liveness: execProbe() });
    t.queue.push({ result: 'failure', output: 'HTTP probe failed with statuscode: 503' });
    await t.step('readiness');
    t.queue.push({ result: 'warning', output: 'Probe terminated redirects, Response body: ' });
    await t.step('readiness');
    t.queue.push(bad('cat: /tmp/healthy: No such file or directory'));
    await t.step('liveness');
    expect(t.recorder.lines()).toEqual([
      'Warning Unhealthy Readiness probe failed: HTTP probe failed with statuscode: 503',
      'Warning ProbeWarning Readiness probe warning: Probe terminated redirects, Response body: ',
      'Warning Unhealthy Liveness probe failed: cat: /tmp/healthy: No such file or directory',
    ]);
    expect(t.recorder.events[0]!.ref).toMatchObject({
      kind: 'Pod',
      namespace: 'default',
      name: 'web',
      uid: 'uid-1',
      fieldPath: 'spec.containers{c}',
    });
    expect(t.m.cachedResult('readiness', 'docker://a')).toBe('success'); // a warning is a success
  });

  it('counts prober_probe_total with upstream labels and observes durations', async () => {
    const t = setup({ liveness: execProbe() });
    t.queue.push(ok, bad());
    await t.step('liveness');
    await t.step('liveness');
    const text = await t.registry.metrics();
    expect(text).toContain(
      'prober_probe_total{probe_type="Liveness",result="successful",container="c",pod="web",namespace="default",pod_uid="uid-1"} 1',
    );
    expect(text).toContain(
      'prober_probe_total{probe_type="Liveness",result="failed",container="c",pod="web",namespace="default",pod_uid="uid-1"} 1',
    );
    expect(text).toContain('prober_probe_duration_seconds_count{probe_type="Liveness",container="c",pod="web",namespace="default"} 1');
    t.m.removePod('uid-1');
    expect(await t.registry.metrics()).not.toContain('pod_uid="uid-1"');
  });
});

describe('invalid probes', () => {
  it('a liveness probe with successThreshold 2 is reported once, naming the field, and never probes or kills', async () => {
    const t = setup({ liveness: execProbe({ successThreshold: 2 }) });
    t.fallback.outcome = bad();
    for (let i = 0; i < 4; i++) await t.step('liveness');
    expect(t.calls).toHaveLength(0);
    expect(t.failures).toHaveLength(0);
    expect(t.recorder.lines()).toEqual([
      'Warning Unhealthy Liveness probe errored: spec.containers[0].livenessProbe.successThreshold: must be 1 for liveness probes',
    ]);
  });

  it('a probe without a handler is reported', async () => {
    const t = setup({ readiness: { periodSeconds: 3 } });
    await t.step('readiness');
    expect(t.recorder.lines()[0]).toContain('spec.containers[0].readinessProbe: must specify a handler type');
    expect(t.m.cachedResult('readiness', 'docker://a')).toBe('failure');
  });
});

describe('targets', () => {
  it('network probes go to the pod IP; hostNetwork pods to the node IP', async () => {
    const t = setup({ readiness: { tcpSocket: { port: 8080 } } });
    await t.step('readiness');
    expect(t.calls[0]).toMatchObject({ kind: 'tcp', detail: { ip: '172.17.0.5', port: 8080, timeoutMs: 1000 } });
    const h = setup({ readiness: { tcpSocket: { port: 8080 } } }, { hostNetwork: true });
    h.st.status = runningStatus('docker://a', new Date(h.clock.now()), '');
    await h.step('readiness');
    expect(h.calls[0]).toMatchObject({ kind: 'tcp', detail: { ip: '10.9.9.9' } });
  });

  it('named container ports resolve; a host outside pod/node/loopback is refused as a failure', async () => {
    const t = setup(
      { readiness: { httpGet: { port: 'http', host: '8.8.8.8', path: '/x' } }, liveness: { httpGet: { port: 'http' } } },
      { container: { ports: [{ name: 'http', containerPort: 8081 }] } },
    );
    await t.step('liveness');
    expect(t.calls[0]).toMatchObject({ kind: 'http', detail: { req: { ip: '172.17.0.5', port: 8081 } } });
    await t.step('readiness');
    expect(t.calls).toHaveLength(1);
    expect(t.recorder.lines()).toEqual([
      'Warning Unhealthy Readiness probe failed: probe host 8.8.8.8 refused: only the pod IP, the node IP or loopback may be probed',
    ]);
  });

  it('no pod IP yet: waits without probing or events', async () => {
    const t = setup({ readiness: { tcpSocket: { port: 1 } } });
    t.st.status = runningStatus('docker://a', new Date(t.clock.now()), '');
    await t.step('readiness');
    expect(t.calls).toHaveLength(0);
    expect(t.recorder.events).toHaveLength(0);
  });

  it('exec probes run in the runtime container with static $(VAR) expansion', async () => {
    const t = setup(
      { liveness: { exec: { command: ['sh', '-c', 'test -f $(F) && echo $$HOME $(NOPE)'] }, timeoutSeconds: 4 } },
      { container: { env: [{ name: 'F', value: '/tmp/ok' }] } },
    );
    await t.step('liveness');
    expect(t.calls[0]).toEqual({
      kind: 'exec',
      detail: { containerID: 'a', command: ['sh', '-c', 'test -f /tmp/ok && echo $HOME $(NOPE)'], timeout: 4 },
    });
  });
});
