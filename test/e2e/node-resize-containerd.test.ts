/**
 * e2e (issue 16 item 5): in-place pod resize through the daemon on a PRIVATE containerd (CRI UpdateContainerResources;
 * bridge h6ctr1 on 10.231.6.0/26, started by scripts/ensure-containerd.sh and stopped by PID afterwards), with
 * `kubectl patch --subresource resize` on the test API server or the real control plane: the container keeps its ID
 * and restartCount while its cgroup v1 memory.limit_in_bytes / cpu.cfs_quota_us change, and the status shows it.
 */
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CriRuntime } from '../../src/cri/containerd/index.js';
import { containerdMissing, startPrivateContainerd, type PrivateContainerd } from '../../src/cri/containerd/testing.js';
import { dumpOnFailure, runNodelet, startCluster, waitFor, type Cluster, type NodeletProcess } from './harness/index.js';
import { fastKubeletConfig, tempDir } from './node-helpers.js';

const NODE = 'h6-a';
const NS = 'h6-resize-ctrd';
const ROOT = `h6-rzctrd-${process.pid}`;
const MI = 1024 * 1024;
const missing = containerdMissing();

interface CStatus { containerID?: string; restartCount: number; state?: { running?: unknown }; resources?: { limits?: Record<string, string> } }
interface PodLike { metadata: { uid: string }; status?: { conditions?: { type: string }[]; containerStatuses?: CStatus[] } }
const c0 = (p: PodLike): CStatus | undefined => p.status?.containerStatuses?.[0];
const read = (path: string): number => Number(readFileSync(path, 'utf8').trim());

describe.skipIf(missing !== undefined)(`in-place resize on containerd through the daemon ${missing === undefined ? '' : `(skipped: ${missing})`}`, () => {
  let cluster: Cluster | undefined;
  let ctrd: PrivateContainerd | undefined;
  let nodelet: NodeletProcess | undefined;
  let dir: ReturnType<typeof tempDir> | undefined;
  const getPod = async (name: string): Promise<PodLike | undefined> => {
    const r = await (cluster as Cluster).kubectl(['get', 'pod', name, '-n', NS, '-o', 'json']);
    return r.code === 0 ? (JSON.parse(r.stdout) as PodLike) : undefined;
  };
  const waitPod = (name: string, pred: (p: PodLike) => boolean, description: string): Promise<PodLike> =>
    waitFor(async () => {
      const p = await getPod(name);
      return p !== undefined && pred(p) ? p : undefined;
    }, { timeoutMs: 60_000, description });

  beforeAll(async () => {
    cluster = await startCluster();
    dir = tempDir('h6-rzctrd-');
    ctrd = await startPrivateContainerd({ bridge: 'h6ctr1', subnet: '10.231.6.0/26' });
    nodelet = runNodelet(
      [
        `--kubeconfig=${await cluster.nodeKubeconfig(NODE)}`,
        `--config=${fastKubeletConfig(dir.path, 'syncFrequency: 10s\n')}`,
        '--roles=kubelet',
        `--hostname-override=${NODE}`,
        `--root-dir=${dir.path}/root`,
        `--container-runtime-endpoint=unix://${ctrd.socketPath}`,
        // Ports of this test's own block (21500-21599).
        '--healthz-port=21502',
        '--port=21503',
        `--cgroup-root=/${ROOT}`,
        '--fail-swap-on=false',
      ],
      { name: 'h6-resize-ctrd' },
    );
    await cluster.freshNamespace(NS);
    await waitFor(async () => (await cluster?.kubectl(['get', 'node', NODE]))?.code === 0, { timeoutMs: 30_000, description: 'node registered' });
  }, 120_000);

  afterAll(async () => {
    await cluster?.kubectl(['delete', 'pods', '--all', '-n', NS, '--grace-period=0', '--force', '--wait=false']);
    if (ctrd !== undefined) {
      // Let the agent tear the pods down (containers and volume mounts) before it stops.
      const rt = new CriRuntime({ socketPath: ctrd.socketPath });
      await waitFor(async () => (await rt.listPodSandboxes()).length === 0, { timeoutMs: 30_000, description: 'pods torn down' }).catch(() => undefined);
      await rt.close();
      const mounted = (): boolean => dir !== undefined && readFileSync('/proc/mounts', 'utf8').includes(dir.path);
      await waitFor(() => !mounted(), { timeoutMs: 30_000, description: 'pod volumes unmounted' }).catch(() => undefined);
    }
    await nodelet?.stop();
    if (ctrd !== undefined) {
      const rt = new CriRuntime({ socketPath: ctrd.socketPath });
      await Promise.all((await rt.listPodSandboxes().catch(() => [])).map((s) => rt.removePodSandbox(s.id).catch(() => undefined)));
      await rt.close();
      await ctrd.stop();
    }
    await cluster?.kubectl(['delete', 'node', NODE, '--wait=false']);
    await cluster?.stop();
    spawnSync('sh', ['-c', `for i in 1 2 3; do find /sys/fs/cgroup/*/${ROOT} -depth -type d -exec rmdir {} + 2>/dev/null; done; true`]);
    dir?.remove();
  }, 90_000);

  beforeEach(() => dumpOnFailure(cluster as Cluster, () => (nodelet ? [nodelet] : [])));

  it('resizes a running container in place: same container, restartCount 0, cgroup and status changed', async () => {
    const c = cluster as Cluster;
    const pod = {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'rz', namespace: NS },
      spec: {
        nodeName: NODE, terminationGracePeriodSeconds: 1,
        containers: [{
          name: 'c', image: 'localhost/nodelet/testbox:1.0', command: ['sh', '-c', "trap 'exit 0' TERM; while true; do sleep 1 & wait $!; done"],
          resources: { requests: { cpu: '100m', memory: '32Mi' }, limits: { cpu: '200m', memory: '64Mi' } },
        }],
      },
    };
    await c.kubectlOk(['create', '-f', '-'], { input: JSON.stringify(pod) });
    const before = await waitPod('rz', (p) => c0(p)?.state?.running !== undefined, 'rz running');
    const id = (c0(before)?.containerID ?? '').replace(/^containerd:\/\//, '');
    const rt = new CriRuntime({ socketPath: (ctrd as PrivateContainerd).socketPath });
    try {
      const lines = (await rt.execSync(id, ['cat', '/proc/self/cgroup'], 5)).stdout.split('\n');
      const path = (controller: string): string => `/sys/fs/cgroup/${controller}${lines.find((l) => l.split(':')[1]?.split(',').includes(controller))?.split(':')[2] ?? '/missing'}`;
      expect(path('memory')).toContain(ROOT);
      expect(read(`${path('memory')}/memory.limit_in_bytes`)).toBe(64 * MI);
      await c.kubectlOk(['patch', 'pod', 'rz', '-n', NS, '--subresource', 'resize', '-p',
        JSON.stringify({ spec: { containers: [{ name: 'c', resources: { limits: { cpu: '400m', memory: '128Mi' } } }] } })]);
      const after = await waitPod('rz', (p) => c0(p)?.resources?.limits?.['memory'] === '128Mi' && !(p.status?.conditions ?? []).some((x) => x.type === 'PodResizeInProgress'), 'resize applied');
      expect(c0(after)).toMatchObject({ containerID: c0(before)?.containerID, restartCount: 0, resources: { limits: { cpu: '400m', memory: '128Mi' } } });
      expect(read(`${path('memory')}/memory.limit_in_bytes`)).toBe(128 * MI);
      expect(read(`${path('cpu')}/cpu.cfs_quota_us`)).toBe(40_000);
    } finally {
      await rt.close();
    }
  }, 120_000);
});
