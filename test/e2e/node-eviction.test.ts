/**
 * e2e (issue 16): the eviction manager through the daemon, with thresholds relative to what this test controls, so
 * the machine is never exhausted:
 * - memory: kubeReserved leaves 700 Mi allocatable (so `kubepods` is a 700 Mi cgroup) and the hard threshold is
 *   `allocatableMemory.available<350Mi`; a BestEffort pod allocating ~400 Mi is evicted (Failed, reason Evicted, the
 *   upstream message) while the Guaranteed pod beside it keeps running; the node then refuses a new BestEffort pod.
 * - disk: the root dir is a 64 Mi tmpfs and the threshold `nodefs.available<24Mi`; a pod filling its emptyDir with
 *   48 Mi is evicted.
 * Private dockerd (bridge nl0ev-br0); own cgroup root, removed afterwards.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import Docker from 'dockerode';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { dumpOnFailure, runNodelet, startCluster, waitFor, type Cluster, type NodeletProcess } from './harness/index.js';
import { fastKubeletConfig, freePort, startPrivateDockerd, tempDir, tearDownDaemonScenario, unmountUnder, type PrivateDockerd } from './node-helpers.js';

const NODE = 'nl0-eviction-node';
const NS = 'nl0-eviction';
const IMAGE = 'localhost/nodelet/testbox:1.0';
const ROOT = `nl0-evtest-${process.pid}`;
let docker: Docker;
let engine: PrivateDockerd | undefined;
let cluster: Cluster;
let nodelet: NodeletProcess | undefined;
let dir: ReturnType<typeof tempDir>;
let rootDir = '';

interface PodLike {
  status?: {
    phase?: string;
    reason?: string;
    message?: string;
    containerStatuses?: { state?: { running?: unknown } }[];
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
  };
}
const disruptionTarget = (p: PodLike) => p.status?.conditions?.find((c) => c.type === 'DisruptionTarget');
const sleeper = (extra: Record<string, unknown> = {}) => ({ name: 'c', image: IMAGE, command: ['sh', '-c', "trap 'exit 0' TERM; while true; do sleep 1 & wait $!; done"], ...extra });
async function create(name: string, spec: Record<string, unknown>): Promise<void> {
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: NS }, spec: { nodeName: NODE, terminationGracePeriodSeconds: 1, ...spec } };
  await cluster.kubectlOk(['create', '-f', '-'], { input: JSON.stringify(pod) });
}
async function waitPod(name: string, pred: (p: PodLike) => boolean, description: string, timeoutMs = 60_000): Promise<PodLike> {
  return waitFor(async () => {
    const r = await cluster.kubectl(['get', 'pod', name, '-n', NS, '-o', 'json']);
    const p = r.code === 0 ? (JSON.parse(r.stdout) as PodLike) : undefined;
    return p !== undefined && pred(p) ? p : undefined;
  }, { timeoutMs, description });
}
const running = (p: PodLike): boolean => p.status?.containerStatuses?.[0]?.state?.running !== undefined;

beforeAll(async () => {
  cluster = await startCluster();
  dir = tempDir('nl0-eviction-');
  rootDir = `${dir.path}/root`;
  mkdirSync(rootDir);
  if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64m', 'nl0-evroot', rootDir]).status !== 0) throw new Error('cannot mount the tmpfs root dir');
  engine = await startPrivateDockerd(dir.path, 'nl0ev-br0', '10.213.153.1/24');
  docker = new Docker({ socketPath: engine.socket });
  const totalKi = Number(/MemTotal:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0);
  const reservedKi = totalKi - 700 * 1024;
  nodelet = runNodelet(
    [
      `--kubeconfig=${await cluster.nodeKubeconfig(NODE)}`,
      `--config=${fastKubeletConfig(dir.path, `syncFrequency: 10s\nkubeReserved:\n  memory: ${reservedKi}Ki\nevictionPressureTransitionPeriod: 30s\n`)}`,
      '--roles=kubelet',
      `--hostname-override=${NODE}`,
      `--root-dir=${rootDir}`,
      `--container-runtime-endpoint=unix://${engine.socket}`,
      `--healthz-port=${await freePort()}`,
      `--cgroup-root=/${ROOT}`,
      '--eviction-hard=allocatableMemory.available<350Mi,nodefs.available<24Mi',
    ],
    { name: 'nl0-eviction' },
  );
  await cluster.freshNamespace(NS);
  await waitFor(async () => (await cluster.kubectl(['get', 'node', NODE])).code === 0, { timeoutMs: 30_000, description: 'node registered' });
}, 90_000);

afterAll(async () => {
  await tearDownDaemonScenario({ cluster, nodelet, engine, docker, namespace: NS, node: NODE, dir: undefined });
  unmountUnder(rootDir);
  spawnSync('sh', ['-c', `find /sys/fs/cgroup/*/${ROOT} -depth -type d -exec rmdir {} + 2>/dev/null`]);
  dir.remove();
}, 60_000);

beforeEach(() => dumpOnFailure(cluster, () => (nodelet ? [nodelet] : [])));

describe('eviction', () => {
  it('evicts a BestEffort memory hog before a Guaranteed pod, then refuses BestEffort pods under memory pressure', async () => {
    await create('guaranteed', { containers: [sleeper({ resources: { limits: { cpu: '100m', memory: '32Mi' } } })] });
    await waitPod('guaranteed', running, 'guaranteed pod running');
    // ~400 Mi held in a tmpfs-free way: dd's buffer in a process that then sleeps.
    await create('hog', { containers: [{ name: 'c', image: IMAGE, command: ['sh', '-c', 'dd if=/dev/zero bs=400M count=1 | sleep 3600'] }] });
    const hog = await waitPod('hog', (p) => p.status?.phase === 'Failed', 'hog evicted', 90_000);
    expect(hog.status?.reason).toBe('Evicted');
    expect(hog.status?.message).toMatch(/^The node was low on resource: memory\. Threshold quantity: 350Mi, available: \d+(Ki|Mi)?\. /);
    // Upstream sets DisruptionTarget with the terminal status: reason TerminationByKubelet, the eviction message.
    expect(disruptionTarget(hog)).toMatchObject({ status: 'True', reason: 'TerminationByKubelet', message: hog.status?.message });
    expect(running(await waitPod('guaranteed', () => true, 'guaranteed'))).toBe(true);
    // The node reports the pressure the eviction manager holds (for evictionPressureTransitionPeriod).
    await waitFor(async () => (await cluster.kubectlOk(['get', 'node', NODE, '-o', "jsonpath={.status.conditions[?(@.type=='MemoryPressure')].status}"])) === 'True', { timeoutMs: 15_000, description: 'MemoryPressure on the node' });
    const events = await cluster.kubectlOk(['get', 'events', '-n', NS, '--field-selector', 'involvedObject.name=hog,reason=Evicted', '-o', 'name']);
    expect(events.trim()).not.toBe('');
    await create('late-be', { containers: [sleeper()] });
    const late = await waitPod('late-be', (p) => p.status?.phase === 'Failed', 'BestEffort pod rejected', 30_000);
    expect(late.status?.reason).toBe('Evicted');
    expect(late.status?.message).toBe('Pod was rejected: The node had condition: [MemoryPressure]. ');
    expect(disruptionTarget(late)).toBeUndefined();
  });

  it('evicts a pod filling its emptyDir when the node filesystem crosses the threshold', async () => {
    // Burstable: admitted while MemoryPressure from the first test is still in its transition period.
    await create('filler', { volumes: [{ name: 'd', emptyDir: {} }], containers: [sleeper({ command: ['sh', '-c', 'dd if=/dev/zero of=/d/blob bs=1M count=48; sleep 3600'], volumeMounts: [{ name: 'd', mountPath: '/d' }], resources: { requests: { memory: '8Mi' } } })] });
    const p = await waitPod('filler', (x) => x.status?.phase === 'Failed', 'filler evicted', 90_000);
    expect(p.status?.reason).toBe('Evicted');
    expect(p.status?.message).toMatch(/^The node was low on resource: ephemeral-storage\. Threshold quantity: 24Mi/);
    expect(disruptionTarget(p)).toMatchObject({ status: 'True', reason: 'TerminationByKubelet', message: p.status?.message });
  });
});
