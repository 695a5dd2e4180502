/**
 * e2e (issue 3): nodelet registers its Node with the test API server (Ready, capacity, labels, addresses, version),
 * renews its Lease, answers /healthz and /metrics, refuses a second instance on the same root dir, and stops
 * cleanly on SIGTERM.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runNodelet, startCluster, waitFor, type Cluster, type NodeletProcess } from './harness/index.js';
import { fastKubeletConfig, freePort, startPrivateDockerd, tempDir, type PrivateDockerd } from './node-helpers.js';

interface NodeJson {
  metadata: { name: string; labels: Record<string, string>; uid: string };
  status: {
    conditions?: { type: string; status: string; reason: string; message: string }[];
    capacity?: Record<string, string>;
    allocatable?: Record<string, string>;
    addresses?: { type: string; address: string }[];
    nodeInfo?: Record<string, string>;
  };
}

const NODE = 'nl3-e2e-node';
let cluster: Cluster;
let nodelet: NodeletProcess;
let dir: ReturnType<typeof tempDir>;
let port: number;
let dockerd: PrivateDockerd | undefined;

async function node(): Promise<NodeJson | undefined> {
  const r = await cluster.kubectl(['get', 'node', NODE, '-o', 'json']);
  return r.code === 0 ? (JSON.parse(r.stdout) as NodeJson) : undefined;
}

beforeAll(async () => {
  cluster = await startCluster();
  dir = tempDir('nl3-e2e-');
  dockerd = await startPrivateDockerd(dir.path, 'nl3-br1', '10.213.78.1/24');
  port = await freePort();
  nodelet = runNodelet(
    [
      `--kubeconfig=${await cluster.nodeKubeconfig(NODE)}`, // a node identity on a real cluster
      `--config=${fastKubeletConfig(dir.path)}`,
      '--roles=kubelet',
      `--hostname-override=${NODE}`,
      `--container-runtime-endpoint=unix://${dockerd.socket}`,
      '--node-ip=127.0.0.1',
      '--node-labels=nodelet.test/suite=node-registration',
      `--root-dir=${dir.path}/root`,
      `--healthz-port=${port}`,
    ],
    { name: 'nl3-node-registration' },
  );
});

afterAll(async () => {
  await nodelet?.stop();
  await cluster?.kubectl(['delete', 'node', NODE, '--wait=false']);
  await cluster?.stop();
  await dockerd?.destroy();
  dir?.remove();
});

describe('node registration', () => {
  it('registers a Ready node with capacity, labels, addresses and versions', async () => {
    const n = await waitFor(async () => {
      const got = await node();
      return got?.status.conditions?.find((c) => c.type === 'Ready')?.status === 'True' ? got : undefined;
    }, { timeoutMs: 20_000, description: 'node Ready' });
    expect(n.metadata.labels).toMatchObject({
      'kubernetes.io/hostname': NODE,
      'kubernetes.io/os': 'linux',
      'kubernetes.io/arch': 'amd64',
      'beta.kubernetes.io/os': 'linux',
      'nodelet.test/suite': 'node-registration',
    });
    expect(n.status.addresses).toEqual([{ type: 'InternalIP', address: '127.0.0.1' }, { type: 'Hostname', address: NODE }]);
    expect(n.status.capacity?.['pods']).toBe('42');
    expect(Number(n.status.capacity?.['cpu'])).toBeGreaterThan(0);
    expect(n.status.capacity?.['memory']).toMatch(/^\d+Ki$/);
    expect(n.status.allocatable?.['ephemeral-storage']).toMatch(/^\d+Ki$/);
    expect(n.status.nodeInfo).toMatchObject({ kubeletVersion: 'v1.33.0-nodelet', operatingSystem: 'linux', architecture: 'amd64' });
    expect(n.status.nodeInfo?.['containerRuntimeVersion']).toMatch(/^docker:\/\/\d/);
    expect(n.status.conditions?.map((c) => `${c.type}=${c.status}/${c.reason}`)).toEqual([
      'MemoryPressure=False/KubeletHasSufficientMemory',
      'DiskPressure=False/KubeletHasNoDiskPressure',
      'PIDPressure=False/KubeletHasSufficientPID',
      'Ready=True/KubeletReady',
    ]);
    const wide = await cluster.kubectlOk(['get', 'nodes', NODE, '--no-headers']);
    expect(wide).toMatch(new RegExp(`^${NODE}\\s+Ready\\s`));
  });

  it('renews its lease (MicroTime) in kube-node-lease, owned by the node', async () => {
    const lease = async () => JSON.parse(await cluster.kubectlOk(['get', 'lease', '-n', 'kube-node-lease', NODE, '-o', 'json'])) as {
      spec: { holderIdentity: string; leaseDurationSeconds: number; renewTime: string };
      metadata: { ownerReferences?: { kind: string; name: string }[] };
    };
    const first = await waitFor(lease, { timeoutMs: 10_000, description: 'lease' });
    expect(first.spec).toMatchObject({ holderIdentity: NODE, leaseDurationSeconds: 4 });
    expect(first.spec.renewTime).toMatch(/\.\d{6}Z$/);
    expect(first.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'Node', name: NODE });
    await waitFor(async () => ((await lease()).spec.renewTime > first.spec.renewTime ? true : undefined), { timeoutMs: 5_000, description: 'lease renewal' });
  });

  it('answers /healthz (verbose too) and /metrics on the health port', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('ok');
    const verbose = await (await fetch(`http://127.0.0.1:${port}/healthz?verbose`)).text();
    expect(verbose).toContain('[+]runtime ok');
    expect(verbose).toContain('[+]pleg ok');
    expect(verbose).toContain('[+]syncloop ok');
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toContain(`kubelet_node_name{node="${NODE}"} 1`);
    expect(metrics).toMatch(/kubelet_runtime_operations_total\{operation_type="status"\} \d+/);
  });

  it('refuses a second instance on the same root dir', async () => {
    const second = runNodelet([`--root-dir=${dir.path}/root`, '--healthz-port=0', `--container-runtime-endpoint=unix://${dockerd?.socket ?? ''}`], { name: 'nl3-second' });
    const { code } = await second.exited;
    expect(code).not.toBe(0);
    expect(second.logs()).toContain(`another nodelet (pid ${nodelet.pid}) is already running with root dir ${dir.path}/root`);
  });

  it('stops on SIGTERM with exit 0 and releases the lock', async () => {
    const { code } = await nodelet.stop();
    expect(code).toBe(0);
    expect(nodelet.logs()).toContain('shutting down (pods keep running)');
  });
});
