/**
 * e2e (issue 15): the daemon on the Docker backend in CNI mode (nodelet as cri-dockerd), through its own wiring:
 * the Node is NotReady with NetworkPluginNotReady until a CNI config appears; pods then get their IP from the real
 * plugins (bridge nl8cni0 on 10.214.8.128/26, host-local, portmap) and hostPort works; a broken config gives new
 * pods FailedCreatePodSandBox with the plugin's error while running pods keep running, and they start once it is
 * fixed; kill -9 of the agent during churn leaks no IP (host-local's allocations and the CNI cache end empty).
 * Runs on a PRIVATE dockerd (bridge nl8dk0, unused by the pods); traffic only between this host and the local bridge.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { dumpOnFailure, runNodelet, startCluster, waitFor, type Cluster, type NodeletProcess } from './harness/index.js';
import { fastKubeletConfig, freePort, startPrivateDockerd, tempDir, tearDownDaemonScenario, type PrivateDockerd } from './node-helpers.js';

const NODE = 'nl-cni-1';
const NS = 'nl8-cni-docker';
const HOST_PORT = 20805;
let cluster: Cluster;
let engine: PrivateDockerd | undefined;
let docker: Docker;
let nodelet: NodeletProcess | undefined;
let dir: ReturnType<typeof tempDir>;
let args: string[] = [];
let confDir = '';
let ipamDir = '';
let cacheDir = '';

const conflist = (subnet: string): string =>
  JSON.stringify({
    cniVersion: '1.0.0',
    name: 'nl8e2e',
    plugins: [
      { type: 'bridge', bridge: 'nl8cni0', isGateway: true, ipMasq: false, ipam: { type: 'host-local', dataDir: ipamDir, ranges: [[{ subnet }]] } },
      { type: 'portmap', capabilities: { portMappings: true } },
    ],
  });

function pod(name: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS, labels: { app: 'cni' } },
    spec: {
      nodeName: NODE,
      terminationGracePeriodSeconds: 1,
      containers: [{ name: 'web', image: 'localhost/nodelet/testbox:1.0', imagePullPolicy: 'Never', command: ['sh', '-c', `mkdir -p /w && echo ${name} > /w/index.html && exec httpd -f -p 8080 -h /w`], ...extra }],
    },
  });
}

async function podIP(name: string): Promise<string> {
  return waitFor(async () => {
    const r = await cluster.kubectl(['-n', NS, 'get', 'pod', name, '-o', 'jsonpath={.status.phase} {.status.podIP}']);
    const [phase, ip] = r.stdout.split(' ');
    return phase === 'Running' && ip ? ip : undefined;
  }, { timeoutMs: 60_000, description: `pod ${name} running with an IP` });
}

async function get(host: string, port: number): Promise<string> {
  const res = await fetch(`http://${host}:${port}/`, { signal: AbortSignal.timeout(3000) });
  return (await res.text()).trim();
}

async function readyCondition(): Promise<{ status: string; message: string }> {
  const r = await cluster.kubectl(['get', 'node', NODE, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}|{.status.conditions[?(@.type=="Ready")].message}']);
  const [status = '', message = ''] = r.stdout.split('|');
  return { status, message };
}

const allocations = (): string[] => (existsSync(join(ipamDir, 'nl8e2e')) ? readdirSync(join(ipamDir, 'nl8e2e')).filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f)) : []);

beforeAll(async () => {
  cluster = await startCluster();
  dir = tempDir('nl8-cni-e2e-');
  confDir = join(dir.path, 'net.d');
  ipamDir = join(dir.path, 'ipam');
  cacheDir = join(dir.path, 'cache');
  mkdirSync(confDir);
  engine = await startPrivateDockerd(dir.path, 'nl8dk0', '10.214.8.33/27');
  docker = new Docker({ socketPath: engine.socket });
  args = [
    `--kubeconfig=${await cluster.nodeKubeconfig(NODE)}`,
    `--config=${fastKubeletConfig(dir.path)}`,
    '--roles=kubelet',
    `--hostname-override=${NODE}`,
    `--root-dir=${dir.path}/root`,
    `--container-runtime-endpoint=unix://${engine.socket}`,
    `--healthz-port=${await freePort()}`,
    '--network-plugin=cni',
    `--cni-conf-dir=${confDir}`,
    `--cni-cache-dir=${cacheDir}`,
  ];
  await cluster.freshNamespace(NS);
  nodelet = runNodelet(args, { name: 'nl8-cni-docker' });
}, 120_000);

afterAll(async () => {
  await tearDownDaemonScenario({ cluster, nodelet, engine, docker, namespace: NS, node: NODE, podsGoneTimeoutMs: 30_000 });
  try {
    execFileSync('ip', ['link', 'del', 'nl8cni0'], { stdio: 'ignore' });
  } catch {
    // not there
  }
  dir?.remove();
}, 90_000);

beforeEach(() => dumpOnFailure(cluster, () => (nodelet ? [nodelet] : [])));

describe('Docker backend with CNI through the daemon', () => {
  it('reports NetworkPluginNotReady until a config exists, then runs pods on CNI with hostPort', async () => {
    const notReady = await waitFor(async () => {
      const c = await readyCondition();
      return c.status === 'False' && c.message.includes('NetworkPluginNotReady') ? c : undefined;
    }, { timeoutMs: 60_000, description: 'Node NotReady for the network' });
    expect(notReady.message).toBe('container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:docker: network plugin is not ready: cni config uninitialized');
    writeFileSync(join(confDir, '10-nl8e2e.conflist'), conflist('10.214.8.128/26'));
    await waitFor(async () => (await readyCondition()).status === 'True', { timeoutMs: 60_000, description: 'Node Ready' });
    await cluster.kubectlOk(['apply', '-f', '-'], { input: pod('web', { ports: [{ containerPort: 8080, hostPort: HOST_PORT }] }) });
    const ip = await podIP('web');
    expect(ip).toMatch(/^10\.214\.8\.(1[3-8]\d|19[01])$/);
    expect(allocations()).toEqual([ip]);
    expect(await waitFor(() => get(ip, 8080).catch(() => undefined), { description: 'pod answers' })).toBe('web');
    expect(await waitFor(() => get('10.214.8.129', HOST_PORT).catch(() => undefined), { description: 'hostPort answers' })).toBe('web');
  });

  it('a broken config fails new sandboxes with FailedCreatePodSandBox; running pods keep running; fixed, they start', async () => {
    const before = await podIP('web');
    writeFileSync(join(confDir, '10-nl8e2e.conflist'), conflist('not-a-subnet'));
    await cluster.kubectlOk(['apply', '-f', '-'], { input: pod('late') });
    const ev = await waitFor(async () => {
      const out = JSON.parse(await cluster.kubectlOk(['-n', NS, 'get', 'events', '-o', 'json'])) as { items: { reason: string; message: string; involvedObject: { name: string } }[] };
      return out.items.find((e) => e.reason === 'FailedCreatePodSandBox' && e.involvedObject.name === 'late');
    }, { timeoutMs: 60_000, description: 'FailedCreatePodSandBox for late' });
    expect(ev.message).toMatch(/^Failed to create pod sandbox: .*plugin type="bridge" name="nl8e2e" failed \(add\)/);
    expect(await get(before, 8080)).toBe('web');
    writeFileSync(join(confDir, '10-nl8e2e.conflist'), conflist('10.214.8.128/26'));
    const ip = await podIP('late');
    expect(await waitFor(() => get(ip, 8080).catch(() => undefined), { description: 'late answers' })).toBe('late');
    expect(allocations().sort()).toEqual([before, ip].sort());
  }, 120_000);

  it('kill -9 of the agent during churn leaks no IP', async () => {
    const names = Array.from({ length: 8 }, (_, i) => `churn-${i}`);
    await Promise.all(names.map((n) => cluster.kubectlOk(['create', '-f', '-'], { input: pod(n) })));
    // Kill while the agent is attaching pods: as soon as host-local handed out the first address (no fixed sleep).
    await waitFor(() => (allocations().length > 0 ? true : undefined), { timeoutMs: 60_000, intervalMs: 50, description: 'first CNI ADD' });
    process.kill(nodelet?.pid ?? 0, 'SIGKILL');
    await nodelet?.exited;
    nodelet = runNodelet(args, { name: 'nl8-cni-docker-2' });
    const killings = async (): Promise<number> =>
      (await cluster.kubectl(['-n', NS, 'get', 'events', '--field-selector', 'reason=Killing', '-o', 'name'])).stdout.split('\n').filter((l) => l.trim() !== '').length;
    const killingsBefore = await killings();
    await cluster.kubectlOk(['-n', NS, 'delete', 'pods', '-l', 'app=cni', '--wait=false']);
    // Kill again once the new agent is tearing pods down (a new Killing event), not after a fixed second.
    await waitFor(async () => ((await killings()) > killingsBefore ? true : undefined), {
      timeoutMs: 60_000,
      intervalMs: 100,
      description: 'teardown started',
    });
    process.kill(nodelet.pid, 'SIGKILL');
    await nodelet.exited;
    nodelet = runNodelet(args, { name: 'nl8-cni-docker-3' });
    await waitFor(async () => (await cluster.kubectl(['-n', NS, 'get', 'pods', '-o', 'name'])).stdout.trim() === '', { timeoutMs: 90_000, description: 'all pods gone' });
    await waitFor(() => (allocations().length === 0 ? true : undefined), { timeoutMs: 90_000, description: 'no IP allocated' });
    expect(readdirSync(join(cacheDir, 'results'))).toEqual([]);
  }, 240_000);
});
