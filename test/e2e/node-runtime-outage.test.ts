/**
 * e2e (issue 3): with its runtime on a PRIVATE dockerd (own socket, data root, exec root, pidfile, bridge; stopped
 * and started by PID — the shared engine is never touched), nodelet turns the Node NotReady with upstream reason and
 * message within one status period when the engine goes away, fails /healthz, and turns Ready again when it returns.
 * While the API server fails the node's requests, nodelet keeps running and catches up once it answers again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runNodelet, startCluster, waitFor, type Cluster, type NodeletProcess } from './harness/index.js';
import { fastKubeletConfig, freePort, startPrivateDockerd, tempDir, type PrivateDockerd } from './node-helpers.js';

const NODE = 'nl3-e2e-outage';
let cluster: Cluster;
let nodelet: NodeletProcess | undefined;
let dir: ReturnType<typeof tempDir>;
let dockerd: PrivateDockerd;
let port: number;

async function ready(): Promise<{ status: string; reason: string; message: string } | undefined> {
  const r = await cluster.kubectl(['get', 'node', NODE, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")]}']);
  return r.code === 0 && r.stdout !== '' ? (JSON.parse(r.stdout) as { status: string; reason: string; message: string }) : undefined;
}

beforeAll(async () => {
  cluster = await startCluster({ forceLocal: true }); // fault injection needs the test API server
  dir = tempDir('nl3-outage-');
  dockerd = await startPrivateDockerd(dir.path, 'nl3-br0', '10.213.77.1/24');
  port = await freePort();
  nodelet = runNodelet(
    [
      `--kubeconfig=${await cluster.nodeKubeconfig(NODE)}`, // a node identity on a real cluster
      `--config=${fastKubeletConfig(dir.path)}`,
      '--roles=kubelet',
      `--hostname-override=${NODE}`,
      `--container-runtime-endpoint=unix://${dockerd.socket}`,
      `--root-dir=${dir.path}/root`,
      `--healthz-port=${port}`,
    ],
    { name: 'nl3-runtime-outage' },
  );
});

afterAll(async () => {
  await nodelet?.stop();
  await dockerd?.destroy();
  await cluster?.kubectl(['delete', 'node', NODE, '--wait=false']);
  await cluster?.stop();
  dir?.remove();
});

describe('runtime outage', () => {
  it('is Ready with the private engine up', async () => {
    await waitFor(async () => (await ready())?.status === 'True', { timeoutMs: 20_000, description: 'node Ready' });
  });

  it('turns NotReady with the upstream reason when the engine stops, and /healthz fails', async () => {
    await dockerd.stop();
    // One status period is 1 s here; the wait's 15 s timeout is the (generous, load-proof) bound on how fast.
    const c = await waitFor(async () => {
      const r = await ready();
      return r?.status === 'False' ? r : undefined;
    }, { timeoutMs: 15_000, description: 'node NotReady' });
    expect(c).toMatchObject({ reason: 'KubeletNotReady', message: 'container runtime is down' });
    const res = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(res.status).toBe(500);
    expect(await res.text()).toContain('[-]runtime failed: container runtime is down');
  });

  it('turns Ready again when the engine returns', async () => {
    await dockerd.start();
    const c = await waitFor(async () => {
      const r = await ready();
      return r?.status === 'True' ? r : undefined;
    }, { timeoutMs: 20_000, description: 'node Ready again' });
    expect(c).toMatchObject({ reason: 'KubeletReady', message: 'kubelet is posting ready status' });
    // /healthz joins the Ready condition within a few seconds: its checks (runtime, PLEG relist, sync loop, API
    // access) are each refreshed on their own period, as upstream's; the last body is kept for the failure message.
    let last = '';
    await waitFor(async () => {
      const res = await fetch(`http://127.0.0.1:${port}/healthz?verbose`);
      last = `${res.status} ${await res.text()}`;
      return res.status === 200 ? true : undefined;
    }, { timeoutMs: 15_000, description: 'healthz 200 again' }).catch(() => {
      throw new Error(`/healthz did not pass again after the engine returned: ${last}`);
    });
  });

  it('keeps going while the API server fails its requests, and catches up when it answers again', async () => {
    const faults = cluster.faults;
    if (faults === undefined) throw new Error('the test API server is required');
    const leaseTime = async () => (await cluster.kubectlOk(['get', 'lease', '-n', 'kube-node-lease', NODE, '-o', 'jsonpath={.spec.renewTime}'])).trim();
    // The first refused write of a streak is logged at warn level: count them before the faults start.
    const count = (text: string): number => (nodelet?.logs() ?? '').split(text).length - 1;
    const statusFailures = count('updating node status failed');
    const leaseFailures = count('renewing node lease failed');
    const readinessChanges = count('node readiness changed');
    // Fail the agent's writes (status PATCH, lease PUT/POST); kubectl's GETs still answer.
    for (const method of ['PATCH', 'PUT', 'POST']) faults.failRequests({ method, path: `/${NODE}`, status: 503 });
    const before = await leaseTime();
    await dockerd.stop();
    // Event-driven instead of a 3 s sleep: the agent computed NotReady (it logs the change right before writing it)
    // and has been refused status writes and lease renewals since the faults began.
    await waitFor(() => count('node readiness changed') > readinessChanges && count('updating node status failed') > statusFailures && count('renewing node lease failed') > leaseFailures, {
      timeoutMs: 15_000,
      description: 'refused status write and lease renewal',
    });
    // Nothing got through: the Node still says Ready and the lease was not renewed.
    expect((await ready())?.status).toBe('True');
    expect(await leaseTime()).toBe(before);
    expect(nodelet?.running()).toBe(true);
    faults.clear();
    const c = await waitFor(async () => {
      const r = await ready();
      return r?.status === 'False' ? r : undefined;
    }, { timeoutMs: 15_000, description: 'NotReady written after the API server returned' });
    expect(c.message).toBe('container runtime is down');
    await waitFor(async () => ((await leaseTime()) > before ? true : undefined), { timeoutMs: 15_000, description: 'lease renewed again' });
    await dockerd.start();
  });
});
