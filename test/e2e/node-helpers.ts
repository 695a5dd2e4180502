/** Helpers shared by the node-*.test.ts e2e scenarios (issue 3): free ports, temp dirs, a private dockerd. */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { waitFor, type Cluster, type NodeletProcess } from './harness/index.js';

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a !== null ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/**
 * Lazily unmounts every mount point under `dir` (and `dir` itself when it is one), deepest first: what a killed or
 * slow agent, or a runtime's own shims, may leave behind (volumes, sandbox /dev/shm, rootfs).
 */
export function unmountUnder(dir: string): void {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  const points = readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[1] ?? '')
    .filter((m) => m === dir || m.startsWith(prefix));
  for (const m of points.sort().reverse()) spawnSync('umount', ['-l', m]);
}

/** A temp dir removed by the returned function (mounts left under it are unmounted first). */
export function tempDir(prefix: string): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return {
    path,
    remove: () => {
      unmountUnder(path);
      rmSync(path, { recursive: true, force: true });
    },
  };
}

/** Writes a KubeletConfiguration for fast heartbeats into `dir` and returns its path. */
export function fastKubeletConfig(dir: string, extra = ''): string {
  const path = join(dir, 'config.yaml');
  writeFileSync(
    path,
    `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
nodeStatusUpdateFrequency: 1s
nodeLeaseDurationSeconds: 4
maxPods: 42
${extra}`,
  );
  return path;
}

/** A private Docker engine on its own socket, data root, exec root, pidfile and bridge; stopped/started by PID. */
export class PrivateDockerd {
  readonly dir: string;
  readonly socket: string;
  readonly bridge: string;
  #pid: number | undefined;

  /** Extra dockerd flags (e.g. `--live-restore` for the soak: containers survive an engine restart). */
  readonly extraArgs: readonly string[];

  constructor(dir: string, bridge: string, extraArgs: readonly string[] = []) {
    this.dir = dir;
    this.socket = join(dir, 'docker.sock');
    this.bridge = bridge;
    this.extraArgs = extraArgs;
  }

  /** Creates the bridge (idempotent). */
  setupBridge(subnet: string): void {
    spawnSync('ip', ['link', 'add', this.bridge, 'type', 'bridge']);
    spawnSync('ip', ['addr', 'add', subnet, 'dev', this.bridge]);
    spawnSync('ip', ['link', 'set', this.bridge, 'up']);
  }

  /** Starts dockerd and waits until its socket answers. */
  async start(): Promise<void> {
    const child = spawn(
      'dockerd',
      [
        `--host=unix://${this.socket}`,
        `--data-root=${join(this.dir, 'data')}`,
        `--exec-root=${join(this.dir, 'exec')}`,
        `--pidfile=${join(this.dir, 'docker.pid')}`,
        `--bridge=${this.bridge}`,
        '--iptables=false',
        '--ip-masq=false',
        '--ip-forward=false',
        ...this.extraArgs,
      ],
      { detached: true, stdio: ['ignore', 'ignore', 'ignore'] },
    );
    child.unref();
    this.#pid = child.pid;
    for (let i = 0; i < 100; i++) {
      if (this.answers()) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`private dockerd did not answer on ${this.socket}`);
  }

  /** Copies the local images (pause, testbox) from the shared engine into this one (read-only use of the shared one). */
  loadImages(): void {
    const r = spawnSync('sh', ['-c', `docker save localhost/nodelet/pause:3.9 localhost/nodelet/testbox:1.0 | docker -H unix://${this.socket} load -q`], { timeout: 60_000, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`loading images into the private dockerd failed: ${r.stderr}`);
  }

  /** Runs the docker CLI against this engine; returns stdout. */
  docker(args: string[]): string {
    return spawnSync('docker', ['-H', `unix://${this.socket}`, ...args], { encoding: 'utf8', timeout: 30_000 }).stdout.trim();
  }

  /** True when the engine answers. */
  answers(): boolean {
    return spawnSync('docker', ['-H', `unix://${this.socket}`, 'version', '--format', '{{.Server.Version}}'], { timeout: 5000 }).status === 0;
  }

  /** Stops dockerd by its PID (SIGTERM, then SIGKILL) and waits for it to go. */
  async stop(): Promise<void> {
    const pid = this.#pid ?? Number(readPid(join(this.dir, 'docker.pid')));
    if (!pid) return;
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      return;
    }
    for (let i = 0; i < 100; i++) {
      try {
        process.kill(pid, 0);
      } catch {
        this.#pid = undefined;
        return;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
    this.#pid = undefined;
  }

  /** Stops the engine, removes the bridge; the caller removes the dir. */
  async destroy(): Promise<void> {
    await this.stop();
    spawnSync('ip', ['link', 'del', this.bridge]);
    // dockerd's own containerd mounts state under the exec root; unmount what is left.
    unmountUnder(this.dir);
  }
}

function readPid(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return '';
  }
}

/**
 * Starts a private engine with the local images loaded. Every e2e scenario here runs nodelet's kubelet role on a
 * private engine: a kubelet garbage-collects kubelet-labelled containers it does not know, so it must never share
 * an engine with other agents' pods.
 */
export async function startPrivateDockerd(dir: string, bridge: string, subnet: string, extraArgs: readonly string[] = []): Promise<PrivateDockerd> {
  const d = new PrivateDockerd(dir, bridge, extraArgs);
  d.setupBridge(subnet);
  await d.start();
  d.loadImages();
  return d;
}

/** What a daemon scenario started (any part may be missing when its start failed), for {@link tearDownDaemonScenario}. */
export interface DaemonScenario {
  cluster?: Cluster;
  nodelet?: NodeletProcess;
  engine?: PrivateDockerd;
  /** Client of `engine`. */
  docker?: Docker;
  namespace: string;
  node: string;
  dir?: { remove: () => void };
  /** How long the agent gets to tear the pods down before it is stopped (default 20 s). */
  podsGoneTimeoutMs?: number;
}

/**
 * Tears a daemon scenario down in the order that leaves nothing behind: force-delete the namespace's pods and let the
 * agent remove their containers and volume mounts, stop the agent, remove leftover containers (before the engine: a
 * stopped dockerd leaves running containers' shims behind), destroy the engine (also unmounts what is left under
 * its directory), delete the Node, stop the cluster, remove the temp dir.
 */
export async function tearDownDaemonScenario(s: DaemonScenario): Promise<void> {
  const { cluster, docker } = s;
  await cluster?.kubectl(['delete', 'pods', '--all', '-n', s.namespace, '--grace-period=0', '--force', '--wait=false']);
  await waitFor(async () => (await docker?.listContainers())?.length === 0, {
    timeoutMs: s.podsGoneTimeoutMs ?? 20_000,
    description: 'pods torn down',
  }).catch(() => undefined);
  await s.nodelet?.stop();
  const left = (await docker?.listContainers({ all: true }).catch(() => [])) ?? [];
  await Promise.all(left.map((c) => docker?.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
  await s.engine?.destroy();
  await cluster?.kubectl(['delete', 'node', s.node, '--wait=false']);
  await cluster?.stop();
  s.dir?.remove();
}
