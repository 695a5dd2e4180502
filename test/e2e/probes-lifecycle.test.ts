/**
 * e2e (issue 4): probes through the real daemon (kubelet role on the shared Docker engine) against the test API
 * server, checked with kubectl: liveness exec on a file the container deletes ⇒ three failures one period apart,
 * Killing and a restart with exit code 137 in lastState; httpGet 404 ⇒ restarts into CrashLoopBackOff; tcpSocket on
 * a closed port ⇒ restarts; readiness toggled inside the container flips the pod's Ready condition within one period
 * plus threshold; a startup probe that succeeds late protects the container from its liveness probe.
 * The kubelet role runs on a PRIVATE dockerd (own socket, data root, exec root, pidfile, bridge nlpr-br0 on
 * 10.213.91.0/24): a kubelet garbage-collects kubelet-labelled containers it does not know, so it must never share an
 * engine with other agents. Probes go to pod IPs on that bridge (local to this machine).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import Docker from 'dockerode';
import { dumpOnFailure, runNodelet, startCluster, waitFor, waitForWatch, type Cluster, type NodeletProcess } from './harness/index.js';
import { fastKubeletConfig, freePort, startPrivateDockerd, tempDir, tearDownDaemonScenario, type PrivateDockerd } from './node-helpers.js';

const NODE = 'nlpr-e2e-node';
const NS = 'nlpr-e2e';
const IMAGE = 'localhost/nodelet/testbox:1.0';
let docker: Docker;
let engine: PrivateDockerd | undefined;
let cluster: Cluster;
let nodelet: NodeletProcess | undefined;
let dir: ReturnType<typeof tempDir>;
/** When the readiness pod was first seen Ready=True through a watch started before the pod existed. */
let firstReadyAt: Promise<number> | undefined;
/** When the readiness test created the file its probe checks. */
let touchedAt = 0;

interface ContainerStatusLike {
  name: string;
  ready: boolean;
  started?: boolean;
  restartCount: number;
  containerID?: string;
  state?: { waiting?: { reason?: string }; running?: { startedAt?: string }; terminated?: { exitCode: number } };
  lastState?: { terminated?: { exitCode: number; reason?: string } };
}
interface PodLike {
  metadata: { uid: string };
  status?: { podIP?: string; conditions?: { type: string; status: string }[]; containerStatuses?: ContainerStatusLike[] };
}
interface EventLike {
  reason: string;
  message: string;
  type: string;
  count?: number;
  involvedObject: { name: string; fieldPath?: string };
  firstTimestamp?: string;
  lastTimestamp?: string;
}

function pod(name: string, container: Record<string, unknown>): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS, labels: { 'io.nodelet.test': 'probes-e2e' } },
    spec: { nodeName: NODE, terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: IMAGE, ...container }] },
  });
}

async function getPod(name: string): Promise<PodLike | undefined> {
  const r = await cluster.kubectl(['get', 'pod', name, '-n', NS, '-o', 'json']);
  return r.code === 0 ? (JSON.parse(r.stdout) as PodLike) : undefined;
}

async function cstatus(name: string): Promise<ContainerStatusLike | undefined> {
  return (await getPod(name))?.status?.containerStatuses?.find((c) => c.name === 'c');
}

async function events(name: string): Promise<EventLike[]> {
  const out = await cluster.kubectlOk(['get', 'events', '-n', NS, '-o', 'json']);
  return (JSON.parse(out) as { items: EventLike[] }).items.filter((e) => e.involvedObject.name === name);
}

/** Runs a command in the pod's app container (docker exec, found by the pod UID label). */
async function execInPod(name: string, cmd: string[]): Promise<void> {
  const id = (await cstatus(name))?.containerID?.replace(/^docker:\/\//, '');
  if (!id) throw new Error(`no container for ${name}`);
  const exec = await docker.getContainer(id).exec({ Cmd: cmd });
  await exec.start({ Detach: true });
  await waitFor(async () => (await exec.inspect()).Running === false, { timeoutMs: 5000, intervalMs: 50, description: 'exec done' });
}

beforeAll(async () => {
  cluster = await startCluster();
  dir = tempDir('nlpr-e2e-');
  engine = await startPrivateDockerd(dir.path, 'nlpr-br0', '10.213.91.1/24');
  docker = new Docker({ socketPath: engine.socket });
  nodelet = runNodelet(
    [
      `--kubeconfig=${await cluster.nodeKubeconfig(NODE)}`, // a node identity on a real cluster
      `--config=${fastKubeletConfig(dir.path)}`,
      '--roles=kubelet',
      `--hostname-override=${NODE}`,
      `--root-dir=${dir.path}/root`,
      `--container-runtime-endpoint=unix://${engine.socket}`,
      `--healthz-port=${await freePort()}`,
    ],
    { name: 'nlpr-probes' },
  );
  await cluster.freshNamespace(NS); // a real cluster may still hold the namespace of an earlier run
  await waitFor(async () => (await cluster.kubectl(['get', 'node', NODE])).code === 0, { timeoutMs: 30_000, description: 'node registered' });
  const pods = [
    pod('liveness-exec', {
      command: ['sh', '-c', 'touch /tmp/healthy; sleep 2; rm -f /tmp/healthy; exec sleep 600'],
      livenessProbe: { exec: { command: ['cat', '/tmp/healthy'] }, periodSeconds: 1, failureThreshold: 3, timeoutSeconds: 3 },
    }),
    pod('liveness-http', {
      command: ['sh', '-c', 'mkdir -p /www; httpd -f -p 8080 -h /www'],
      ports: [{ name: 'web', containerPort: 8080 }],
      livenessProbe: { httpGet: { path: '/healthz', port: 'web' }, periodSeconds: 1, failureThreshold: 1 },
    }),
    pod('liveness-tcp', {
      command: ['sleep', '600'],
      livenessProbe: { tcpSocket: { port: 8081 }, periodSeconds: 1, failureThreshold: 2 },
    }),
    pod('readiness', {
      command: ['sleep', '600'],
      readinessProbe: { exec: { command: ['test', '-f', '/tmp/ready'] }, periodSeconds: 1, failureThreshold: 1, timeoutSeconds: 3 },
    }),
    pod('startup', {
      command: ['sh', '-c', 'sleep 5; touch /tmp/started; exec sleep 600'],
      // Generous exec timeouts: the engine may be slow under load; without the startup gate the liveness probe
      // would still kill the container about 2 s after it started, long before the file appears.
      startupProbe: { exec: { command: ['test', '-f', '/tmp/started'] }, periodSeconds: 1, failureThreshold: 30, timeoutSeconds: 5 },
      livenessProbe: { exec: { command: ['test', '-f', '/tmp/started'] }, periodSeconds: 1, failureThreshold: 2, timeoutSeconds: 5 },
    }),
  ];
  // Every update of the readiness pod is observed, so even a transient Ready=True would be seen.
  firstReadyAt = waitForWatch<PodLike>(
    cluster.kubeconfigPath,
    `/api/v1/namespaces/${NS}/pods`,
    (ev) => ev.object.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true,
    { fieldSelector: 'metadata.name=readiness', timeoutMs: 120_000, description: 'readiness pod Ready' },
  ).then(() => Date.now());
  firstReadyAt.catch(() => undefined);
  for (const p of pods) await cluster.kubectlOk(['create', '-f', '-'], { input: p });
}, 90_000);

afterAll(async () => {
  await tearDownDaemonScenario({ cluster, nodelet, engine, docker, namespace: NS, node: NODE, dir, podsGoneTimeoutMs: 15_000 });
});

beforeEach(() => dumpOnFailure(cluster, () => (nodelet ? [nodelet] : [])));

describe('probes through the daemon', () => {
  it('liveness exec on a deleted file: three failures one period apart, Killing, restart with 137 in lastState', async () => {
    const c = await waitFor(async () => {
      const s = await cstatus('liveness-exec');
      return s !== undefined && s.restartCount >= 1 && s.lastState?.terminated ? s : undefined;
    }, { timeoutMs: 40_000, description: 'liveness-exec restarted' });
    expect(c.lastState?.terminated?.exitCode).toBe(137);
    const ev = await events('liveness-exec');
    const unhealthy = ev.find((e) => e.reason === 'Unhealthy');
    expect(unhealthy).toMatchObject({
      type: 'Warning',
      message: "Liveness probe failed: cat: can't open '/tmp/healthy': No such file or directory",
      involvedObject: { fieldPath: 'spec.containers{c}' },
    });
    expect(unhealthy?.count ?? 0).toBeGreaterThanOrEqual(3);
    expect(ev.find((e) => e.reason === 'Killing')?.message).toBe('Container c failed liveness probe, will be restarted');
  });

  it('httpGet 404: restarts and ends in CrashLoopBackOff', async () => {
    await waitFor(async () => {
      const s = await cstatus('liveness-http');
      return s !== undefined && s.restartCount >= 1 && s.state?.waiting?.reason === 'CrashLoopBackOff';
    }, { timeoutMs: 30_000, description: 'liveness-http in CrashLoopBackOff' });
    const ev = await events('liveness-http');
    expect(ev.find((e) => e.reason === 'Unhealthy')?.message).toBe('Liveness probe failed: HTTP probe failed with statuscode: 404');
  });

  it('tcpSocket on a closed port: restarts, with the dial error in the event', async () => {
    await waitFor(async () => ((await cstatus('liveness-tcp'))?.restartCount ?? 0) >= 1, {
      timeoutMs: 40_000,
      description: 'liveness-tcp restarted',
    });
    const ip = (await getPod('liveness-tcp'))?.status?.podIP;
    const ev = await events('liveness-tcp');
    expect(ev.find((e) => e.reason === 'Unhealthy')?.message).toBe(`Liveness probe failed: dial tcp ${ip}:8081: connect: connection refused`);
  });

  it('readiness toggled inside the container flips Ready within one period plus threshold', async () => {
    const ready = async (): Promise<string | undefined> =>
      (await getPod('readiness'))?.status?.conditions?.find((c) => c.type === 'Ready')?.status;
    await waitFor(async () => (await cstatus('readiness'))?.state?.running !== undefined, { timeoutMs: 30_000, description: 'readiness running' });
    await waitFor(async () => (await ready()) === 'False', { timeoutMs: 10_000, description: 'readiness not Ready' });
    // period 1 s × threshold 1, plus the status write and kubectl round trips: the waits' 10 s timeouts are the
    // (generous, load-proof) bound; the exact one-period timing is tested on a FakeClock
    // (src/probes, test/integration/probes-docker.test.ts). The durations are logged for the record.
    touchedAt = Date.now();
    await execInPod('readiness', ['touch', '/tmp/ready']);
    await waitFor(async () => (await ready()) === 'True', { timeoutMs: 10_000, intervalMs: 100, description: 'Ready=True' });
    const up = Date.now() - touchedAt;
    const t0 = Date.now();
    await execInPod('readiness', ['rm', '-f', '/tmp/ready']);
    await waitFor(async () => (await ready()) === 'False', { timeoutMs: 10_000, intervalMs: 100, description: 'Ready=False' });
    console.log(`readiness flips: up ${up} ms, down ${Date.now() - t0} ms`);
  });

  it('readiness: the pod is never Ready before the first successful probe (watched from creation)', async () => {
    expect(touchedAt).toBeGreaterThan(0);
    expect(await firstReadyAt).toBeGreaterThanOrEqual(touchedAt);
  });

  it('a startup probe that succeeds late protects the container from its liveness probe', async () => {
    const s = await waitFor(async () => {
      const c = await cstatus('startup');
      return c?.started === true && c.ready ? c : undefined;
    }, { timeoutMs: 40_000, description: 'startup pod started and ready' });
    expect(s.restartCount).toBe(0);
    const ev = await events('startup');
    expect(ev.filter((e) => e.reason === 'Killing')).toHaveLength(0);
    expect(ev.find((e) => e.reason === 'Unhealthy')?.message).toBe('Startup probe failed: ');
  });
});
