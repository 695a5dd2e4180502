/**
 * e2e (issue 16 item 5): in-place pod resize through the daemon (cgroupsPerQOS, cgroupfs driver, private dockerd on
 * bridge h6rz-br0). `kubectl patch --subresource resize` on the API server (the test API server, or the real v1.33
 * control plane when KUBECONFIG is set); checked in the kernel's cgroup v1 files and the pod's status: the container
 * keeps its ID and restartCount while its memory.limit_in_bytes / cpu.cfs_quota_us and its pod cgroup change, the
 * status shows the new resources; a resize beyond the node is PodResizePending/Infeasible and changes nothing; a
 * memory resize under resizePolicy RestartContainer restarts the container with the new limit.
 */
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import Docker from 'dockerode';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { dumpOnFailure, runNodelet, startCluster, waitFor, type Cluster, type NodeletProcess } from './harness/index.js';
import { fastKubeletConfig, startPrivateDockerd, tempDir, tearDownDaemonScenario, type PrivateDockerd } from './node-helpers.js';

const NODE = 'h6-a';
const NS = 'h6-resize';
const IMAGE = 'localhost/nodelet/testbox:1.0';
const ROOT = `h6-rztest-${process.pid}`;
const MI = 1024 * 1024;
let docker: Docker;
let engine: PrivateDockerd | undefined;
let cluster: Cluster;
let nodelet: NodeletProcess | undefined;
let dir: ReturnType<typeof tempDir>;

interface Cond { type: string; status: string; reason?: string; message?: string }
interface CStatus { containerID?: string; restartCount: number; state?: { running?: unknown }; resources?: { requests?: Record<string, string>; limits?: Record<string, string> } }
interface PodLike { metadata: { uid: string }; status?: { phase?: string; conditions?: Cond[]; containerStatuses?: CStatus[] } }

const sleeper = { name: 'c', image: IMAGE, command: ['sh', '-c', "trap 'exit 0' TERM; while true; do sleep 1 & wait $!; done"] };
const resources = (cpu: string, mem: string) => ({ requests: { cpu: '100m', memory: '32Mi' }, limits: { cpu, memory: mem } });

async function create(name: string, container: Record<string, unknown>): Promise<void> {
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: NS }, spec: { nodeName: NODE, terminationGracePeriodSeconds: 1, containers: [{ ...sleeper, ...container }] } };
  await cluster.kubectlOk(['create', '-f', '-'], { input: JSON.stringify(pod) });
}
async function getPod(name: string): Promise<PodLike | undefined> {
  const r = await cluster.kubectl(['get', 'pod', name, '-n', NS, '-o', 'json']);
  return r.code === 0 ? (JSON.parse(r.stdout) as PodLike) : undefined;
}
async function waitPod(name: string, pred: (p: PodLike) => boolean, description: string): Promise<PodLike> {
  return waitFor(async () => {
    const p = await getPod(name);
    return p !== undefined && pred(p) ? p : undefined;
  }, { timeoutMs: 60_000, description });
}
const c0 = (p: PodLike): CStatus | undefined => p.status?.containerStatuses?.[0];
const cond = (p: PodLike, type: string): Cond | undefined => p.status?.conditions?.find((c) => c.type === type);
const read = (path: string): number => Number(readFileSync(path, 'utf8').trim());
async function resize(name: string, res: unknown): Promise<void> {
  await cluster.kubectlOk(['patch', 'pod', name, '-n', NS, '--subresource', 'resize', '-p', JSON.stringify({ spec: { containers: [{ name: 'c', resources: res }] } })]);
}
/** The app container's cgroup v1 directory of `controller` (cgroupfs: <CgroupParent>/<id>), and its pod's. */
async function cgroups(uid: string, controller: string): Promise<{ container: string; pod: string; id: string }> {
  const [c] = await docker.listContainers({ filters: { label: [`io.kubernetes.pod.uid=${uid}`, 'io.kubernetes.container.name=c'] } });
  if (c === undefined) throw new Error(`no running container for pod ${uid}`);
  const info = await docker.getContainer(c.Id).inspect();
  const parent = info.HostConfig.CgroupParent ?? '';
  return { container: `/sys/fs/cgroup/${controller}${parent}/${c.Id}`, pod: `/sys/fs/cgroup/${controller}${parent}`, id: c.Id };
}

beforeAll(async () => {
  cluster = await startCluster();
  dir = tempDir('h6-resize-');
  engine = await startPrivateDockerd(dir.path, 'h6rz-br0', '10.231.6.129/25');
  docker = new Docker({ socketPath: engine.socket });
  nodelet = runNodelet(
    [
      `--kubeconfig=${await cluster.nodeKubeconfig(NODE)}`,
      `--config=${fastKubeletConfig(dir.path, 'syncFrequency: 10s\n')}`,
      '--roles=kubelet',
      `--hostname-override=${NODE}`,
      `--root-dir=${dir.path}/root`,
      `--container-runtime-endpoint=unix://${engine.socket}`,
      // Ports of this test's own block (21500-21599).
      '--healthz-port=21500',
      '--port=21501',
      `--cgroup-root=/${ROOT}`,
    ],
    { name: 'h6-resize' },
  );
  await cluster.freshNamespace(NS);
  await waitFor(async () => (await cluster.kubectl(['get', 'node', NODE])).code === 0, { timeoutMs: 30_000, description: 'node registered' });
}, 90_000);

afterAll(async () => {
  await tearDownDaemonScenario({ cluster, nodelet, engine, docker, namespace: NS, node: NODE, dir });
  spawnSync('sh', ['-c', `for i in 1 2 3; do find /sys/fs/cgroup/*/${ROOT} -depth -type d -exec rmdir {} + 2>/dev/null; done; true`]);
}, 60_000);

beforeEach(() => dumpOnFailure(cluster, () => (nodelet ? [nodelet] : [])));

describe('in-place pod resize', () => {
  it('resizes a running container in place: same container, restartCount 0, cgroups and status changed', async () => {
    await create('rz', { resources: resources('200m', '64Mi'), resizePolicy: [{ resourceName: 'memory', restartPolicy: 'NotRequired' }] });
    const before = await waitPod('rz', (p) => c0(p)?.state?.running !== undefined, 'rz running');
    const mem = await cgroups(before.metadata.uid, 'memory');
    const cpu = await cgroups(before.metadata.uid, 'cpu');
    expect(read(`${mem.container}/memory.limit_in_bytes`)).toBe(64 * MI);
    expect(read(`${cpu.container}/cpu.cfs_quota_us`)).toBe(20_000);
    expect(read(`${mem.pod}/memory.limit_in_bytes`)).toBe(64 * MI);

    const t0 = Date.now();
    await resize('rz', { requests: { cpu: '150m' }, limits: { cpu: '400m', memory: '128Mi' } });
    // Patch → the kernel enforcing the new limit (the informer update wakes the pod worker at once).
    await waitFor(() => read(`${mem.container}/memory.limit_in_bytes`) === 128 * MI, { timeoutMs: 15_000, intervalMs: 20, description: 'cgroup resized' });
    console.info(`h6 resize: patch → container cgroup changed in ${Date.now() - t0} ms`);
    const after = await waitPod('rz', (p) => c0(p)?.resources?.limits?.['memory'] === '128Mi' && cond(p, 'PodResizeInProgress') === undefined, 'resize applied');
    expect(c0(after)).toMatchObject({ containerID: c0(before)?.containerID, restartCount: 0 });
    expect(c0(after)?.resources).toEqual({ requests: { cpu: '150m', memory: '32Mi' }, limits: { cpu: '400m', memory: '128Mi' } });
    expect(cond(after, 'PodResizePending')).toBeUndefined();
    expect((await cgroups(before.metadata.uid, 'memory')).id).toBe(mem.id);
    expect(read(`${mem.container}/memory.limit_in_bytes`)).toBe(128 * MI);
    expect(read(`${cpu.container}/cpu.cfs_quota_us`)).toBe(40_000);
    expect(read(`${cpu.container}/cpu.shares`)).toBe(153);
    expect(read(`${mem.pod}/memory.limit_in_bytes`)).toBe(128 * MI);
    expect(read(`${cpu.pod}/cpu.cfs_quota_us`)).toBe(40_000);

    // And down again (CPU): the container first, then its pod cgroup.
    await resize('rz', { limits: { cpu: '300m' } });
    await waitPod('rz', (p) => c0(p)?.resources?.limits?.['cpu'] === '300m' && cond(p, 'PodResizeInProgress') === undefined, 'cpu decrease applied');
    expect(read(`${cpu.container}/cpu.cfs_quota_us`)).toBe(30_000);
    expect(read(`${cpu.pod}/cpu.cfs_quota_us`)).toBe(30_000);
    expect(c0((await getPod('rz')) as PodLike)?.restartCount).toBe(0);
  }, 120_000);

  it('keeps a resize beyond the node pending as Infeasible and changes nothing', async () => {
    await create('big', { resources: resources('200m', '64Mi') });
    const before = await waitPod('big', (p) => c0(p)?.state?.running !== undefined, 'big running');
    await resize('big', { requests: { cpu: '1000' }, limits: { cpu: '1000' } });
    const p = await waitPod('big', (x) => cond(x, 'PodResizePending') !== undefined, 'PodResizePending');
    expect(cond(p, 'PodResizePending')).toMatchObject({ status: 'True', reason: 'Infeasible' });
    expect(cond(p, 'PodResizePending')?.message).toMatch(/^Node didn't have enough capacity: cpu, requested: 1000000, capacity: \d+$/);
    expect(c0(p)?.resources?.limits).toEqual({ cpu: '200m', memory: '64Mi' });
    expect(c0(p)).toMatchObject({ containerID: c0(before)?.containerID, restartCount: 0 });
    const cpu = await cgroups(before.metadata.uid, 'cpu');
    expect(read(`${cpu.container}/cpu.cfs_quota_us`)).toBe(20_000);
  }, 120_000);

  it('restarts the container for a memory resize under resizePolicy RestartContainer', async () => {
    await create('rs', { resources: resources('200m', '64Mi'), resizePolicy: [{ resourceName: 'memory', restartPolicy: 'RestartContainer' }] });
    const before = await waitPod('rs', (p) => c0(p)?.state?.running !== undefined, 'rs running');
    await resize('rs', { limits: { memory: '48Mi' } });
    const after = await waitPod('rs', (p) => c0(p)?.restartCount === 1 && c0(p)?.state?.running !== undefined && c0(p)?.resources?.limits?.['memory'] === '48Mi', 'restarted with 48Mi');
    expect(c0(after)?.containerID).not.toBe(c0(before)?.containerID);
    const mem = await cgroups(before.metadata.uid, 'memory');
    expect(read(`${mem.container}/memory.limit_in_bytes`)).toBe(48 * MI);
  }, 120_000);
});
