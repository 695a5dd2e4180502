/**
 * e2e (issue 13, streaming): `kubectl exec` (exit codes, stdin, a TTY driven through tmux with resize), `kubectl
 * attach`, `kubectl cp` both ways, `kubectl port-forward` to a port bound only on the pod's loopback, and
 * `kubectl debug` with an ephemeral container — all through the API server to the daemon's kubelet API (port
 * 10250 role) and its streaming handler, on a private dockerd (bridge nl2-br0, 10.214.2.0/24).
 *
 * The API server reaches the node with its client certificate (signed by the CA given as --client-ca-file,
 * `cluster.kubeletClientCaFile()`) and the node authorizes it through SubjectAccessReview; the same tests run on the
 * real control plane and on the test API server (which proxies pods/exec|attach|portforward and serves
 * pods/ephemeralcontainers).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { dumpOnFailure, runNodelet, startCluster, waitFor, type Cluster, type NodeletProcess } from './harness/index.js';
import { fastKubeletConfig, freePort, startPrivateDockerd, tempDir, tearDownDaemonScenario, type PrivateDockerd } from './node-helpers.js';

const NODE = 'nl-api-2';
const NS = 'nl2-streaming';
const IMAGE = 'localhost/nodelet/testbox:1.0';
const API_PORT = 20201;
const FORWARD_PORT = 20210;

let docker: Docker;
let engine: PrivateDockerd | undefined;
let cluster: Cluster;
let nodelet: NodeletProcess | undefined;
let dir: ReturnType<typeof tempDir>;

interface PodLike {
  metadata: { uid: string; name: string };
  spec?: { ephemeralContainers?: { name: string }[] };
  status?: {
    conditions?: { type: string; status: string }[];
    ephemeralContainerStatuses?: { name: string; state?: { running?: unknown; terminated?: { exitCode: number } } }[];
  };
}

function podJSON(name: string, containers: Record<string, unknown>[], extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS },
    spec: { nodeName: NODE, terminationGracePeriodSeconds: 1, containers, ...extra },
  });
}
async function getPod(name: string): Promise<PodLike | undefined> {
  const r = await cluster.kubectl(['get', 'pod', name, '-n', NS, '-o', 'json']);
  return r.code === 0 ? (JSON.parse(r.stdout) as PodLike) : undefined;
}
const ready = (p: PodLike | undefined): boolean => p?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
async function waitReady(name: string): Promise<void> {
  await waitFor(async () => ready(await getPod(name)), { timeoutMs: 40_000, description: `${name} Ready` });
}

/** kubectl with the cluster's kubeconfig, with stdin input and a timeout. */
function kubectl(args: string[], input?: string, timeoutMs = 30_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return cluster.kubectl(args, { ...(input === undefined ? {} : { input }), timeoutMs });
}

beforeAll(async () => {
  cluster = await startCluster();
  dir = tempDir('nl2-streaming-');
  engine = await startPrivateDockerd(dir.path, 'nl2-br0', '10.214.2.1/24');
  docker = new Docker({ socketPath: engine.socket });
  const args = [
    `--kubeconfig=${await cluster.nodeKubeconfig(NODE)}`,
    `--config=${fastKubeletConfig(dir.path)}`,
    '--roles=kubelet',
    `--hostname-override=${NODE}`,
    `--root-dir=${dir.path}/root`,
    `--container-runtime-endpoint=unix://${engine.socket}`,
    `--healthz-port=${await freePort()}`,
    `--port=${API_PORT}`,
    `--client-ca-file=${await cluster.kubeletClientCaFile()}`, // the CA of the cluster under test
  ];
  nodelet = runNodelet(args, { name: 'nl2-streaming' });
  await cluster.freshNamespace(NS);
  await waitFor(async () => (await cluster.kubectl(['get', 'node', NODE])).code === 0, { timeoutMs: 30_000, description: 'node registered' });
  const c = (name: string, script: string, extra: Record<string, unknown> = {}) => ({ name, image: IMAGE, command: ['sh', '-c', script], ...extra });
  await cluster.kubectlOk(['create', '-f', '-'], {
    input: podJSON('box', [
      c('main', 'mkdir -p /www && echo hello-from-pod > /www/index.html && exec httpd -f -p 127.0.0.1:8080 -h /www'),
      c('side', 'i=0; while true; do echo tick $i; i=$((i+1)); sleep 1; done'),
      c('echo', 'while read l; do echo got:$l; done; echo stdin-closed', { stdin: true, stdinOnce: true }),
    ]),
  });
  await waitReady('box');
}, 120_000);

afterAll(async () => {
  await tearDownDaemonScenario({ cluster, nodelet, engine, docker, namespace: NS, node: NODE, dir });
}, 60_000);

beforeEach(() => dumpOnFailure(cluster, () => (nodelet ? [nodelet] : [])));

describe('streaming through the API server to the daemon', () => {
  it('kubectl exec: output, stderr, stdin and the exit code', async () => {
    const ok = await kubectl(['exec', '-n', NS, 'box', '-c', 'main', '--', 'sh', '-c', 'echo out; echo err >&2']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe('out\n');
    expect(ok.stderr).toContain('err');
    const three = await kubectl(['exec', '-n', NS, 'box', '-c', 'main', '--', 'sh', '-c', 'exit 3']);
    expect(three.code).toBe(3);
    const cat = await kubectl(['exec', '-i', '-n', NS, 'box', '-c', 'main', '--', 'sh', '-c', 'cat; echo done'], 'line1\nline2\n');
    expect(cat.code).toBe(0);
    expect(cat.stdout).toBe('line1\nline2\ndone\n');
    const missing = await kubectl(['exec', '-n', NS, 'box', '-c', 'nope', '--', 'true']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/container nope is not valid|not found/);
  }, 60_000);

  it('kubectl exec -it: a TTY driven through tmux, with window resize', async () => {
    const session = `nl2tty${process.pid}`;
    const codeFile = join(dir.path, 'tty-exit');
    const kubeconfig = cluster.kubeconfigPath;
    const cmd = `kubectl --kubeconfig=${kubeconfig} exec -it -n ${NS} box -c main -- sh; echo $? > ${codeFile}`;
    const tmux = (...a: string[]) => spawnSync('tmux', a, { encoding: 'utf8' });
    expect(tmux('new-session', '-d', '-s', session, '-x', '123', '-y', '37', cmd).status).toBe(0);
    try {
      const pane = () => tmux('capture-pane', '-p', '-t', session).stdout;
      await waitFor(async () => /#\s*$/m.test(pane()), { timeoutMs: 15_000, description: 'shell prompt' });
      tmux('send-keys', '-t', session, 'stty size; tty', 'Enter');
      await waitFor(async () => /^37 123\s*$/m.test(pane()), { timeoutMs: 10_000, description: 'stty size 37 123' });
      expect(pane()).toMatch(/\/dev\/pts\/\d+/);
      tmux('resize-window', '-t', session, '-x', '90', '-y', '20');
      await new Promise((r) => setTimeout(r, 300));
      tmux('send-keys', '-t', session, 'clear; stty size', 'Enter');
      await waitFor(async () => /^20 90\s*$/m.test(pane()), { timeoutMs: 10_000, description: 'stty size 20 90 after resize' });
      tmux('send-keys', '-t', session, 'exit 7', 'Enter');
      await waitFor(async () => existsSync(codeFile) && readFileSync(codeFile, 'utf8').trim() !== '', { timeoutMs: 10_000, description: 'kubectl exited' });
      expect(readFileSync(codeFile, 'utf8').trim()).toBe('7');
    } finally {
      tmux('kill-session', '-t', session);
    }
  }, 60_000);

  it('kubectl attach: output of PID 1, and stdin to a container with stdin', async () => {
    const child = spawn('kubectl', ['--kubeconfig', cluster.kubeconfigPath, 'attach', '-n', NS, 'box', '-c', 'side'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await waitFor(async () => /tick \d+\ntick \d+/.test(out), { timeoutMs: 15_000, description: 'two ticks through attach' });
    } finally {
      child.kill('SIGKILL');
    }
    // Closing stdin (EOF after the input) closes the container's stdin: its loop ends, PID 1 exits, attach returns.
    const r = await kubectl(['attach', '-i', '-n', NS, 'box', '-c', 'echo'], 'alpha\nbeta\n', 20_000);
    expect(r.stdout).toContain('got:alpha\ngot:beta\nstdin-closed\n');
  }, 60_000);

  it('kubectl cp both ways', async () => {
    const local = join(dir.path, 'up.txt');
    const payload = `payload ${'x'.repeat(100_000)} end\n`;
    writeFileSync(local, payload);
    await cluster.kubectlOk(['cp', local, `${NS}/box:/tmp/up.txt`, '-c', 'main']);
    const inPod = await kubectl(['exec', '-n', NS, 'box', '-c', 'main', '--', 'md5sum', '/tmp/up.txt']);
    const localSum = spawnSync('md5sum', [local], { encoding: 'utf8' }).stdout.split(' ')[0];
    expect(inPod.stdout.split(' ')[0]).toBe(localSum);
    const back = join(dir.path, 'down.txt');
    await cluster.kubectlOk(['cp', `${NS}/box:/tmp/up.txt`, back, '-c', 'main']);
    expect(readFileSync(back, 'utf8')).toBe(payload);
  }, 60_000);

  it('kubectl port-forward carries an HTTP request to a port bound only on the pod loopback', async () => {
    const child = spawn('kubectl', ['--kubeconfig', cluster.kubeconfigPath, 'port-forward', '-n', NS, 'pod/box', `${FORWARD_PORT}:8080`], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await waitFor(async () => out.includes('Forwarding from'), { timeoutMs: 15_000, description: 'port-forward ready' });
      for (let i = 0; i < 3; i++) {
        const res = await fetch(`http://127.0.0.1:${FORWARD_PORT}/index.html`);
        expect(res.status).toBe(200);
        expect(await res.text()).toBe('hello-from-pod\n');
      }
      // A port nothing listens on: the request fails, the forwarder reports it and keeps running.
    } finally {
      child.kill('SIGINT');
    }
    expect(out).not.toMatch(/error forwarding/);
  }, 60_000);

  it('kubectl debug adds an ephemeral container in the target PID namespace, reported and attachable', async () => {
    await cluster.kubectlOk(['debug', '-n', NS, 'box', `--image=${IMAGE}`, '--target=side', '-c', 'dbg', '--', 'sh', '-c', 'echo debugger-up; sleep 3600']);
    const pod = await waitFor(
      async () => {
        const p = await getPod('box');
        return p?.status?.ephemeralContainerStatuses?.find((s) => s.name === 'dbg')?.state?.running !== undefined ? p : undefined;
      },
      { timeoutMs: 40_000, description: 'ephemeral container running' },
    );
    expect(pod.spec?.ephemeralContainers?.map((e) => e.name)).toEqual(['dbg']);
    const ps = await kubectl(['exec', '-n', NS, 'box', '-c', 'dbg', '--', 'ps']);
    expect(ps.code).toBe(0);
    expect(ps.stdout).toContain('tick'); // the target's `sh -c … tick …` loop is visible: same PID namespace
    const child = spawn('kubectl', ['--kubeconfig', cluster.kubeconfigPath, 'attach', '-n', NS, 'box', '-c', 'dbg'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    await new Promise((r) => setTimeout(r, 3000));
    child.kill('SIGKILL');
    expect(out).not.toMatch(/error/i);
  }, 90_000);
});
