/**
 * The four node setups of bench/pod-startup-cni.ts, each started from nothing and torn down completely: the upstream
 * kubelet v1.33.3 on a private containerd whose CRI runs CNI, nodelet on the same kind of containerd, nodelet on a
 * private dockerd with CNI (`--network-plugin=cni`), nodelet on a private dockerd in Docker bridge mode.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CriClient } from '../../src/cri/containerd/client.js';
import { startPrivateContainerd } from '../../src/cri/containerd/testing.js';
import { runNodelet } from '../../test/e2e/harness/index.js';
import { PrivateDockerd } from '../../test/e2e/node-helpers.js';
import { removeCgroupTree, unmountUnder, writeIsolatedKubeletConfig } from './host.js';
import { stopChild } from './proc.js';
import { readySandboxes, removeSandboxes } from './cri-sandboxes.js';

/** The setups, in the order they run by default. */
export const TARGETS = ['kubelet-containerd', 'nodelet-containerd', 'nodelet-docker-cni', 'nodelet-docker-bridge'] as const;
/** One setup. */
export type Target = (typeof TARGETS)[number];

/** What every setup shares: cluster identities, ports, names and the CNI network. */
export interface AgentEnv {
  /** Node identity kubeconfig (`system:node:<name>`). */
  nodeKubeconfig(node: string): Promise<string>;
  /** CA of the API server's kubelet-client certificate. */
  clientCAFile: string;
  /** The host address the API server reaches the nodes on. */
  nodeIP: string;
  /** Directory holding the upstream kubelet binary. */
  kubeletBin: string;
  /** Name prefix (cgroups, bridges, log names). */
  prefix: string;
  /** Kubelet API port of the agent; the healthz port is the next one. */
  port: number;
  /** The CNI network (one conflist for all CNI setups). */
  cni: CniNetwork;
  /** Docker's own bridge and its address/prefix (e.g. cb-dbr0, 10.216.4.1/24): the pod network in bridge mode. */
  dockerBridge: string;
  dockerBridgeAddr: string;
  /** Subnet of scripts/ensure-containerd.sh's own conflist (shadowed by ours; no pod may get an IP from it). */
  unusedSubnet: string;
  /** Extra flags for every nodelet (e.g. `--v=4` to see where a pod's time goes; it costs the agent CPU). */
  nodeletFlags: readonly string[];
}

/** The CNI network of the benchmark: bridge + host-local + portmap (loopback is attached by the runtime itself). */
export interface CniNetwork {
  name: string;
  bridge: string;
  /** Pod subnet, e.g. 10.216.1.0/24. */
  subnet: string;
  /** host-local's dataDir (removed between setups). */
  ipamDir: string;
}

/** A running setup. */
export interface StartedAgent {
  target: Target;
  node: string;
  /** PID of the agent (kubelet or nodelet). */
  agentPid: number;
  /** PID of the runtime daemon (containerd or dockerd). */
  runtimePid(): number;
  /** True when the runtime runs no pod sandbox any more (after the pods were deleted). */
  runtimeEmpty(): Promise<boolean>;
  /** Where the agent logs. */
  logPath: string;
  /** Stops the agent and the runtime, removes mounts, cgroups, bridges, IPAM state and the work dir. Idempotent. */
  teardown(): Promise<void>;
}

/** The conflist every CNI setup uses (the runtime adds loopback on `lo` itself, as libcni users do). */
export function conflist(n: CniNetwork): string {
  return JSON.stringify(
    {
      cniVersion: '1.0.0',
      name: n.name,
      plugins: [
        {
          type: 'bridge',
          bridge: n.bridge,
          isGateway: true,
          isDefaultGateway: false,
          ipMasq: false,
          hairpinMode: true,
          ipam: { type: 'host-local', ranges: [[{ subnet: n.subnet }]], dataDir: n.ipamDir, routes: [] },
        },
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    },
    null,
    2,
  );
}

/** Writes the conflist into `dir` by rename (containerd watches the directory and must never read half a file). */
function writeConflist(dir: string, n: CniNetwork): void {
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, '..', `.${n.name}.conflist.new`);
  writeFileSync(tmp, conflist(n));
  // 00-: ahead of the 10-nlctr.conflist scripts/ensure-containerd.sh writes (the CRI plugin loads the first one).
  renameSync(tmp, join(dir, `00-${n.name}.conflist`));
}

/** The networks containerd's CRI plugin has loaded (Status verbose `cniconfig`), e.g. `['cni-loopback', 'cb-cni']`. */
async function loadedNetworks(socketPath: string): Promise<string[]> {
  const c = new CriClient({ socketPath });
  try {
    const res = await c.runtime('Status', { verbose: true }, { op: 'query status of', object: 'container runtime' });
    const cfg = JSON.parse(res.info['cniconfig'] ?? '{}') as { Networks?: { Config?: { Name?: string } }[] };
    return (cfg.Networks ?? []).map((n) => n.Config?.Name ?? '');
  } finally {
    c.close();
  }
}

/**
 * Puts our conflist into containerd's CNI conf dir and waits until the CRI plugin has loaded it. containerd 1.6
 * reloads on the directory's write events but not on a file renamed into it, so the file is rewritten in place until
 * the plugin reports the network (a half-written read fails to parse, keeps the old config, and the next write fixes it).
 */
async function loadConflist(socketPath: string, dir: string, n: CniNetwork): Promise<void> {
  writeConflist(dir, n);
  const file = join(dir, `00-${n.name}.conflist`);
  for (let i = 0; i < 30; i++) {
    if ((await loadedNetworks(socketPath)).includes(n.name)) return;
    writeFileSync(file, conflist(n));
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`containerd at ${socketPath} did not load CNI network ${n.name} from ${dir} in 30 s`);
}

type Undo = { what: string; fn: () => Promise<void> | void }[];

async function runUndo(undo: Undo): Promise<void> {
  for (let u = undo.pop(); u !== undefined; u = undo.pop()) {
    try {
      await u.fn();
    } catch (err) {
      console.error(`teardown (${u.what}) failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}

/** Starts a setup under `work`; on failure everything started so far is torn down before the error is thrown. */
export async function startAgent(target: Target, node: string, work: string, env: AgentEnv): Promise<StartedAgent> {
  const undo: Undo = [];
  let done: Promise<void> | undefined;
  const teardown = (): Promise<void> => (done ??= runUndo(undo));
  mkdirSync(work, { recursive: true });
  undo.push({ what: 'work dir', fn: () => void (unmountUnder(work), spawnSync('rm', ['-rf', '--one-file-system', work])) });
  undo.push({ what: 'IPAM dir', fn: () => rmSync(env.cni.ipamDir, { recursive: true, force: true }) });
  try {
    const started = target.startsWith('kubelet') || target === 'nodelet-containerd' ? await onContainerd(target, node, work, env, undo) : await onDocker(target, node, work, env, undo);
    return { ...started, teardown };
  } catch (err) {
    await teardown();
    throw err;
  }
}

type Started = Omit<StartedAgent, 'teardown'>;

async function onContainerd(target: Target, node: string, work: string, env: AgentEnv, undo: Undo): Promise<Started> {
  // ensure-containerd's own conflist gets a subnet no pod should get: a pod IP from it would show ours was not loaded.
  const ctrd = await startPrivateContainerd({ bridge: env.cni.bridge, subnet: env.unusedSubnet });
  undo.push({ what: 'containerd', fn: () => stopContainerd(ctrd.socketPath, ctrd.stop, env.cni.name) });
  await loadConflist(ctrd.socketPath, join(ctrd.dir, 'cni', 'net.d'), env.cni);
  const runtimePid = (): number => Number(readFileSync(join(ctrd.dir, 'containerd.pid'), 'utf8').trim());
  const runtimeEmpty = async (): Promise<boolean> => (await readySandboxes(ctrd.socketPath)) === 0;
  const endpoint = `unix://${ctrd.socketPath}`;
  if (target === 'kubelet-containerd') {
    const k = await startKubelet(node, work, endpoint, env, undo);
    return { target, node, agentPid: k.pid, logPath: k.log, runtimePid, runtimeEmpty };
  }
  const n = await startNodelet(node, work, [`--container-runtime-endpoint=${endpoint}`], env, undo, target);
  return { target, node, agentPid: n.pid, logPath: n.logPath, runtimePid, runtimeEmpty };
}

async function onDocker(target: Target, node: string, work: string, env: AgentEnv, undo: Undo): Promise<Started> {
  const dir = join(work, 'dockerd');
  mkdirSync(dir, { recursive: true });
  const engine = new PrivateDockerd(dir, env.dockerBridge);
  undo.push({
    what: 'dockerd',
    fn: async () => {
      if (engine.answers()) {
        const ids = engine.docker(['ps', '-aq']).split('\n').filter((s) => s !== '');
        if (ids.length > 0) engine.docker(['rm', '-f', ...ids]);
      }
      await engine.destroy();
      spawnSync('ip', ['link', 'del', env.cni.bridge], { stdio: 'ignore' });
    },
  });
  engine.setupBridge(env.dockerBridgeAddr);
  await engine.start();
  engine.loadImages();
  const flags = [`--container-runtime-endpoint=unix://${engine.socket}`];
  if (target === 'nodelet-docker-cni') {
    const confDir = join(work, 'net.d');
    writeConflist(confDir, env.cni);
    flags.push('--network-plugin=cni', `--cni-conf-dir=${confDir}`, '--cni-bin-dir=/usr/lib/cni', `--cni-cache-dir=${join(work, 'cni-cache')}`);
  } else {
    flags.push('--network-plugin=docker');
  }
  const n = await startNodelet(node, work, flags, env, undo, target);
  return {
    target,
    node,
    agentPid: n.pid,
    logPath: n.logPath,
    runtimePid: () => Number(readFileSync(join(dir, 'docker.pid'), 'utf8').trim()),
    runtimeEmpty: () => Promise.resolve(engine.docker(['ps', '-q']) === ''),
  };
}

async function startNodelet(node: string, work: string, flags: string[], env: AgentEnv, undo: Undo, target: Target): Promise<{ pid: number; logPath: string }> {
  const cgroup = `${env.prefix}-bench-nodelet`;
  const n = runNodelet(
    [
      `--kubeconfig=${await env.nodeKubeconfig(node)}`,
      '--roles=kubelet',
      `--hostname-override=${node}`,
      `--node-ip=${env.nodeIP}`,
      `--root-dir=${join(work, 'nodelet-root')}`,
      `--port=${env.port}`,
      `--healthz-port=${env.port + 1}`,
      `--client-ca-file=${env.clientCAFile}`,
      '--fail-swap-on=false',
      `--cgroup-root=/${cgroup}`,
      '--image-gc-high-threshold=100',
      '--eviction-hard=memory.available<100Mi',
      ...flags,
      ...env.nodeletFlags,
    ],
    { name: `${env.prefix}-bench-${target}` },
  );
  undo.push({
    what: 'nodelet',
    fn: async () => {
      await n.stop();
      unmountUnder(join(work, 'nodelet-root'));
      removeCgroupTree(cgroup);
    },
  });
  return n;
}

async function startKubelet(node: string, work: string, endpoint: string, env: AgentEnv, undo: Undo): Promise<{ pid: number; log: string }> {
  const bin = join(env.kubeletBin, 'kubelet');
  if (!existsSync(bin)) {
    const r = spawnSync('bash', [join(process.cwd(), '..', 'shared', 'k8s', 'extract.sh'), 'kubelet'], { env: { ...process.env, K8S_BIN_DIR: env.kubeletBin }, stdio: 'inherit' });
    if (r.status !== 0) throw new Error('cannot extract the upstream kubelet');
  }
  const cgroup = `${env.prefix}-bench-kubelet`;
  const { config, root } = writeIsolatedKubeletConfig({ work, port: env.port, healthzPort: env.port + 1, readOnlyPort: 0, cgroupRoot: cgroup, clientCAFile: env.clientCAFile });
  const log = join(work, 'kubelet.log');
  const args = [`--kubeconfig=${await env.nodeKubeconfig(node)}`, `--config=${config}`, `--hostname-override=${node}`, `--node-ip=${env.nodeIP}`, `--root-dir=${root}`, `--container-runtime-endpoint=${endpoint}`, '-v=1'];
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const out = createWriteStream(log);
  child.stdout.pipe(out);
  child.stderr.pipe(out);
  undo.push({
    what: 'kubelet',
    fn: async () => {
      await stopChild(child);
      unmountUnder(root); // the kubelet makes its root dir a mount and mounts pod volumes below it
      removeCgroupTree(cgroup);
    },
  });
  if (child.pid === undefined) throw new Error(`cannot start ${bin}`);
  return { pid: child.pid, log };
}

/** Removes every sandbox (CNI DEL by containerd), stops containerd, then drops libcni cache records of its sandboxes. */
async function stopContainerd(socketPath: string, stop: () => Promise<void>, network: string): Promise<void> {
  const ids = await removeSandboxes(socketPath);
  await stop();
  // containerd's libcni caches results in the global /var/lib/cni; records of a completed DEL are gone already.
  for (const id of ids) {
    rmSync(`/var/lib/cni/results/cni-loopback-${id}-lo`, { force: true });
    rmSync(`/var/lib/cni/results/${network}-${id}-eth0`, { force: true });
  }
}
