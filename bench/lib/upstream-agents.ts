/**
 * The agents of the benchmarks against the upstream kubelet on the real control plane (bench/kubelet-exec-vs-upstream.ts,
 * bench/kubelet-logs-vs-upstream.ts): private containerds, nodelet, the upstream kubelet v1.33.3, a private dockerd,
 * each registered on a cleanup stack; and the pod and node waits they share.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CriRuntime } from '../../src/cri/containerd/index.js';
import { startPrivateContainerd, type PrivateContainerd } from '../../src/cri/containerd/testing.js';
import { runNodelet, waitFor, type Cluster, type NodeletProcess } from '../../test/e2e/harness/index.js';
import { PrivateDockerd } from '../../test/e2e/node-helpers.js';
import type { CleanupStack } from './cleanup.js';
import { removeSandboxes } from './cri-sandboxes.js';
import { unmountUnder, writeIsolatedKubeletConfig } from './host.js';
import { clockTicks, stopChild } from './proc.js';

type Stack = Pick<CleanupStack, 'onCleanup'>;

/** The three agents these benches compare. */
export type AgentKind = 'nodelet-containerd' | 'kubelet-containerd' | 'nodelet-docker';

/** Their row labels. */
export const AGENT_LABEL: Record<AgentKind, string> = {
  'nodelet-containerd': 'nodelet on containerd',
  'kubelet-containerd': 'upstream kubelet v1.33.3 on containerd',
  'nodelet-docker': 'nodelet on Docker',
};

/** `--name=value` of this process's arguments. */
export const benchArg = (name: string): string | undefined =>
  process.argv.slice(2).find((a) => a.startsWith(`--${name}=`))?.split('=').slice(1).join('=');

/** The arguments every agents-vs-upstream bench takes (defaults: one session's allocation, pass your own). */
export interface CommonBenchArgs {
  kubeconfig: string;
  /** kubectl and the upstream binaries: $K8S_BIN_DIR, else `bin` beside the kubeconfig. */
  bin: string;
  nodeA: string;
  nodeB: string;
  prefix: string;
  portBase: number;
  /** The first three octets of a /24 of one's own. */
  subnet: string;
  writeDoc: boolean;
}

/** Parses {@link CommonBenchArgs} (--kubeconfig, --nodes=a,b, --prefix, --port-base, --subnet, --no-doc). */
export function commonBenchArgs(): CommonBenchArgs {
  const kubeconfig = benchArg('kubeconfig') ?? process.env.NODELET_E2E_KUBECONFIG ?? '/tmp/k8s-real/admin.kubeconfig';
  const [nodeA = 'h1-a', nodeB = 'h1-b'] = (benchArg('nodes') ?? 'h1-a,h1-b').split(',');
  return {
    kubeconfig,
    bin: process.env.K8S_BIN_DIR ?? join(dirname(kubeconfig), 'bin'),
    nodeA,
    nodeB,
    prefix: benchArg('prefix') ?? 'h1',
    portBase: Number(benchArg('port-base') ?? 21000),
    subnet: benchArg('subnet') ?? '10.231.1',
    writeDoc: !process.argv.includes('--no-doc'),
  };
}

/** utime+stime of `pid` and of its reaped children (cutime+cstime), in seconds. */
export function cpuWithChildren(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
  return ((f[11] ?? 0) + (f[12] ?? 0) + (f[13] ?? 0) + (f[14] ?? 0)) / clockTicks();
}

/** The number in a pid file. */
export const readPid = (path: string): number => Number(readFileSync(path, 'utf8').trim());

/** Waits until `node` is Ready (120 s). */
export async function nodeReady(cluster: Cluster, node: string): Promise<void> {
  await waitFor(
    async () => (await cluster.kubectl(['get', 'node', node, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'])).stdout === 'True',
    { timeoutMs: 120_000, intervalMs: 500, description: `node ${node} Ready` },
  );
}

/** Waits until pod `ns/pod` is Ready (120 s). */
export async function waitPodReady(cluster: Cluster, ns: string, pod: string): Promise<void> {
  await waitFor(
    async () => (await cluster.kubectl(['-n', ns, 'get', 'pod', pod, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'])).stdout === 'True',
    { timeoutMs: 120_000, intervalMs: 500, description: `pod ${pod} Ready` },
  );
}

/** Force-deletes a pod and waits (30 s at most) until `gone()` says its runtime objects are removed by the agent. */
export async function deletePod(cluster: Cluster, ns: string, pod: string, gone: () => Promise<boolean>): Promise<void> {
  await cluster.kubectl(['-n', ns, 'delete', 'pod', pod, '--grace-period=0', '--force', '--wait=false']);
  await waitFor(gone, { timeoutMs: 30_000, intervalMs: 500, description: `${pod} torn down` }).catch(() => undefined);
}

/** No ready sandbox left (the kubelet removes stopped ones only at its next garbage collection). */
export async function sandboxesGone(socketPath: string): Promise<boolean> {
  const rt = new CriRuntime({ socketPath });
  try {
    return (await rt.listPodSandboxes({ state: 'ready' })).length === 0;
  } finally {
    await rt.close();
  }
}

/** A private containerd registered for cleanup (tasks, mounts, bridge, dir go with it). */
export async function privateContainerd(stack: Stack, bridge: string, subnet: string): Promise<PrivateContainerd> {
  const c = await startPrivateContainerd({ bridge, subnet });
  stack.onCleanup(`containerd ${bridge}`, async () => {
    await removeSandboxes(c.socketPath);
    await c.stop();
  });
  return c;
}

/** PID reader of a private containerd. */
export const containerdPid = (c: PrivateContainerd) => (): number => readPid(join(c.dir, 'containerd.pid'));

/** Where and how a bench nodelet runs. */
export interface NodeletArgsOptions {
  cluster: Cluster;
  node: string;
  root: string;
  /** CRI or Docker endpoint (`unix://…`). */
  endpoint: string;
  caFile: string;
  ip: string;
  /** Kubelet API port; healthz on port + 1. */
  port: number;
  cgroupRoot: string;
  /** More flags (e.g. `--config=…`). */
  extra?: string[];
}

/** The flags of a nodelet beside the kubelet: webhook-authorized kubelet API with the API server's client CA. */
export async function nodeletArgs(o: NodeletArgsOptions): Promise<string[]> {
  return [
    `--kubeconfig=${await o.cluster.nodeKubeconfig(o.node)}`,
    '--roles=kubelet',
    `--hostname-override=${o.node}`,
    `--node-ip=${o.ip}`,
    `--root-dir=${o.root}`,
    `--container-runtime-endpoint=${o.endpoint}`,
    `--port=${o.port}`,
    `--healthz-port=${o.port + 1}`,
    `--client-ca-file=${o.caFile}`,
    '--fail-swap-on=false',
    `--cgroup-root=/${o.cgroupRoot}`,
    '--image-gc-high-threshold=100',
    '--eviction-hard=memory.available<100Mi',
    ...(o.extra ?? []),
  ];
}

/** Starts nodelet ($NODELET_ENTRY unless `entry`), stopped by the cleanup stack. */
export function startNodelet(stack: Stack, args: string[], name: string, entry?: string): NodeletProcess {
  const n = runNodelet(args, { name, ...(entry === undefined ? {} : { entry }) });
  stack.onCleanup(name, async () => {
    await n.stop();
  });
  return n;
}

/** Options of {@link startUpstreamKubelet}. */
export interface UpstreamKubeletOptions {
  cluster: Cluster;
  /** Directory of the kubelet binary (extracted by ../shared/k8s/extract.sh if missing). */
  binDir: string;
  work: string;
  /** containerd socket path. */
  sock: string;
  caFile: string;
  ip: string;
  node: string;
  /** Kubelet API port; healthz on port + 1. */
  port: number;
  cgroupRoot: string;
  /** KubeletConfiguration containerLogMaxSize (default upstream's 10Mi). */
  containerLogMaxSize?: string;
}

/** The upstream kubelet, configured as scripts/conformance.sh does (webhook authn/authz, x509 client CA). */
export async function startUpstreamKubelet(stack: Stack, o: UpstreamKubeletOptions): Promise<ChildProcess> {
  const kubelet = join(o.binDir, 'kubelet');
  if (!existsSync(kubelet)) {
    const r = spawnSync('bash', [join(process.cwd(), '..', 'shared', 'k8s', 'extract.sh'), 'kubelet'], { env: { ...process.env, K8S_BIN_DIR: o.binDir }, stdio: 'inherit' });
    if (r.status !== 0) throw new Error('cannot extract the upstream kubelet');
  }
  const { config, root } = writeIsolatedKubeletConfig({
    work: o.work,
    port: o.port,
    healthzPort: o.port + 1,
    readOnlyPort: 0,
    cgroupRoot: o.cgroupRoot,
    clientCAFile: o.caFile,
    ...(o.containerLogMaxSize === undefined ? {} : { containerLogMaxSize: o.containerLogMaxSize }),
  });
  const log = join(o.work, 'kubelet.log');
  const child = spawn(
    kubelet,
    [`--kubeconfig=${await o.cluster.nodeKubeconfig(o.node)}`, `--config=${config}`, `--hostname-override=${o.node}`, `--node-ip=${o.ip}`, `--root-dir=${root}`, `--container-runtime-endpoint=unix://${o.sock}`, '-v=1'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const out = createWriteStream(log);
  child.stdout?.pipe(out);
  child.stderr?.pipe(out);
  stack.onCleanup('kubelet', async () => {
    await stopChild(child);
    unmountUnder(root); // the kubelet makes its root dir a mount and mounts pod volumes below it
  });
  console.log(`upstream kubelet pid ${String(child.pid)}, log ${log}`);
  return child;
}

/** A private dockerd in `<work>/dockerd` on bridge `bridge` (`subnet` its address), images loaded, removed by cleanup. */
export async function privateDockerd(stack: Stack, work: string, bridge: string, subnet: string): Promise<{ engine: PrivateDockerd; pid: () => number }> {
  const dir = join(work, 'dockerd');
  mkdirSync(dir, { recursive: true });
  const engine = new PrivateDockerd(dir, bridge);
  stack.onCleanup('dockerd', async () => {
    const ids = engine.docker(['ps', '-aq']).split('\n').filter((s) => s !== '');
    if (ids.length > 0) engine.docker(['rm', '-f', ...ids]);
    await engine.destroy();
  });
  engine.setupBridge(subnet);
  await engine.start();
  engine.loadImages();
  return { engine, pid: () => readPid(join(dir, 'docker.pid')) };
}
