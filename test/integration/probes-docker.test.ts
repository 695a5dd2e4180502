/**
 * The prober against real containers on the local Docker engine, exec through the project's DockerRuntime (image localhost/nodelet/testbox:1.0, containers
 * labelled io.nodelet.test=probes): exec probes through the runtime's exec, a hung exec cut off at timeoutSeconds,
 * httpGet and tcpSocket probes to the pod IP on the Docker bridge, and the real timer loop on the real clock.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import Docker from 'dockerode';
import type { V1PodStatus, V1Probe } from '@kubernetes/client-node';
import { FakeClock, RealClock, silentLogger, type Clock } from '../../src/util/index.js';
import type { ContainerManager } from '../../src/cri/types.js';
import { DockerRuntime } from '../../src/cri/docker/index.js';
import { createProberManager, type ContainerProbeFailure, type ProberManager } from '../../src/probes/index.js';
import { RecordingRecorder, applyResults, podWithProbes } from '../../src/probes/testing.js';

const IMAGE = 'localhost/nodelet/testbox:1.0';
const LABEL = { 'io.nodelet.test': 'probes' };
const docker = new Docker({ socketPath: '/var/run/docker.sock' });

/** The exec seam: the project's Docker backend (exec with the runtime contract's timeout). */
const runtime: Pick<ContainerManager, 'execSync'> = new DockerRuntime({ socketPath: '/var/run/docker.sock' });

let container: Docker.Container;
let containerID = '';
let podIP = '';
let startedAt = new Date();

async function removeOurContainers(): Promise<void> {
  const list = await docker.listContainers({ all: true, filters: { label: ['io.nodelet.test=probes'] } });
  await Promise.all(list.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
}

beforeAll(async () => {
  await removeOurContainers();
  container = await docker.createContainer({
    Image: IMAGE,
    Labels: LABEL,
    // /tmp/alive is deleted by the container itself 3 s after start (the classic liveness-exec example).
    Cmd: ['sh', '-c', 'touch /tmp/healthy /tmp/alive; (sleep 3; rm -f /tmp/alive) & mkdir -p /www; echo ok > /www/index.html; httpd -p 8080 -h /www; exec sleep 3600'],
    HostConfig: { NetworkMode: 'bridge', Init: true },
  });
  await container.start();
  const info = await container.inspect();
  containerID = info.Id;
  podIP = info.NetworkSettings.Networks['bridge']?.IPAddress ?? '';
  startedAt = new Date(info.State.StartedAt);
  // busybox httpd daemonizes: wait until it answers.
  await vi.waitFor(async () => {
    const r = await runtime.execSync(containerID, ['wget', '-q', '-O', '-', 'http://127.0.0.1:8080/'], 2);
    expect(r.exitCode).toBe(0);
  }, { timeout: 10_000, interval: 100 });
}, 60_000);

afterAll(async () => {
  await removeOurContainers();
});

function status(): V1PodStatus {
  return {
    phase: 'Running',
    podIP,
    podIPs: [{ ip: podIP }],
    containerStatuses: [
      { name: 'c', containerID: `docker://${containerID}`, image: IMAGE, imageID: '', ready: false, restartCount: 0, state: { running: { startedAt } } },
    ],
  };
}

function manager(autoRun: boolean, clock: Clock = new RealClock()) {
  const recorder = new RecordingRecorder();
  const failures: ContainerProbeFailure[] = [];
  // Counts exec probes started and finished (event-driven waits on the timer loop).
  const execs = { started: 0, done: 0, at: [] as number[] };
  const counting: Pick<ContainerManager, 'execSync'> = {
    execSync: async (...args) => {
      execs.started++;
      execs.at.push(clock.now());
      try {
        return await runtime.execSync(...args);
      } finally {
        execs.done++;
      }
    },
  };
  const m = createProberManager({
    runtime: counting,
    getPodStatus: () => status(),
    recorder,
    logger: silentLogger(),
    clock,
    nodeIP: '127.0.0.1',
    autoRun,
    random: () => 0,
  });
  m.onContainerFailure((f) => failures.push(f));
  return { m, recorder, failures, execs };
}

const managers: ProberManager[] = [];
afterAll(() => managers.forEach((m) => m.stop()));

describe('probes against a real container', () => {
  it('exec liveness: succeeds while the file exists, fails after the container deletes it, then asks for a restart', async () => {
    const { m, recorder, failures } = manager(false);
    managers.push(m);
    const live: V1Probe = { exec: { command: ['cat', '/tmp/healthy'] }, failureThreshold: 2 };
    m.addPod(podWithProbes({ liveness: live }));
    const w = m.getWorker('uid-1', 'c', 'liveness')!;
    await w.doProbe();
    expect(recorder.events).toHaveLength(0);
    await runtime.execSync(containerID, ['rm', '/tmp/healthy'], 5);
    await w.doProbe();
    await w.doProbe();
    expect(recorder.lines()).toEqual([
      "Warning Unhealthy Liveness probe failed: cat: can't open '/tmp/healthy': No such file or directory",
      "Warning Unhealthy Liveness probe failed: cat: can't open '/tmp/healthy': No such file or directory",
    ]);
    expect(failures.map((f) => f.message)).toEqual(['Container c failed liveness probe, will be restarted']);
    await runtime.execSync(containerID, ['touch', '/tmp/healthy'], 5);
  });

  it('an exec probe that hangs is cut off at timeoutSeconds and fails with the upstream text', async () => {
    const { m, recorder } = manager(false);
    managers.push(m);
    m.addPod(podWithProbes({ readiness: { exec: { command: ['sleep', '30'] }, timeoutSeconds: 1 } }));
    const t0 = Date.now();
    await m.getWorker('uid-1', 'c', 'readiness')!.doProbe();
    const took = Date.now() - t0;
    // Bounds that load cannot break: the cut comes no earlier than timeoutSeconds, and far before the command's own
    // 30 s (generous on purpose; the exact deadline is unit-tested in the runtime with its timer).
    expect(took).toBeGreaterThanOrEqual(1000);
    expect(took).toBeLessThan(20_000);
    expect(recorder.lines()).toEqual(['Warning Unhealthy Readiness probe failed: command "sleep 30" timed out']);
    // the hung process was killed
    const ps = await runtime.execSync(containerID, ['sh', '-c', 'ps | grep -c "[s]leep 30" || true'], 5);
    expect(ps.stdout.trim()).toBe('0');
  });

  it('httpGet against busybox httpd on the pod IP: 200 is ready, 404 fails with the status code', async () => {
    const { m, recorder } = manager(false);
    managers.push(m);
    m.addPod(podWithProbes({ readiness: { httpGet: { port: 'web', path: '/index.html' } }, liveness: { httpGet: { port: 8080, path: '/missing' } } }, {
      container: { ports: [{ name: 'web', containerPort: 8080 }] },
    }));
    await m.getWorker('uid-1', 'c', 'readiness')!.doProbe();
    const s = status();
    applyResults(m, 'uid-1', s);
    expect(s.containerStatuses![0]).toMatchObject({ ready: true, started: true });
    await m.getWorker('uid-1', 'c', 'liveness')!.doProbe();
    expect(recorder.lines()).toEqual(['Warning Unhealthy Liveness probe failed: HTTP probe failed with statuscode: 404']);
  });

  it('tcpSocket on the pod IP: open port succeeds, closed port is refused', async () => {
    const { m, recorder } = manager(false);
    managers.push(m);
    m.addPod(podWithProbes({ readiness: { tcpSocket: { port: 8080 } }, liveness: { tcpSocket: { port: 8081 } } }));
    await m.getWorker('uid-1', 'c', 'readiness')!.doProbe();
    expect(m.cachedResult('readiness', `docker://${containerID}`)).toBe('success');
    await m.getWorker('uid-1', 'c', 'liveness')!.doProbe();
    expect(recorder.lines()).toEqual([`Warning Unhealthy Liveness probe failed: dial tcp ${podIP}:8081: connect: connection refused`]);
  });

  it('the timer loop (FakeClock): liveness exec on a file the container deletes fails three times one period apart, then a kill', async () => {
    // Starts at the real time: the worker compares the clock with the container's real startedAt.
    const clock = new FakeClock(Date.now());
    const { m, recorder, failures, execs } = manager(true, clock);
    managers.push(m);
    await runtime.execSync(containerID, ['rm', '-f', '/tmp/alive'], 5);
    m.addPod(podWithProbes({ liveness: { exec: { command: ['cat', '/tmp/alive'] }, periodSeconds: 1 } }));
    // Start (no jitter: random() = 0), then one probe per period of the fake clock; each waits for its exec to end.
    // The worker registers its start timer asynchronously: fire due timers until the first exec starts.
    await vi.waitFor(() => {
      clock.advance(0);
      expect(execs.started).toBe(1);
    });
    for (let n = 1; n <= 3; n++) {
      await vi.waitFor(() => expect(execs.done).toBe(n), { timeout: 10_000, interval: 20 });
      await vi.waitFor(() => expect(recorder.events).toHaveLength(n), { timeout: 5_000, interval: 20 });
      if (n < 3) clock.advance(1000);
    }
    await vi.waitFor(() => expect(failures).toHaveLength(1));
    expect(failures.map((f) => f.message)).toEqual(['Container c failed liveness probe, will be restarted']);
    expect(recorder.lines()).toEqual(Array(3).fill("Warning Unhealthy Liveness probe failed: cat: can't open '/tmp/alive': No such file or directory"));
    // Three probes exactly one period apart on the clock the worker runs on.
    expect(execs.at.slice(1).map((t, i) => t - execs.at[i]!)).toEqual([1000, 1000]);
    // The worker now holds (no more probes) until it sees a new container ID: two more periods start no exec.
    clock.advance(1000);
    clock.advance(1000);
    for (let i = 0; i < 50; i++) await Promise.resolve();
    expect(execs.started).toBe(3);
    expect(recorder.events).toHaveLength(3);
    expect(failures).toHaveLength(1);
    m.stop();
  });

  it('the timer loop (FakeClock): readiness follows a file the container toggles at the next period', async () => {
    // Starts at the real time: the worker compares the clock with the container's real startedAt.
    const clock = new FakeClock(Date.now());
    const { m, execs } = manager(true, clock);
    managers.push(m);
    await runtime.execSync(containerID, ['rm', '-f', '/tmp/ready'], 5);
    m.addPod(podWithProbes({ readiness: { exec: { command: ['test', '-f', '/tmp/ready'] }, periodSeconds: 1, failureThreshold: 1 } }));
    const ready = (): boolean => {
      const s = status();
      applyResults(m, 'uid-1', s);
      return s.containerStatuses![0]!.ready;
    };
    // The first probe (at start) fails: the file is not there.
    await vi.waitFor(() => {
      clock.advance(0);
      expect(execs.started).toBe(1);
    });
    await vi.waitFor(() => expect(execs.done).toBe(1), { timeout: 10_000, interval: 20 });
    expect(ready()).toBe(false);
    // `ready()` asked for an immediate probe of the not-ready container (as upstream); let it finish (still failing).
    await vi.waitFor(() => expect([execs.started, execs.done]).toEqual([2, 2]), { timeout: 10_000, interval: 20 });
    // One period later the next probe sees the file: ready (threshold 1).
    const before = execs.done;
    await runtime.execSync(containerID, ['touch', '/tmp/ready'], 5);
    clock.advance(1000);
    await vi.waitFor(() => expect(execs.done).toBe(before + 1), { timeout: 10_000, interval: 20 });
    expect(ready()).toBe(true);
    // And one period after the file is gone: not ready.
    await runtime.execSync(containerID, ['rm', '/tmp/ready'], 5);
    clock.advance(1000);
    await vi.waitFor(() => expect(execs.done).toBe(before + 2), { timeout: 10_000, interval: 20 });
    expect(ready()).toBe(false);
    m.stop();
    expect(m.workerCount()).toBe(0);
  });
});
