/**
 * The environment of the pod benchmarks: the in-process test API server, a PRIVATE dockerd (own socket, data root,
 * exec root, pidfile and bridge; the local images loaded into it) and nodelet (`dist/nodelet.mjs`, kubelet role) as a
 * child process against both, with a private root dir. A kubelet garbage-collects kubelet-labelled containers it does
 * not know, so it must never run against the shared engine. `cleanup()` deletes the pods, waits for their containers
 * to go, stops nodelet and the engine by PID and removes the temp dir; it also runs on SIGINT/SIGTERM.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Docker from 'dockerode';
import { ApiClient, loadKubeConfig } from '../../src/api/index.js';
import { startTestApiServer, type TestApiServer } from '../../test/apiserver/index.js';
import { runNodelet, type NodeletProcess } from '../../test/e2e/harness/nodelet.js';
import { freePort, startPrivateDockerd, tempDir, type PrivateDockerd } from '../../test/e2e/node-helpers.js';

/** Label on every container the benchmarks create with the docker CLI (the floor measurement). */
export const BENCH_LABEL = 'io.nodelet.test=pods-bench';
/** The app image of the benchmark pods. */
export const IMAGE = 'localhost/nodelet/testbox:1.0';
/** The sandbox image (nodelet's default --pod-infra-container-image). */
export const PAUSE_IMAGE = 'localhost/nodelet/pause:3.9';
/** Namespace of the benchmark pods. */
export const NAMESPACE = 'default';

/** Options of {@link startPodBenchEnv}. */
export interface PodBenchEnvOptions {
  /** Node name (default `nlpb-node`). */
  node?: string;
  /** Private bridge (≤ 15 chars) and its gateway address/prefix. */
  bridge?: string;
  subnet?: string;
  /** Extra nodelet flags. */
  extraArgs?: string[];
  /** Extra environment for nodelet (e.g. NODE_OPTIONS). */
  env?: NodeJS.ProcessEnv;
  /** Log name for nodelet's log file under .tmp/e2e-logs. */
  name?: string;
  /** Bundle to run instead of dist/nodelet.mjs (footprint experiments, e.g. a minified build). */
  entry?: string;
}

/** A running benchmark environment. */
export interface PodBenchEnv {
  server: TestApiServer;
  api: ApiClient;
  engine: PrivateDockerd;
  docker: Docker;
  nodelet: NodeletProcess;
  node: string;
  /** Runs the docker CLI against the private engine; returns stdout (throws on failure). */
  dockerCli(args: string[]): string;
  /** Deletes the benchmark pods and waits (≤ timeoutMs) until they left the API and their containers are gone. */
  deletePods(timeoutMs?: number): Promise<{ apiGoneMs: number; containersGoneMs: number }>;
  /** Tears everything down (idempotent). */
  cleanup(): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Runs `fn`, retrying up to 5 times on transport errors (ECONNRESET on a reused keep-alive socket and the like). */
export async function retry<T>(fn: () => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await fn();
    } catch (err) {
      const e = err as { code?: unknown; syscall?: unknown };
      if (i >= 4 || typeof e.syscall !== 'string' || typeof e.code !== 'string') throw err;
      await sleep(100);
    }
  }
}

/** Builds the nodelet dist bundle when it is missing (the benchmarks use the bundle, as deployed). */
export function ensureBuilt(): void {
  if (existsSync('dist/nodelet.mjs')) return;
  const r = spawnSync('npm', ['exec', '--', 'node', 'scripts/build.mjs'], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('building dist/nodelet.mjs failed');
}

/** Starts the API server, a private dockerd and nodelet (kubelet role); waits until the Node is Ready. */
export async function startPodBenchEnv(opts: PodBenchEnvOptions = {}): Promise<PodBenchEnv> {
  if (opts.entry === undefined) ensureBuilt();
  const node = opts.node ?? 'nlpb-node';
  const dir = tempDir('nlpb-');
  let server: TestApiServer | undefined;
  let engine: PrivateDockerd | undefined;
  let nodelet: NodeletProcess | undefined;
  let api: ApiClient | undefined;
  let docker: Docker | undefined;
  let cleaned = false;

  const podCount = async (): Promise<number> => {
    if (!api) return 0;
    const a = api;
    const l = await retry(() => a.request<{ items: unknown[] }>({ path: `/api/v1/namespaces/${NAMESPACE}/pods` }));
    return l.items.length;
  };
  const benchContainers = async (): Promise<number> => (docker ? (await docker.listContainers({ all: true })).length : 0);

  const deletePods = async (timeoutMs = 120_000): Promise<{ apiGoneMs: number; containersGoneMs: number }> => {
    const t0 = performance.now();
    let apiGoneMs = Number.NaN;
    let containersGoneMs = Number.NaN;
    if (!api) return { apiGoneMs, containersGoneMs };
    const a = api;
    await retry(() => a.request({ method: 'DELETE', path: `/api/v1/namespaces/${NAMESPACE}/pods` }));
    while (performance.now() - t0 < timeoutMs) {
      if (Number.isNaN(apiGoneMs) && (await podCount()) === 0) apiGoneMs = performance.now() - t0;
      if (Number.isNaN(containersGoneMs) && (await benchContainers()) === 0) containersGoneMs = performance.now() - t0;
      if (!Number.isNaN(apiGoneMs) && !Number.isNaN(containersGoneMs)) break;
      await sleep(250);
    }
    return { apiGoneMs, containersGoneMs };
  };

  const cleanup = async (): Promise<void> => {
    if (cleaned) return;
    cleaned = true;
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    try {
      if (nodelet?.running()) await deletePods(60_000).catch(() => undefined);
    } finally {
      await nodelet?.stop(15_000).catch(() => undefined);
      if (docker) {
        const left = await docker.listContainers({ all: true }).catch(() => []);
        await Promise.all(left.map((c) => docker?.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
      }
      await engine?.destroy().catch(() => undefined);
      api?.close();
      await server?.stop().catch(() => undefined);
      dir.remove();
    }
  };
  const onSignal = (sig: NodeJS.Signals): void => {
    console.error(`\n${sig}: cleaning up (pods, nodelet, private dockerd, temp dir)…`);
    void cleanup().finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    server = await startTestApiServer();
    api = new ApiClient(loadKubeConfig(server.kubeconfigPath));
    engine = await startPrivateDockerd(dir.path, opts.bridge ?? 'nlpb-br0', opts.subnet ?? '10.213.110.1/24');
    docker = new Docker({ socketPath: engine.socket });
    const root = join(dir.path, 'root');
    mkdirSync(root, { recursive: true });
    const config = join(dir.path, 'config.yaml');
    writeFileSync(config, 'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n');
    nodelet = runNodelet(
      [
        `--kubeconfig=${server.kubeconfigPath}`,
        `--config=${config}`,
        '--roles=kubelet',
        `--hostname-override=${node}`,
        `--root-dir=${root}`,
        `--container-runtime-endpoint=unix://${engine.socket}`,
        `--healthz-port=${await freePort()}`,
        ...(opts.extraArgs ?? []),
      ],
      { name: opts.name ?? 'nlpb', env: opts.env, entry: opts.entry },
    );
    const t0 = Date.now();
    for (;;) {
      if (!nodelet.running()) throw new Error(`nodelet exited during start; log ${nodelet.logPath}:\n${nodelet.logs().slice(-3000)}`);
      const n = await api
        .request<{ status?: { conditions?: { type: string; status: string }[] } }>({ path: `/api/v1/nodes/${node}` })
        .catch(() => undefined);
      if (n?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) break;
      if (Date.now() - t0 > 60_000) throw new Error(`node ${node} not Ready after 60 s; log ${nodelet.logPath}`);
      await sleep(200);
    }
  } catch (err) {
    await cleanup();
    throw err;
  }
  const e = engine;
  return {
    server,
    api,
    engine: e,
    docker,
    nodelet,
    node,
    dockerCli(args: string[]): string {
      const r = spawnSync('docker', ['-H', `unix://${e.socket}`, ...args], { encoding: 'utf8', timeout: 60_000 });
      if (r.status !== 0) throw new Error(`docker ${args.join(' ')}: ${r.stderr}`);
      return r.stdout.trim();
    },
    deletePods,
    cleanup,
  };
}

/** A benchmark pod: one testbox container sleeping (exits at once on SIGTERM), pulled IfNotPresent. */
export function benchPod(name: string, node: string): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NAMESPACE, labels: { app: 'nlpb' } },
    spec: {
      nodeName: node,
      terminationGracePeriodSeconds: 5,
      containers: [{ name: 'app', image: IMAGE, imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', "trap 'exit 0' TERM; sleep 3600 & wait"] }],
    },
  };
}

/**
 * Starts a bench environment, runs `body` in it, prints the tail of nodelet's log when it fails, and always cleans up
 * (pods, nodelet, the private dockerd, temp dirs).
 */
export async function withPodBenchEnv(opts: PodBenchEnvOptions, body: (env: PodBenchEnv) => Promise<void>): Promise<void> {
  const env = await startPodBenchEnv(opts);
  try {
    await body(env);
  } catch (err) {
    console.error(`failed; nodelet log: ${env.nodelet.logPath}\n${env.nodelet.logs().slice(-4000)}`);
    throw err;
  } finally {
    await env.cleanup();
  }
}
