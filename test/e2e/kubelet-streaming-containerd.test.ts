/**
 * e2e (issue 13, streaming on the CRI backend): the daemon on a PRIVATE containerd (bridge nl2ctr1 on
 * 10.214.2.128/25) serves `kubectl exec` (exit code, stdin to EOF, `-it` with a TTY driven through tmux and resized),
 * `kubectl cp` both ways, `kubectl attach` (output, and stdin to a container with `stdin: true`), `kubectl
 * port-forward` to a port bound only on the pod's loopback, and `kubectl debug -it --target` (an ephemeral container
 * in the target's PID namespace, attached through a TTY, its exit code reported in ephemeralContainerStatuses),
 * through the API server; the daemon relays them to containerd's streaming server (CRI Exec/Attach/PortForward URLs)
 * as a SPDY client. `kubectl logs` on containerd (-f, --previous, --tail, --since, --timestamps, -c) is covered by
 * kubelet-api-logs.test.ts. Runs on the real control plane ($KUBECONFIG) and on the test API server alike.
 *
 * Several sessions sharing one machine and one control plane can move the node, namespace, bridge, subnet and ports:
 * NODELET_E2E_STREAMING_CTRD='node=h1-a,ns=h1-streaming-ctrd,bridge=h1ctr0,subnet=10.231.1.0/25,api=21001,forward=21002'.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CriRuntime } from '../../src/cri/containerd/index.js';
import { containerdMissing, startPrivateContainerd, type PrivateContainerd } from '../../src/cri/containerd/testing.js';
import { runNodelet, startCluster, waitFor, type Cluster, type NodeletProcess } from './harness/index.js';
import { fastKubeletConfig, freePort, tempDir } from './node-helpers.js';

const NODE = 'nl-api-2';
const moved = Object.fromEntries((process.env.NODELET_E2E_STREAMING_CTRD ?? '').split(',').filter((kv) => kv.includes('=')).map((kv) => kv.split('=', 2) as [string, string]));
const node = moved.node ?? NODE;
const NS = moved.ns ?? 'nl2-streaming-ctrd';
const BRIDGE = moved.bridge ?? 'nl2ctr1';
const SUBNET = moved.subnet ?? '10.214.2.128/25';
const IMAGE = 'localhost/nodelet/testbox:1.0';
const API_PORT = Number(moved.api ?? 20203);
const FORWARD_PORT = Number(moved.forward ?? 20211);
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
    ctrd = await startPrivateContainerd({ bridge: BRIDGE, subnet: SUBNET });
    nodelet = runNodelet(
      [
        `--kubeconfig=${await cluster.nodeKubeconfig(node)}`,
        `--config=${fastKubeletConfig(dir.path)}`,
        '--roles=kubelet',
        `--hostname-override=${node}`,
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
    await waitFor(async () => (await cluster.kubectl(['get', 'node', node])).code === 0, { timeoutMs: 30_000, description: 'node registered' });
    const c = (name: string, script: string, extra: Record<string, unknown> = {}) => ({ name, image: IMAGE, command: ['sh', '-c', script], ...extra });
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'box', namespace: NS },
      spec: {
        nodeName: node,
        terminationGracePeriodSeconds: 1,
        containers: [
          c('main', 'mkdir -p /www && echo hello-from-ctrd > /www/index.html && exec httpd -f -p 127.0.0.1:8080 -h /www'),
          c('side', 'i=0; while true; do echo tick $i; i=$((i+1)); sleep 1; done'),
          c('echo', 'while read l; do echo got:$l; done; echo stdin-closed', { stdin: true, stdinOnce: true }),
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
    await cluster?.kubectl(['delete', 'node', node, '--wait=false']);
    await cluster?.stop();
    dir?.remove();
  }, 90_000);

  it('kubectl exec: exit code 3, and stdin read to EOF', async () => {
    expect((await kubectl(['exec', 'box', '-c', 'main', '--', 'sh', '-c', 'exit 3'])).code).toBe(3);
    const cat = await kubectl(['exec', '-i', 'box', '-c', 'main', '--', 'sh', '-c', 'cat; echo done'], 'abc\n');
    expect(cat.code).toBe(0);
    expect(cat.stdout).toBe('abc\ndone\n');
  }, 60_000);

  it('a killed kubectl exec leaves no process behind (containerd would not notice; nodelet kills it)', async () => {
    const sleeps = async (): Promise<number> => {
      const r = await kubectl(['exec', 'box', '-c', 'main', '--', 'ps', '-o', 'args']);
      return r.stdout.split('\n').filter((l) => /^sleep 42\d\d$/.test(l.trim())).length;
    };
    // Several at once, as a burst of aborted clients.
    const clients = Array.from({ length: 8 }, (_v, i) =>
      spawn('kubectl', ['--kubeconfig', cluster.kubeconfigPath, '-n', NS, 'exec', 'box', '-c', 'main', '--', 'sleep', String(4240 + i)], { stdio: 'ignore' }),
    );
    try {
      await waitFor(async () => (await sleeps()) === 8, { timeoutMs: 20_000, description: '8 execs running' });
    } finally {
      for (const c of clients) c.kill('SIGKILL');
    }
    const t0 = Date.now();
    await waitFor(async () => (await sleeps()) === 0, { timeoutMs: 8_000, description: 'aborted execs killed' });
    expect(Date.now() - t0).toBeLessThan(8_000);
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
    // Closing stdin (EOF after the input) closes the container's stdin: its loop ends, PID 1 exits, attach returns.
    const r = await kubectl(['attach', '-i', 'box', '-c', 'echo'], 'alpha\nbeta\n');
    expect(r.stdout).toContain('got:alpha\ngot:beta\nstdin-closed\n');
  }, 60_000);

  it('kubectl exec -it: a TTY driven through tmux, with window resize and the exit code', async () => {
    const t = tmuxSession('tty');
    const codeFile = join(dir.path, 'tty-exit');
    try {
      t.start(`kubectl --kubeconfig=${cluster.kubeconfigPath} exec -it -n ${NS} box -c main -- sh; echo $? > ${codeFile}`);
      await waitFor(async () => /#\s*$/m.test(t.pane()), { timeoutMs: 15_000, description: 'shell prompt' });
      t.keys('stty size; tty');
      await waitFor(async () => /^37 123\s*$/m.test(t.pane()), { timeoutMs: 10_000, description: 'stty size 37 123' });
      expect(t.pane()).toMatch(/\/dev\/pts\/\d+/);
      t.resize(90, 20);
      await new Promise((r) => setTimeout(r, 300));
      t.keys('clear; stty size');
      await waitFor(async () => /^20 90\s*$/m.test(t.pane()), { timeoutMs: 10_000, description: 'stty size 20 90 after resize' });
      t.keys('exit 7');
      await waitFor(async () => existsSync(codeFile) && readFileSync(codeFile, 'utf8').trim() !== '', { timeoutMs: 10_000, description: 'kubectl exited' });
      expect(readFileSync(codeFile, 'utf8').trim()).toBe('7');
    } finally {
      t.kill();
    }
  }, 60_000);

  it('kubectl debug -it --target: an ephemeral container in the target PID namespace, attached through a TTY, reported', async () => {
    const t = tmuxSession('dbg');
    try {
      t.start(`kubectl --kubeconfig=${cluster.kubeconfigPath} debug -it -n ${NS} box --image=${IMAGE} --target=side -c dbg -- sh`);
      // kubectl waits for the container to run, then attaches ("If you don't see a command prompt, try pressing enter").
      await waitFor(
        async () => {
          if (/#\s*$/m.test(t.pane())) return true;
          t.keys('');
          return false;
        },
        { timeoutMs: 60_000, intervalMs: 1000, description: 'debug shell prompt' },
      );
      t.keys('ps; echo dbg-$((40+2))');
      await waitFor(async () => /^dbg-42\s*$/m.test(t.pane()), { timeoutMs: 10_000, description: 'ps output in the debug shell' });
      expect(t.pane()).toContain('tick'); // the target's `sh -c … tick …` loop is visible: same PID namespace
      t.keys('exit 5');
      const status = await waitFor(
        async () => {
          const r = await kubectl(['get', 'pod', 'box', '-o', 'json']);
          const pod = JSON.parse(r.stdout) as {
            spec: { ephemeralContainers?: { name: string; targetContainerName?: string }[] };
            status: { ephemeralContainerStatuses?: { name: string; state?: { terminated?: { exitCode: number } } }[] };
          };
          const s = pod.status.ephemeralContainerStatuses?.find((e) => e.name === 'dbg');
          return s?.state?.terminated === undefined ? undefined : { spec: pod.spec.ephemeralContainers, exitCode: s.state.terminated.exitCode };
        },
        { timeoutMs: 30_000, intervalMs: 500, description: 'dbg terminated in ephemeralContainerStatuses' },
      );
      expect(status.exitCode).toBe(5);
      expect(status.spec?.map((e) => [e.name, e.targetContainerName])).toEqual([['dbg', 'side']]);
    } finally {
      t.kill();
    }
  }, 120_000);
});

/** A detached tmux session of 123×37 cells: the pseudo-terminal `kubectl -it` runs in. */
function tmuxSession(name: string): { start(cmd: string): void; pane(): string; keys(text: string): void; resize(x: number, y: number): void; kill(): void } {
  const session = `nl2ctrd-${name}-${process.pid}`;
  const tmux = (...a: string[]) => spawnSync('tmux', a, { encoding: 'utf8' });
  return {
    start: (cmd) => {
      const r = tmux('new-session', '-d', '-s', session, '-x', '123', '-y', '37', cmd);
      if (r.status !== 0) throw new Error(`tmux new-session: ${r.stderr}`);
    },
    pane: () => tmux('capture-pane', '-p', '-t', session).stdout,
    keys: (text) => void tmux('send-keys', '-t', session, text, 'Enter'),
    resize: (x, y) => void tmux('resize-window', '-t', session, '-x', String(x), '-y', String(y)),
    kill: () => void tmux('kill-session', '-t', session),
  };
}
