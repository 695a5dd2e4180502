/**
 * e2e: the daemon with `--container-runtime-endpoint` on a PRIVATE containerd (CRI v1; bridge nlctr1 on
 * 10.213.141.0/24, started by scripts/ensure-containerd.sh and stopped by PID afterwards) runs a pod to Ready
 * (an HTTP readiness probe against the pod IP on that local bridge), reports the runtime in the node status, and
 * tears the pod down when it is deleted. Checked with kubectl against the test API server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CriRuntime } from '../../src/cri/containerd/index.js';
import { containerdMissing, startPrivateContainerd, type PrivateContainerd } from '../../src/cri/containerd/testing.js';
import { runNodelet, startCluster, testPodLogsDir, waitFor, type Cluster, type NodeletProcess } from './harness/index.js';
import { fastKubeletConfig, freePort, tempDir } from './node-helpers.js';

const NODE = 'nlctr-e2e-node';
const NS = 'nlctr-e2e';
const missing = containerdMissing();

interface PodLike {
  metadata: { uid: string };
  status?: { podIP?: string; conditions?: { type: string; status: string }[]; containerStatuses?: { containerID?: string; ready: boolean }[] };
}

// NL_CTR_BRIDGE/SUBNET let a second engineer run this file next to the first without sharing a bridge.
const BRIDGE = process.env.NL_CTR_BRIDGE ?? 'nlctr1';
const SUBNET = process.env.NL_CTR_SUBNET ?? '10.213.141.0/24';

describe.skipIf(missing !== undefined)(`pods on containerd through the daemon ${missing === undefined ? '' : `(skipped: ${missing})`}`, () => {
  let cluster: Cluster | undefined;
  let ctrd: PrivateContainerd | undefined;
  let nodelet: NodeletProcess | undefined;
  let dir: ReturnType<typeof tempDir> | undefined;

  const kubectlOk = (args: string[], input?: string): Promise<string> =>
    (cluster as Cluster).kubectlOk(args, input === undefined ? {} : { input });
  const getPod = async (name: string): Promise<PodLike | undefined> => {
    const r = await (cluster as Cluster).kubectl(['get', 'pod', name, '-n', NS, '-o', 'json']);
    return r.code === 0 ? (JSON.parse(r.stdout) as PodLike) : undefined;
  };

  beforeAll(async () => {
    cluster = await startCluster();
    dir = tempDir('nlctr-e2e-');
    ctrd = await startPrivateContainerd({ bridge: BRIDGE, subnet: SUBNET });
    nodelet = runNodelet(
      [
        `--kubeconfig=${await cluster.nodeKubeconfig(NODE)}`, // a node identity on a real cluster
        `--config=${fastKubeletConfig(dir.path, 'fileCheckFrequency: 1s\nsyncFrequency: 10s\ncontainerLogMaxSize: 16Ki\ncontainerLogMaxFiles: 3\ncontainerLogMonitorInterval: 3s\n')}`,
        '--roles=kubelet',
        `--hostname-override=${NODE}`,
        `--root-dir=${dir.path}/root`,
        `--container-runtime-endpoint=unix://${ctrd.socketPath}`,
        `--healthz-port=${await freePort()}`,
        '--fail-swap-on=false',
      ],
      { name: 'nlctr-e2e' },
    );
    await cluster.freshNamespace(NS); // a real cluster may still hold the namespace of an earlier run
    await waitFor(async () => (await cluster?.kubectl(['get', 'node', NODE]))?.code === 0, { timeoutMs: 30_000, description: 'node registered' });
  }, 120_000);

  afterAll(async () => {
    await cluster?.kubectl(['delete', 'pods', '--all', '-n', NS, '--grace-period=0', '--force', '--wait=false']);
    await nodelet?.stop();
    if (ctrd !== undefined) {
      // Whatever the agent left behind goes with the runtime (the stop script also kills stray tasks).
      const rt = new CriRuntime({ socketPath: ctrd.socketPath });
      await Promise.all((await rt.listPodSandboxes().catch(() => [])).map((s) => rt.removePodSandbox(s.id).catch(() => undefined)));
      await rt.close();
      await ctrd.stop();
    }
    await cluster?.kubectl(['delete', 'node', NODE, '--wait=false']);
    await cluster?.stop();
    dir?.remove();
  }, 90_000);

  it('reports containerd as the node runtime and runs a pod to Ready on the CNI bridge, then removes it', async () => {
    const runtimeVersion = await kubectlOk(['get', 'node', NODE, '-o', 'jsonpath={.status.nodeInfo.containerRuntimeVersion}']);
    expect(runtimeVersion).toMatch(/^containerd:\/\/.+/);
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web', namespace: NS, labels: { 'io.nodelet.test': 'containerd-pod' } },
      spec: {
        nodeName: NODE,
        terminationGracePeriodSeconds: 2,
        containers: [
          {
            name: 'web',
            image: 'localhost/nodelet/testbox:1.0',
            imagePullPolicy: 'Never',
            command: ['sh', '-c', 'mkdir -p /www && echo ok > /www/index.html && exec httpd -f -p 8080 -h /www'],
            readinessProbe: { httpGet: { path: '/', port: 8080 }, periodSeconds: 1 },
          },
        ],
      },
    };
    await kubectlOk(['create', '-f', '-'], JSON.stringify(pod));
    const ready = await waitFor(
      async () => {
        const p = await getPod('web');
        return p?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true ? p : undefined;
      },
      { timeoutMs: 60_000, description: 'pod web Ready' },
    );
    expect(ready.status?.podIP?.startsWith(`${SUBNET.split('.').slice(0, 3).join('.')}.`)).toBe(true);
    expect(ready.status?.containerStatuses?.[0]?.containerID).toMatch(/^containerd:\/\/[0-9a-f]{64}$/);

    await kubectlOk(['delete', 'pod', 'web', '-n', NS, '--wait=false']);
    await waitFor(async () => ((await getPod('web')) === undefined ? true : undefined), { timeoutMs: 30_000, description: 'pod web gone' });
    const rt = new CriRuntime({ socketPath: ctrd?.socketPath ?? '' });
    try {
      await waitFor(async () => ((await rt.listPodSandboxes({ labelSelector: { 'io.kubernetes.pod.uid': ready.metadata.uid } })).length === 0 ? true : undefined), {
        timeoutMs: 30_000,
        description: 'sandbox of pod web removed',
      });
    } finally {
      await rt.close();
    }
  }, 120_000);

  it('rotates a chatty container log at containerLogMaxSize, compresses older files, keeps containerLogMaxFiles', async () => {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'chatty', namespace: NS },
      spec: {
        nodeName: NODE,
        terminationGracePeriodSeconds: 1,
        containers: [{ name: 'c', image: 'localhost/nodelet/testbox:1.0', command: ['sh', '-c', 'i=0; while true; do i=$((i+1)); echo "line $i of a chatty container that fills its log quickly"; [ $((i % 200)) = 0 ] && sleep 1; done'] }],
      },
    };
    await kubectlOk(['create', '-f', '-'], JSON.stringify(pod));
    const uid = await waitFor(async () => (await getPod('chatty'))?.metadata.uid, { timeoutMs: 30_000, description: 'pod created' });
    const logDir = `${testPodLogsDir(`${dir?.path ?? ''}/root`)}/${NS}_chatty_${uid}/c`;
    const { readdirSync } = await import('node:fs');
    const files = await waitFor(() => {
      try {
        const f = readdirSync(logDir);
        // Between the rename and the runtime's reopen, 0.log is briefly missing: wait for a listing with both.
        return f.some((x) => x.endsWith('.gz')) && f.includes('0.log') ? f : undefined;
      } catch {
        return undefined;
      }
    }, { timeoutMs: 90_000, description: 'a compressed rotated log' });
    expect(files.length).toBeLessThanOrEqual(3);
    expect(files).toContain('0.log');
    expect(files.filter((f) => /^0\.log\.\d{8}-\d{6}(\.gz)?$/.test(f))).toHaveLength(files.length - 1);
    await kubectlOk(['delete', 'pod', 'chatty', '-n', NS, '--wait=true', '--timeout=60s']);
  });
});
