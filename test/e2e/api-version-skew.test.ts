/**
 * e2e (issue 12): against an API server older than nodelet's Kubernetes version (a v1.24 one, which does not know
 * `status.hostIPs` and answers a pod status patch carrying it with `500 unable to find api field in struct PodStatus
 * for the json field "hostIPs"`), nodelet reads the version at start, says clearly that it is outside the supported
 * skew, and never writes a field that server does not know: the pod runs and its status arrives.
 * Test API server only (`forceLocal`): the real control plane here is v1.33, the test API server emulates the older one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runNodelet, startCluster, waitFor, type Cluster, type NodeletProcess } from './harness/index.js';
import { fastKubeletConfig, freePort, startPrivateDockerd, tempDir, type PrivateDockerd } from './node-helpers.js';

const NODE = 'nl4-skew-node';
const NS = 'nl4-skew';
let cluster: Cluster;
let nodelet: NodeletProcess;
let dir: ReturnType<typeof tempDir>;
let engine: PrivateDockerd | undefined;

beforeAll(async () => {
  cluster = await startCluster({ forceLocal: true, version: 'v1.24.17' }); // an older server: only the test API server can be one
  dir = tempDir('nl4-skew-');
  engine = await startPrivateDockerd(dir.path, 'nl4-br0', '10.213.204.1/24');
  nodelet = runNodelet(
    [
      `--kubeconfig=${await cluster.nodeKubeconfig(NODE)}`,
      `--config=${fastKubeletConfig(dir.path)}`,
      '--roles=kubelet',
      `--hostname-override=${NODE}`,
      `--container-runtime-endpoint=unix://${engine.socket}`,
      '--node-ip=127.0.0.1',
      `--root-dir=${dir.path}/root`,
      `--healthz-port=${await freePort()}`,
    ],
    { name: 'nl4-skew' },
  );
  await cluster.freshNamespace(NS);
});

afterAll(async () => {
  await cluster?.kubectl(['-n', NS, 'delete', 'pod', '--all', '--grace-period=1', '--wait=false']);
  await waitFor(() => (engine?.docker(['ps', '-q']) ?? '') === '', { timeoutMs: 15_000 }).catch(() => undefined);
  await nodelet?.stop();
  await cluster?.stop();
  await engine?.destroy();
  dir?.remove();
});

describe('an API server older than the supported skew (v1.24)', () => {
  it('is named at start, and pod status never carries a field it does not know', async () => {
    await waitFor(() => nodelet.logs().includes('API server version outside the supported skew'), { timeoutMs: 20_000, description: 'the skew warning' });
    const warning = nodelet.logs().split('\n').find((l) => l.includes('outside the supported skew')) ?? '';
    expect(warning).toContain('v1.24.17');
    expect(warning).toContain('"level":40');
    expect(warning).toContain('PodStatus.hostIPs');
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: NS }, spec: { nodeName: NODE, terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: 'localhost/nodelet/testbox:1.0', command: ['sleep', '600'] }] } };
    await cluster.kubectlOk(['apply', '-f', '-'], { input: JSON.stringify(pod) });
    const status = await waitFor(async () => {
      const s = JSON.parse(await cluster.kubectlOk(['-n', NS, 'get', 'pod', 'p', '-o', 'jsonpath={.status}'])) as { phase?: string; hostIP?: string; hostIPs?: unknown };
      return s.phase === 'Running' ? s : undefined;
    }, { timeoutMs: 40_000, description: 'pod Running' });
    expect(status.hostIP).toBe('127.0.0.1');
    expect(status).not.toHaveProperty('hostIPs');
    expect(nodelet.logs()).not.toContain('unable to find api field');
  });
});
