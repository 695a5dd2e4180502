/**
 * e2e (issue 16): the QoS and pod cgroup hierarchy through the daemon (cgroupsPerQOS, cgroupfs driver), checked in
 * the kernel's cgroup files: `kubepods` limited to allocatable, a Guaranteed pod's `pod<uid>` directly under
 * `kubepods` with the summed limits, a BestEffort pod under `kubepods/besteffort`, the containers of both runtimes'
 * sandboxes placed in their pod's cgroup, a memory hog OOM-killed by its 64 Mi limit and reported `OOMKilled` while
 * its neighbours keep running, and the pod cgroup removed with the pod. Private dockerd (bridge nl0cg-br0); the
 * daemon gets its own cgroup root, removed afterwards.
 */
import { existsSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import Docker from 'dockerode';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { dumpOnFailure, runNodelet, startCluster, waitFor, type Cluster, type NodeletProcess } from './harness/index.js';
import { fastKubeletConfig, freePort, startPrivateDockerd, tempDir, tearDownDaemonScenario, type PrivateDockerd } from './node-helpers.js';

const NODE = 'nl0-cgroups-node';
const NS = 'nl0-cgroups';
const IMAGE = 'localhost/nodelet/testbox:1.0';
const ROOT = `nl0-cgtest-${process.pid}`;
const MEM = '/sys/fs/cgroup/memory';
let docker: Docker;
let engine: PrivateDockerd | undefined;
let cluster: Cluster;
let nodelet: NodeletProcess | undefined;
let dir: ReturnType<typeof tempDir>;

interface PodLike {
  metadata: { uid: string };
  status?: { phase?: string; containerStatuses?: { state?: { running?: unknown }; lastState?: { terminated?: { reason?: string } }; restartCount: number }[] };
}
const sleeper = { name: 'c', image: IMAGE, command: ['sh', '-c', "trap 'exit 0' TERM; while true; do sleep 1 & wait $!; done"] };
async function create(name: string, spec: Record<string, unknown>): Promise<void> {
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: NS }, spec: { nodeName: NODE, terminationGracePeriodSeconds: 1, ...spec } };
  await cluster.kubectlOk(['create', '-f', '-'], { input: JSON.stringify(pod) });
}
async function waitPod(name: string, pred: (p: PodLike) => boolean, description: string): Promise<PodLike> {
  return waitFor(async () => {
    const r = await cluster.kubectl(['get', 'pod', name, '-n', NS, '-o', 'json']);
    const p = r.code === 0 ? (JSON.parse(r.stdout) as PodLike) : undefined;
    return p !== undefined && pred(p) ? p : undefined;
  }, { timeoutMs: 40_000, description });
}
const running = (p: PodLike): boolean => p.status?.containerStatuses?.[0]?.state?.running !== undefined;
const read = (path: string): string => readFileSync(path, 'utf8').trim();
async function appContainer(uid: string): Promise<Docker.ContainerInspectInfo> {
  const [c] = await docker.listContainers({ filters: { label: [`io.kubernetes.pod.uid=${uid}`, 'io.kubernetes.container.name=c'] } });
  if (c === undefined) throw new Error(`no container for pod ${uid}`);
  return docker.getContainer(c.Id).inspect();
}

beforeAll(async () => {
  cluster = await startCluster();
  dir = tempDir('nl0-cgroups-');
  engine = await startPrivateDockerd(dir.path, 'nl0cg-br0', '10.213.152.1/24');
  docker = new Docker({ socketPath: engine.socket });
  nodelet = runNodelet(
    [
      `--kubeconfig=${await cluster.nodeKubeconfig(NODE)}`,
      `--config=${fastKubeletConfig(dir.path, 'syncFrequency: 10s\nkubeReserved:\n  memory: 1Gi\n')}`,
      '--roles=kubelet',
      `--hostname-override=${NODE}`,
      `--root-dir=${dir.path}/root`,
      `--container-runtime-endpoint=unix://${engine.socket}`,
      `--healthz-port=${await freePort()}`,
      `--cgroup-root=/${ROOT}`,
    ],
    { name: 'nl0-cgroups' },
  );
  await cluster.freshNamespace(NS);
  await waitFor(async () => (await cluster.kubectl(['get', 'node', NODE])).code === 0, { timeoutMs: 30_000, description: 'node registered' });
}, 90_000);

afterAll(async () => {
  await tearDownDaemonScenario({ cluster, nodelet, engine, docker, namespace: NS, node: NODE, dir });
  spawnSync('sh', ['-c', `find /sys/fs/cgroup/*/${ROOT} -depth -type d -exec rmdir {} + 2>/dev/null`]);
}, 60_000);

beforeEach(() => dumpOnFailure(cluster, () => (nodelet ? [nodelet] : [])));

describe('pod cgroups', () => {
  it('creates kubepods with allocatable, the QoS cgroups, and pod cgroups holding the containers and the pod limits', async () => {
    await waitFor(() => existsSync(`${MEM}/${ROOT}/kubepods/besteffort`), { description: 'QoS cgroups created' });
    const total = Number(/MemTotal:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0) * 1024;
    expect(Number(read(`${MEM}/${ROOT}/kubepods/memory.limit_in_bytes`))).toBe(Math.floor((total - 2 ** 30) / 4096) * 4096);
    expect(read(`/sys/fs/cgroup/cpu/${ROOT}/kubepods/besteffort/cpu.shares`)).toBe('2');

    await create('g', { containers: [{ ...sleeper, resources: { limits: { cpu: '100m', memory: '64Mi' } } }] });
    await create('be', { containers: [sleeper] });
    const g = await waitPod('g', running, 'guaranteed pod running');
    const be = await waitPod('be', running, 'besteffort pod running');
    const gDir = `${ROOT}/kubepods/pod${g.metadata.uid}`;
    expect(read(`${MEM}/${gDir}/memory.limit_in_bytes`)).toBe(String(64 * 2 ** 20));
    expect(read(`/sys/fs/cgroup/cpu/${gDir}/cpu.cfs_quota_us`)).toBe('10000');
    expect(read(`/sys/fs/cgroup/cpu/${gDir}/cpu.shares`)).toBe('102');
    expect((await appContainer(g.metadata.uid)).HostConfig.CgroupParent).toBe(`/${gDir}`);
    const gc = await appContainer(g.metadata.uid);
    expect(existsSync(`${MEM}/${gDir}/${gc.Id}`)).toBe(true);
    expect((await appContainer(be.metadata.uid)).HostConfig.CgroupParent).toBe(`/${ROOT}/kubepods/besteffort/pod${be.metadata.uid}`);

    // A memory hog with a 64 Mi limit is OOM-killed and reported; the others keep running.
    await create('hog', {
      containers: [{ name: 'c', image: IMAGE, command: ['dd', 'if=/dev/zero', 'of=/dev/null', 'bs=100M', 'count=1'], resources: { requests: { memory: '32Mi' }, limits: { memory: '64Mi' } } }],
    });
    const hog = await waitPod('hog', (p) => p.status?.containerStatuses?.[0]?.lastState?.terminated?.reason === 'OOMKilled', 'hog OOMKilled');
    expect(existsSync(`${MEM}/${ROOT}/kubepods/burstable/pod${hog.metadata.uid}`)).toBe(true);
    expect(running(await waitPod('g', () => true, 'g'))).toBe(true);
    expect((await waitPod('g', () => true, 'g')).status?.containerStatuses?.[0]?.restartCount).toBe(0);

    // Deleting the pod removes its cgroup.
    await cluster.kubectlOk(['delete', 'pod', 'g', '-n', NS, '--wait=true', '--timeout=60s']);
    await waitFor(() => !existsSync(`${MEM}/${gDir}`), { timeoutMs: 20_000, description: 'pod cgroup removed' });
  });
});
