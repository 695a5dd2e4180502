/**
 * e2e (issue 6): the pod lifecycle through the real daemon (kubelet role) against the test API server, checked with
 * kubectl: a two-container pod reaches 2/2 Ready; Always/OnFailure/Never; init containers in order and a failing one
 * blocks; delete runs preStop, SIGTERM and honours the grace period, then the pod leaves the API; a static pod gets
 * its mirror `<pod>-<node>`, a deleted mirror comes back, removing the file stops it; kill -9 of the agent during
 * churn leaves no duplicate or orphan containers and restarts no healthy container.
 * Runs on a PRIVATE dockerd (bridge nlpo-br0, 10.213.95.0/24): pods get addresses on that local bridge only.
 * Crash-loop timing is measured in test/integration/pods-docker.test.ts (one ~30 s timing test in the suite).
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { dumpOnFailure, runNodelet, startCluster, waitFor, waitForWatch, type Cluster, type NodeletProcess } from './harness/index.js';
import { fastKubeletConfig, freePort, startPrivateDockerd, tempDir, tearDownDaemonScenario, type PrivateDockerd } from './node-helpers.js';

const NODE = 'nlpo-e2e-node';
const NS = 'nlpo-e2e';
const IMAGE = 'localhost/nodelet/testbox:1.0';
let docker: Docker;
let engine: PrivateDockerd | undefined;
let cluster: Cluster;
let nodelet: NodeletProcess | undefined;
let dir: ReturnType<typeof tempDir>;
let args: string[] = [];
let healthzPort = 0;

interface CStatus {
  name: string;
  ready: boolean;
  restartCount: number;
  containerID?: string;
  state?: { waiting?: { reason?: string }; running?: { startedAt?: string }; terminated?: { exitCode: number; reason?: string; startedAt?: string; finishedAt?: string } };
}
interface PodLike {
  metadata: { uid: string; name: string; annotations?: Record<string, string>; ownerReferences?: { kind: string; name: string }[] };
  status?: { phase?: string; conditions?: { type: string; status: string }[]; containerStatuses?: CStatus[]; initContainerStatuses?: CStatus[] };
}

const container = (name: string, script: string, extra: Record<string, unknown> = {}) => ({ name, image: IMAGE, command: ['sh', '-c', script], ...extra });
function podJSON(name: string, spec: Record<string, unknown>): string {
  return JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: NS }, spec: { nodeName: NODE, terminationGracePeriodSeconds: 2, ...spec } });
}
async function create(name: string, spec: Record<string, unknown>): Promise<void> {
  await cluster.kubectlOk(['create', '-f', '-'], { input: podJSON(name, spec) });
}
async function getPod(name: string, ns = NS): Promise<PodLike | undefined> {
  const r = await cluster.kubectl(['get', 'pod', name, '-n', ns, '-o', 'json']);
  return r.code === 0 ? (JSON.parse(r.stdout) as PodLike) : undefined;
}
async function waitPod(name: string, pred: (p: PodLike) => boolean, description: string, timeoutMs = 30_000, ns = NS): Promise<PodLike> {
  return waitFor(async () => {
    const p = await getPod(name, ns);
    return p !== undefined && pred(p) ? p : undefined;
  }, { timeoutMs, description });
}
const ready = (p: PodLike): boolean => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
async function containersOf(uid: string, all = false): Promise<Docker.ContainerInfo[]> {
  return docker.listContainers({ all, filters: { label: [`io.kubernetes.pod.uid=${uid}`] } });
}
function start(): NodeletProcess {
  return runNodelet(args, { name: 'nlpo-pods' });
}

beforeAll(async () => {
  cluster = await startCluster();
  dir = tempDir('nlpo-e2e-');
  engine = await startPrivateDockerd(dir.path, 'nlpo-br0', '10.213.95.1/24');
  docker = new Docker({ socketPath: engine.socket });
  const manifests = join(dir.path, 'manifests');
  rmSync(manifests, { recursive: true, force: true });
  (await import('node:fs')).mkdirSync(manifests);
  args = [
    `--kubeconfig=${await cluster.nodeKubeconfig(NODE)}`, // a node identity on a real cluster
    `--config=${fastKubeletConfig(dir.path, 'fileCheckFrequency: 1s\nsyncFrequency: 10s\n')}`,
    '--roles=kubelet',
    `--hostname-override=${NODE}`,
    `--root-dir=${dir.path}/root`,
    `--pod-manifest-path=${manifests}`,
    `--container-runtime-endpoint=unix://${engine.socket}`,
    `--healthz-port=${(healthzPort = await freePort())}`,
  ];
  nodelet = start();
  await cluster.freshNamespace(NS); // a real cluster may still hold the namespace of an earlier run
  await waitFor(async () => (await cluster.kubectl(['get', 'node', NODE])).code === 0, { timeoutMs: 30_000, description: 'node registered' });
}, 90_000);

afterAll(async () => {
  rmSync(join(dir.path, 'manifests'), { recursive: true, force: true });
  await tearDownDaemonScenario({ cluster, nodelet, engine, docker, namespace: NS, node: NODE, dir });
}, 60_000);

beforeEach(() => dumpOnFailure(cluster, () => (nodelet ? [nodelet] : [])));

describe('pods through the daemon', () => {
  it('runs a two-container pod to 2/2 Ready, and the restart policies', async () => {
    await create('two', { containers: [container('web', 'mkdir -p /www; exec httpd -f -p 8080 -h /www'), container('side', 'exec sleep 3600')] });
    await create('crash', { containers: [container('c', 'exit 1')] });
    await create('never', { restartPolicy: 'Never', containers: [container('c', 'exit 3')] });
    await create('onfail', { restartPolicy: 'OnFailure', containers: [container('c', 'exit 0')] });
    await waitPod('two', ready, 'two Ready');
    const row = await cluster.kubectlOk(['get', 'pod', 'two', '-n', NS, '--no-headers']);
    expect(row).toMatch(/^two\s+2\/2\s+Running\s+0\s/);
    // The lifecycle feeds the daemon's kubelet metrics (a started pod, worker steps, PLEG relists) on /metrics.
    const scrape = async (): Promise<string> => (await fetch(`http://127.0.0.1:${healthzPort}/metrics`)).text();
    const metrics = await waitFor(async () => {
      const text = await scrape();
      return /^kubelet_pod_worker_duration_seconds_count\{operation_type="create"\} [1-9]/m.test(text) ? text : undefined;
    }, { timeoutMs: 10_000, description: 'pod worker metrics' });
    expect(metrics).toMatch(/^kubelet_pod_start_duration_seconds_count [1-9]/m);
    expect(metrics).toMatch(/^kubelet_pleg_relist_duration_seconds_count [1-9]/m);
    const crash = await waitPod('crash', (p) => p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'CrashLoopBackOff', 'CrashLoopBackOff');
    expect(crash.status?.phase).toBe('Running');
    // kubectl prints it too. Polled: between two back-offs the row shows the last exit ("Error") for a moment, so a
    // single read right after the API poll above races with the next crash on a loaded machine.
    await waitFor(async () => /CrashLoopBackOff/.test(await cluster.kubectlOk(['get', 'pod', 'crash', '-n', NS, '--no-headers'])) || undefined, {
      timeoutMs: 60_000,
      description: 'kubectl shows CrashLoopBackOff',
    });
    const never = await waitPod('never', (p) => p.status?.phase === 'Failed', 'never Failed');
    expect(never.status?.containerStatuses?.[0]?.state?.terminated?.exitCode).toBe(3);
    expect(never.status?.containerStatuses?.[0]?.restartCount).toBe(0);
    const onfail = await waitPod('onfail', (p) => p.status?.phase === 'Succeeded', 'onfail Succeeded');
    expect(onfail.status?.containerStatuses?.[0]?.state?.terminated?.reason).toBe('Completed');
    const ev = JSON.parse(await cluster.kubectlOk(['get', 'events', '-n', NS, '-o', 'json'])) as { items: { reason: string; message: string; involvedObject: { name: string; fieldPath?: string }; source?: { component?: string } }[] };
    const backoff = ev.items.find((e) => e.reason === 'BackOff' && e.involvedObject.name === 'crash');
    expect(backoff?.message).toMatch(/^Back-off restarting failed container c in pod crash_nlpo-e2e\(/);
    expect(backoff?.involvedObject.fieldPath).toBe('spec.containers{c}');
    expect(backoff?.source?.component).toBe('kubelet');
  }, 60_000);

  it('runs init containers in order; a failing one blocks the app (Failed under Never)', async () => {
    await create('init', { initContainers: [container('i1', 'sleep 1'), container('i2', 'exit 0')], containers: [container('app', 'exec sleep 3600')] });
    await create('initfail', { restartPolicy: 'Never', initContainers: [container('i1', 'exit 1')], containers: [container('app', 'exec sleep 3600')] });
    const p = await waitPod('init', (x) => x.status?.phase === 'Running', 'init Running');
    const [i1, i2] = p.status?.initContainerStatuses ?? [];
    expect(i1?.state?.terminated?.reason).toBe('Completed');
    expect(Date.parse(i2?.state?.terminated?.startedAt ?? '')).toBeGreaterThanOrEqual(Date.parse(i1?.state?.terminated?.finishedAt ?? ''));
    const f = await waitPod('initfail', (x) => x.status?.phase === 'Failed', 'initfail Failed');
    expect(f.status?.containerStatuses?.[0]?.state?.waiting?.reason).toBe('PodInitializing');
    expect((await containersOf(f.metadata.uid, true)).filter((c) => c.Labels['io.kubernetes.container.name'] === 'app')).toEqual([]);
  }, 60_000);

  it('deletes a pod: preStop, then SIGTERM, grace honoured, then the pod leaves the API', async () => {
    await create('term', {
      terminationGracePeriodSeconds: 3,
      containers: [
        container('polite', "trap 'if [ -f /tmp/prestop ]; then exit 0; else exit 7; fi' TERM; while true; do sleep 0.2; done", {
          lifecycle: { preStop: { exec: { command: ['sh', '-c', 'touch /tmp/prestop'] } } },
        }),
        container('stubborn', "trap '' TERM; while true; do sleep 0.2; done"),
      ],
    });
    const p = await waitPod('term', (x) => x.status?.phase === 'Running', 'term Running');
    const final = waitForWatch<PodLike>(cluster.kubeconfigPath, `/api/v1/namespaces/${NS}/pods`,
      (e) => (e.object.status?.containerStatuses ?? []).length === 2 && (e.object.status?.containerStatuses ?? []).every((c) => c.state?.terminated !== undefined),
      { fieldSelector: 'metadata.name=term', timeoutMs: 20_000, description: 'final status' });
    const t0 = Date.now();
    await cluster.kubectlOk(['delete', 'pod', 'term', '-n', NS, '--wait=false']);
    const last = await final;
    await waitFor(async () => (await getPod('term')) === undefined, { timeoutMs: 20_000, description: 'term gone' });
    const elapsed = Date.now() - t0;
    // The stubborn container ignores SIGTERM: the pod cannot be gone before its 3 s grace period. A lower bound only
    // (a loaded machine makes it later, never earlier; the waits above bound it by their timeouts).
    expect(elapsed).toBeGreaterThanOrEqual(2_500);
    const code = (n: string) => last.status?.containerStatuses?.find((c) => c.name === n)?.state?.terminated?.exitCode;
    expect(code('polite')).toBe(0);
    expect(code('stubborn')).toBe(137);
    await waitFor(async () => (await containersOf(p.metadata.uid, true)).length === 0, { timeoutMs: 10_000, description: 'containers removed' });
  }, 60_000);

  it('mirrors a static pod, recreates a deleted mirror, and stops the pod when its file is removed', async () => {
    const file = join(dir.path, 'manifests', 'static-web.yaml');
    writeFileSync(file, `apiVersion: v1\nkind: Pod\nmetadata:\n  name: static-web\n  namespace: ${NS}\nspec:\n  terminationGracePeriodSeconds: 1\n  containers:\n  - name: web\n    image: ${IMAGE}\n    command: [sleep, "3600"]\n`);
    const name = `static-web-${NODE}`;
    const m = await waitPod(name, ready, 'mirror Ready');
    expect(m.metadata.annotations?.['kubernetes.io/config.mirror']).toBeDefined();
    expect(m.metadata.annotations?.['kubernetes.io/config.source']).toBe('file');
    expect(m.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'Node', name: NODE });
    const cid = m.status?.containerStatuses?.[0]?.containerID;
    await cluster.kubectlOk(['delete', 'pod', name, '-n', NS, '--wait=false']);
    const back = await waitPod(name, (p) => p.metadata.uid !== m.metadata.uid && ready(p), 'mirror recreated');
    expect(back.status?.containerStatuses?.[0]?.containerID).toBe(cid);
    rmSync(file);
    await waitFor(async () => (await getPod(name)) === undefined, { timeoutMs: 20_000, description: 'mirror removed' });
    await waitFor(async () => (await docker.listContainers({ filters: { label: [`io.kubernetes.pod.name=${name}`] } })).length === 0, { timeoutMs: 20_000, description: 'static pod stopped' });
  }, 60_000);

  it('kill -9 during churn: no duplicates, no orphans, no restart of healthy containers', async () => {
    const two = await waitPod('two', ready, 'two Ready');
    const twoIds = (await containersOf(two.metadata.uid)).map((c) => c.Id).sort();
    for (let i = 0; i < 4; i++) await create(`churn-${i}`, { containers: [container('a', 'exec sleep 3600'), container('b', 'exec sleep 3600')] });
    // Kill while the agent is busy with the new pods: as soon as the first churn container exists (no fixed sleep).
    await waitFor(async () => (await docker.listContainers({ all: true, filters: { label: ['io.kubernetes.pod.name=churn-0'] } })).length > 0, { timeoutMs: 30_000, description: 'churn started' });
    process.kill(nodelet?.pid as number, 'SIGKILL');
    await nodelet?.exited;
    await cluster.kubectlOk(['delete', 'pod', 'churn-3', '-n', NS, '--wait=false']);
    nodelet = start();
    for (let i = 0; i < 3; i++) await waitPod(`churn-${i}`, ready, `churn-${i} Ready`, 40_000);
    await waitFor(async () => (await getPod('churn-3')) === undefined, { timeoutMs: 30_000, description: 'churn-3 gone' });
    for (let i = 0; i < 3; i++) {
      const p = await getPod(`churn-${i}`);
      const running = await containersOf(p?.metadata.uid ?? '');
      const names = running.map((c) => c.Labels['io.kubernetes.container.name'] ?? 'POD').sort();
      expect(names.filter((n) => n !== 'POD' && n !== '')).toEqual(['a', 'b']);
      expect(running.filter((c) => c.Labels['io.kubernetes.docker.type'] === 'podsandbox').length).toBe(1);
    }
    // Pod UIDs in the API, plus static pod UIDs (their mirror's config.mirror annotation).
    const items = (JSON.parse(await cluster.kubectlOk(['get', 'pods', '-n', NS, '-o', 'json'])) as { items: PodLike[] }).items;
    const live = new Set(items.flatMap((p) => [p.metadata.uid, p.metadata.annotations?.['kubernetes.io/config.mirror'] ?? '']));
    for (const c of await docker.listContainers()) expect(live.has(c.Labels['io.kubernetes.pod.uid'] ?? '')).toBe(true);
    expect((await containersOf(two.metadata.uid)).map((c) => c.Id).sort()).toEqual(twoIds);
    expect((await getPod('two'))?.status?.containerStatuses?.every((c) => c.restartCount === 0)).toBe(true);
  }, 90_000);
});
