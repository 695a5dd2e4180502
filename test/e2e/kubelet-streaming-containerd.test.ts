/**
 * e2e (issue 13, streaming on the CRI backend): the daemon on a PRIVATE containerd (bridge nl2ctr1 on
 * 10.214.2.128/25) serves `kubectl exec` (exit code, stdin to EOF), `kubectl cp` both ways, `kubectl attach` and
 * `kubectl port-forward` to a port bound only on the pod's loopback, through the API server; the daemon relays them to
 * containerd's streaming server (CRI Exec/Attach/PortForward URLs) as a SPDY client. Runs on the real control plane
 * ($KUBECONFIG) and on the test API server alike.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CriRuntime } from '../../src/cri/containerd/index.js';
import { containerdMissing, startPrivateContainerd, type PrivateContainerd } from '../../src/cri/containerd/testing.js';
import { runNodelet, startCluster, waitFor, type Cluster, type NodeletProcess } from './harness/index.js';
import { fastKubeletConfig, freePort, tempDir } from './node-helpers.js';

const NODE = 'nl-api-2';
const NS = 'nl2-streaming-ctrd';
const IMAGE = 'localhost/nodelet/testbox:1.0';
const API_PORT = 20203;
const FORWARD_PORT = 20211;
const missing = containerdMissing();

describe.skipIf(missing !== undefined)(`streaming on containerd through the daemon ${missing === undefined ? '' : `(skipped: ${missing})`}`, () => {
  let cluster: Cluster;
  let ctrd: PrivateContainerd | undefined;
  let nodelet: NodeletProcess | undefined;
  let dir: ReturnType<typeof tempDir>;
  const kubectl = (args: string[], input?: string) => cluster.kubectl(['-n', NS, ...args], { ...(input === undefined ? {} : { input }), timeoutMs: 30_000 });

  beforeAll(async () => {
    cluster = await startCluster();
    dir = tempDir('nl2-streaming-ctrd-');
    ctrd = await startPrivateContainerd({ bridge: 'nl2ctr1', subnet: '10.214.2.128/25' });
    nodelet = runNodelet(
      [
        `--kubeconfig=${await cluster.nodeKubeconfig(NODE)}`,
        `--config=${fastKubeletConfig(dir.path)}`,
        '--roles=kubelet',
        `--hostname-override=${NODE}`,
        `--root-dir=${dir.path}/root`,
        `--container-runtime-endpoint=unix://${ctrd.socketPath}`,
        `--healthz-port=${await freePort()}`,
        '--fail-swap-on=false',
        `--port=${API_PORT}`,
        `--client-ca-file=${await cluster.kubeletClientCaFile()}`,
      ],
      { name: 'nl2-streaming-ctrd' },
    );
    await cluster.freshNamespace(NS);
    await waitFor(async () => (await cluster.kubectl(['get', 'node', NODE])).code === 0, { timeoutMs: 30_000, description: 'node registered' });
    const c = (name: string, script: string, extra: Record<string, unknown> = {}) => ({ name, image: IMAGE, command: ['sh', '-c', script], ...extra });
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'box', namespace: NS },
      spec: {
        nodeName: NODE,
        terminationGracePeriodSeconds: 1,
        containers: [
          c('main', 'mkdir -p /www && echo hello-from-ctrd > /www/index.html && exec httpd -f -p 127.0.0.1:8080 -h /www'),
          c('side', 'i=0; while true; do echo tick $i; i=$((i+1)); sleep 1; done'),
        ],
      },
    };
    await cluster.kubectlOk(['create', '-f', '-'], { input: JSON.stringify(pod) });
    await waitFor(async () => {
      const r = await kubectl(['get', 'pod', 'box', '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}']);
      return r.stdout === 'True';
    }, { timeoutMs: 60_000, description: 'box Ready' });
  }, 180_000);

  afterAll(async () => {
    await cluster?.kubectl(['delete', 'pods', '--all', '-n', NS, '--grace-period=0', '--force', '--wait=false']);
    // Let the agent tear the pod down (containers, volume mounts) before it stops.
    if (ctrd !== undefined) {
      const rt = new CriRuntime({ socketPath: ctrd.socketPath });
      await waitFor(async () => (await rt.listPodSandboxes().catch(() => [])).length === 0, { timeoutMs: 20_000, description: 'pods torn down' }).catch(() => undefined);
      await rt.close();
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
    spawnSync('sh', ['-c', `grep -o " ${dir.path}[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l`]);
    dir?.remove();
  }, 90_000);

  it('kubectl exec: exit code 3, and stdin read to EOF', async () => {
    expect((await kubectl(['exec', 'box', '-c', 'main', '--', 'sh', '-c', 'exit 3'])).code).toBe(3);
    const cat = await kubectl(['exec', '-i', 'box', '-c', 'main', '--', 'sh', '-c', 'cat; echo done'], 'abc\n');
    expect(cat.code).toBe(0);
    expect(cat.stdout).toBe('abc\ndone\n');
  }, 60_000);

  it('kubectl cp both ways', async () => {
    const local = join(dir.path, 'up.txt');
    const payload = `ctrd ${'y'.repeat(50_000)}\n`;
    writeFileSync(local, payload);
    await cluster.kubectlOk(['cp', local, `${NS}/box:/tmp/up.txt`, '-c', 'main']);
    const back = join(dir.path, 'down.txt');
    await cluster.kubectlOk(['cp', `${NS}/box:/tmp/up.txt`, back, '-c', 'main']);
    expect(readFileSync(back, 'utf8')).toBe(payload);
  }, 60_000);

  it('kubectl attach streams PID 1 output; kubectl port-forward reaches the pod loopback', async () => {
    const attach = spawn('kubectl', ['--kubeconfig', cluster.kubeconfigPath, '-n', NS, 'attach', 'box', '-c', 'side'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    attach.stdout.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await waitFor(async () => /tick \d+\ntick \d+/.test(out), { timeoutMs: 15_000, description: 'ticks through attach' });
    } finally {
      attach.kill('SIGKILL');
    }
    const pf = spawn('kubectl', ['--kubeconfig', cluster.kubeconfigPath, '-n', NS, 'port-forward', 'pod/box', `${FORWARD_PORT}:8080`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let pfOut = '';
    pf.stdout.on('data', (d: Buffer) => (pfOut += d.toString()));
    try {
      await waitFor(async () => pfOut.includes('Forwarding from'), { timeoutMs: 15_000, description: 'port-forward ready' });
      const res = await fetch(`http://127.0.0.1:${FORWARD_PORT}/index.html`);
      expect(await res.text()).toBe('hello-from-ctrd\n');
    } finally {
      pf.kill('SIGINT');
    }
  }, 60_000);
});
