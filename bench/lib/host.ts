/**
 * Host helpers of the benchmarks that run agents themselves (bench/kubelet-exec-vs-upstream.ts,
 * bench/hollow-nodes.ts): the node address, cgroup roots for an upstream kubelet, and mount cleanup.
 */
import { listChains, removeLeftoverChains } from './chains.js';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster, type Cluster } from '../../test/e2e/harness/index.js';
import type { CleanupStack } from './cleanup.js';

/** The host address the API server reaches the nodes on (docker0, as scripts/conformance.sh; the kubelet refuses loopback). */
export function nodeIP(): string {
  const r = spawnSync('sh', ['-c', "ip -4 -o addr show docker0 | awk '{print $4}' | cut -d/ -f1 | head -1"], { encoding: 'utf8' });
  const ip = r.stdout.trim();
  if (ip === '') throw new Error('no IPv4 address on docker0 for --node-ip');
  return ip;
}

const v1Hierarchies = (): string[] => readdirSync('/sys/fs/cgroup').filter((h) => existsSync(join('/sys/fs/cgroup', h, 'cgroup.procs')));

/** Creates cgroup `name` in every hierarchy (the kubelet insists its cgroupRoot exists), cpuset initialised. */
export function createCgroupRoot(name: string): void {
  for (const h of v1Hierarchies()) mkdirSync(join('/sys/fs/cgroup', h, name), { recursive: true });
  const cpuset = '/sys/fs/cgroup/cpuset';
  if (existsSync(join(cpuset, 'cpuset.cpus'))) {
    for (const f of ['cpuset.cpus', 'cpuset.mems']) writeFileSync(join(cpuset, name, f), readFileSync(join(cpuset, f)));
  }
}

/** Removes cgroup `name` and everything below it in every hierarchy (deepest first; processes must be gone). */
export function removeCgroupTree(name: string): void {
  for (const h of readdirSync('/sys/fs/cgroup')) {
    const path = join('/sys/fs/cgroup', h, name);
    if (existsSync(path)) spawnSync('find', [path, '-depth', '-type', 'd', '-exec', 'rmdir', '{}', ';'], { stdio: 'ignore' });
  }
}

/** Unmounts everything mounted at or below `dir`, deepest first. */
export function unmountUnder(dir: string): void {
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m === dir || m.startsWith(`${dir}/`))
    .sort()
    .reverse();
  for (const m of mounts) spawnSync('umount', ['-l', m], { stdio: 'ignore' });
}

/** Ports and places of an upstream kubelet kept away from other agents on this machine. */
export interface IsolatedKubeletOptions {
  /** Directory for its root dir, pod logs and config file. */
  work: string;
  port: number;
  healthzPort: number;
  /** 0 = off. */
  readOnlyPort: number;
  /** Listen address of the kubelet API (default: all). */
  address?: string;
  /** Its cgroupRoot (created here; remove it with {@link removeCgroupTree}). */
  cgroupRoot: string;
  /** Client CA of the API server's kubelet client certificate. */
  clientCAFile: string;
  /** containerLogMaxSize (e.g. `500Mi`; default upstream's 10Mi): a large log is rotated away above it. */
  containerLogMaxSize?: string;
}

/**
 * Writes the KubeletConfiguration of an upstream kubelet that touches nothing of other agents: its own cgroupRoot and
 * podLogsDir (never /var/log/pods: the kubelet removes pod log dirs it does not know), no image GC, x509 + webhook
 * authentication as a kubeadm node. Returns the config file and the root dir to pass as flags.
 */
export function writeIsolatedKubeletConfig(o: IsolatedKubeletOptions): { config: string; root: string } {
  const root = join(o.work, 'kubelet-root');
  const logs = join(o.work, 'kubelet-pod-logs');
  mkdirSync(root, { recursive: true });
  mkdirSync(logs, { recursive: true });
  createCgroupRoot(o.cgroupRoot);
  const config = join(o.work, 'kubelet-config.yaml');
  writeFileSync(
    config,
    `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
port: ${o.port}
healthzPort: ${o.healthzPort}
readOnlyPort: ${o.readOnlyPort}
${o.address === undefined ? '' : `address: ${o.address}\n`}failSwapOn: false
cgroupDriver: cgroupfs
cgroupRoot: /${o.cgroupRoot}
podLogsDir: ${logs}
imageGCHighThresholdPercent: 100
evictionHard: {memory.available: 100Mi}
${o.containerLogMaxSize === undefined ? '' : `containerLogMaxSize: ${o.containerLogMaxSize}\n`}authentication: {anonymous: {enabled: false}, webhook: {enabled: true}, x509: {clientCAFile: ${o.clientCAFile}}}
authorization: {mode: Webhook}
`,
  );
  return { config, root };
}

/** What a benchmark against the real control plane starts from (see {@link realClusterBench}). */
export interface RealClusterBench {
  cluster: Cluster;
  /** The CA of the API server's kubelet client certificate (the agents' --client-ca-file). */
  caFile: string;
  /** This machine's address for the agents' --node-ip. */
  ip: string;
  /** A work directory, unmounted and removed by the cleanup stack. */
  work: string;
}

/**
 * The common start of the benchmarks that run agents against the real control plane: kubectl of `binDir` first on
 * PATH, the harness pointed at `kubeconfig`, the cluster (refused when it is not the real one), the client CA, the
 * node address and a work directory `<tmp>/<name>-<pid>` registered for removal; host iptables chains the run's agents
 * create are removed at the end.
 */
export async function realClusterBench(o: { binDir: string; kubeconfig: string; name: string; stack: Pick<CleanupStack, 'onCleanup'> }): Promise<RealClusterBench> {
  process.env.PATH = `${o.binDir}:${process.env.PATH ?? ''}`;
  process.env.NODELET_E2E_KUBECONFIG = o.kubeconfig;
  // The upstream kubelet leaves KUBE-FIREWALL/-KUBELET-CANARY/-IPTABLES-HINT in the host's tables (and portmap CNI-*
  // chains): removed at the very end (registered first), those that appeared during the run only.
  const chainsBefore = listChains(/^(KUBE|CNI)-/);
  o.stack.onCleanup('iptables chains', () => void removeLeftoverChains(chainsBefore));
  const cluster = await startCluster();
  if (!cluster.external) throw new Error('needs the real API server (--kubeconfig)');
  const caFile = await cluster.kubeletClientCaFile();
  const work = join(tmpdir(), `${o.name}-${process.pid}`);
  mkdirSync(work, { recursive: true });
  o.stack.onCleanup('work dir', () => {
    unmountUnder(work);
    spawnSync('rm', ['-rf', '--one-file-system', work]);
  });
  return { cluster, caFile, ip: nodeIP(), work };
}
