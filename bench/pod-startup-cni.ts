/**
 * Pod startup with CNI against the upstream kubelet (issue 15), in one run on one machine, through the REAL API
 * server (../shared/k8s, v1.33.3). Four setups run one after another, each from nothing and torn down completely:
 *  (a) the upstream kubelet v1.33.3 on a private containerd whose CRI plugin runs CNI,
 *  (b) nodelet on the same kind of containerd with the same conflist,
 *  (c) nodelet on a private dockerd with `--network-plugin=cni` and the same conflist,
 *  (d) nodelet on a private dockerd in Docker bridge mode (`--network-plugin=docker`).
 * The conflist is bridge (own bridge, own subnet, no masquerade, no default route in pods) + host-local (own dataDir)
 * + portmap; loopback is attached by the runtime on `lo` (containerd's CRI plugin and nodelet's CNI network both do).
 *
 * Per setup: the node is Ready, one warm-up pod (not counted), then N pods created at a fixed rate (one every
 * --interval-ms, without waiting for earlier ones), pinned by `spec.nodeName`, one container (testbox `sleep`),
 * imagePullPolicy IfNotPresent. Startup = create call → first WATCH event with Ready=True (and phase Running).
 * Pod IPs are checked against the setup's range. Then one delete-collection; the time until the API has no pod left.
 *
 * Usage: tsx bench/pod-startup-cni.ts [--kubeconfig=/tmp/k8s-real/admin.kubeconfig] [--pods=30] [--interval-ms=1000]
 *        [--rounds=1] [--targets=kubelet-containerd,nodelet-containerd,nodelet-docker-cni,nodelet-docker-bridge]
 *        [--nodes=cb-a,cb-b,cb-c] [--prefix=cb] [--port=16250] [--net=10.216] [--nodelet-v=4] [--no-doc]
 * --rounds=R runs the setups R times, odd rounds in order and even rounds reversed (a b c d d c b a …), and pools
 * each setup's samples.
 * Needs root, containerd, dockerd, the CNI plugins in /usr/lib/cni and the local images (scripts/images/build.sh);
 * node identities node-<name>.kubeconfig beside the admin kubeconfig (up.sh K8S_NODES). The nodelet bundle is
 * $NODELET_ENTRY or dist/nodelet.mjs. Writes the `network:pod-startup-cni` block of docs/benchmarks.md
 * (`network:pod-startup-cni-n<N>` for --pods=N other than 30).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ApiClient, loadKubeConfig } from '../src/api/index.js';
import { startCluster, waitFor, type Cluster } from '../test/e2e/harness/index.js';
import { listChains, removeLeftoverChains } from './lib/chains.js';
import { cleanupStack, runBench } from './lib/cleanup.js';
import { writeSubsection } from './lib/docs.js';
import { nodeIP } from './lib/host.js';
import { loadText, machineFacts, machineLine } from './lib/machine.js';
import { PodWatch } from './lib/pod-watch.js';
import { clockTicks, machineJiffies } from './lib/proc.js';
import { startAgent, TARGETS, type AgentEnv, type StartedAgent, type Target } from './lib/startup-agents.js';
import { inCidr, report, type PhaseResult } from './lib/startup-cni-report.js';

const arg = (name: string): string | undefined => process.argv.slice(2).find((a) => a.startsWith(`--${name}=`))?.split('=').slice(1).join('=');
const KUBECONFIG = arg('kubeconfig') ?? process.env.NODELET_E2E_KUBECONFIG ?? '/tmp/k8s-real/admin.kubeconfig';
const BIN = process.env.K8S_BIN_DIR ?? join(dirname(KUBECONFIG), 'bin');
const PODS = Number(arg('pods') ?? 30);
const INTERVAL_MS = Number(arg('interval-ms') ?? 1000);
const ROUNDS = Number(arg('rounds') ?? 1);
const ORDER = (arg('targets') ?? TARGETS.join(',')).split(',') as Target[];
const NODES = (arg('nodes') ?? 'cb-a,cb-b,cb-c').split(',');
const PREFIX = arg('prefix') ?? 'cb';
const PORT = Number(arg('port') ?? 16250);
const NET = arg('net') ?? '10.216'; // the first two octets of a /16 of one's own
const NODELET_V = arg('nodelet-v'); // a diagnostic run's log verbosity for nodelet (not for measurements: it costs CPU)
const WRITE_DOC = !process.argv.includes('--no-doc');
const NS = `${PREFIX}-bench-startup-cni`;
const LABEL = 'bench.nodelet.io/target';
const IMAGE = 'localhost/nodelet/testbox:1.0';
const CNI_SUBNET = `${NET}.1.0/24`;
const BRIDGE_SUBNET = `${NET}.4.0/24`;
/** Which node each setup runs as (the two Docker setups share one, the Node object is deleted between setups). */
const NODE_OF: Record<Target, string> = {
  'kubelet-containerd': NODES[0] ?? 'cb-a',
  'nodelet-containerd': NODES[1] ?? 'cb-b',
  'nodelet-docker-cni': NODES[2] ?? 'cb-c',
  'nodelet-docker-bridge': NODES[2] ?? 'cb-c',
};

const { onCleanup, forget, cleanup } = cleanupStack();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function checkArgs(): void {
  if (!(PODS >= 1) || !(INTERVAL_MS >= 0) || !(ROUNDS >= 1)) throw new Error('--pods and --rounds must be ≥ 1, --interval-ms ≥ 0');
  const bad = ORDER.filter((t) => !(TARGETS as readonly string[]).includes(t));
  if (bad.length > 0) throw new Error(`unknown --targets ${bad.join(',')} (known: ${TARGETS.join(', ')})`);
}

/** utime+stime of `pid` and of its reaped children (plugins run by the agent or runtime), in seconds; NaN when gone. */
function cpuWithChildren(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
    return ((f[11] ?? 0) + (f[12] ?? 0) + (f[13] ?? 0) + (f[14] ?? 0)) / clockTicks();
  } catch {
    return Number.NaN;
  }
}

function podManifest(name: string, node: string, target: Target): unknown {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS, labels: { [LABEL]: target } },
    spec: {
      nodeName: node,
      terminationGracePeriodSeconds: 2,
      containers: [{ name: 'app', image: IMAGE, imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', "trap 'exit 0' TERM; sleep 3600 & wait"] }],
    },
  };
}

interface PodList {
  items: { metadata: { name: string }; status?: { podIP?: string } }[];
}

async function createPod(api: ApiClient, watch: PodWatch, name: string, node: string, target: Target): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const t = watch.track(name);
    try {
      await api.request({ method: 'POST', path: `/api/v1/namespaces/${NS}/pods`, body: podManifest(name, node, target) });
      t.createReturned = performance.now();
      return;
    } catch (err) {
      if (attempt >= 3) throw err;
      console.error(`create ${name} (attempt ${attempt}): ${(err as Error).message}; retrying`);
      await sleep(200);
    }
  }
}

async function nodeReady(cluster: Cluster, node: string): Promise<void> {
  await waitFor(
    async () => (await cluster.kubectl(['get', 'node', node, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'])).stdout === 'True',
    { timeoutMs: 180_000, intervalMs: 500, description: `node ${node} Ready` },
  );
}

/** Deletes the setup's pods (one delete-collection) and returns the ms until the API lists none of them. */
async function deletePods(api: ApiClient, target: Target): Promise<number> {
  const path = `/api/v1/namespaces/${NS}/pods`;
  const query = { labelSelector: `${LABEL}=${target}` };
  const t0 = performance.now();
  await api.request({ method: 'DELETE', path, query });
  const deadline = t0 + 180_000;
  while (performance.now() < deadline) {
    if ((await api.request<PodList>({ path, query })).items.length === 0) return performance.now() - t0;
    await sleep(250);
  }
  console.error(`${target}: pods still listed after 180 s; force-deleting`);
  await api.request({ method: 'DELETE', path, query: { ...query, gracePeriodSeconds: 0 } });
  return Number.NaN;
}

/** host-local allocations left in the IPAM dir after teardown (one file per IP). */
function leakedIps(ipamDir: string, network: string): number {
  try {
    return readdirSync(join(ipamDir, network)).filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f)).length;
  } catch {
    return 0;
  }
}

/** Runs one setup: start, warm-up pod, N pods at a fixed rate, IP check, delete, teardown. */
async function phase(cluster: Cluster, api: ApiClient, watch: PodWatch, env: AgentEnv, target: Target, round: number, work: string): Promise<PhaseResult> {
  const node = NODE_OF[target];
  const loadStart = loadText();
  console.log(`== round ${round}: ${target} on node ${node} (load ${loadStart})`);
  await cluster.kubectl(['delete', 'node', node, '--wait=true', '--timeout=60s']);
  const agent: StartedAgent = await startAgent(target, node, join(work, `${target}-r${round}`), env);
  const step = `setup ${target} r${round}`;
  onCleanup(step, () => agent.teardown());
  try {
    await nodeReady(cluster, node);
    const tag = `${target.split('-').map((w) => w[0]).join('')}${round}`; // e.g. kc1
    await createPod(api, watch, `${tag}-warmup`, node, target);
    await watch.waitReady(`${tag}-warmup`, 180_000);
    const names = Array.from({ length: PODS }, (_, i) => `${tag}-${String(i).padStart(3, '0')}`);
    const cpu0 = { agent: cpuWithChildren(agent.agentPid), runtime: cpuWithChildren(agent.runtimePid()) };
    const j0 = machineJiffies();
    const t0 = performance.now();
    await Promise.all(
      names.map(async (name, i) => {
        await sleep(Math.max(0, t0 + i * INTERVAL_MS - performance.now()));
        await createPod(api, watch, name, node, target);
      }),
    );
    await Promise.all(names.map((n) => watch.waitReady(n, 300_000)));
    const window = (performance.now() - t0) / 1000;
    const cpu = { agent: cpuWithChildren(agent.agentPid) - cpu0.agent, runtime: cpuWithChildren(agent.runtimePid()) - cpu0.runtime };
    const j1 = machineJiffies();
    const loadEnd = loadText();
    const list = await api.request<PodList>({ path: `/api/v1/namespaces/${NS}/pods`, query: { labelSelector: `${LABEL}=${target}` } });
    const ips = list.items.filter((p) => names.includes(p.metadata.name)).map((p) => p.status?.podIP ?? '');
    const range = target === 'nodelet-docker-bridge' ? BRIDGE_SUBNET : CNI_SUBNET;
    const outside = ips.filter((ip) => !inCidr(ip, range));
    if (outside.length > 0) throw new Error(`${target}: pod IPs outside ${range}: ${outside.join(', ')}`);
    const times = names.map((n) => watch.times().get(n));
    const deleteMs = await deletePods(api, target);
    await waitFor(() => agent.runtimeEmpty(), { timeoutMs: 60_000, intervalMs: 500, description: `${target}: no sandbox left` }).catch(() => console.error(`${target}: sandboxes left after 60 s`));
    const leaked = target === 'nodelet-docker-bridge' ? 0 : leakedIps(env.cni.ipamDir, env.cni.name);
    const result: PhaseResult = {
      target,
      round,
      node,
      ready: times.map((t) => (t?.ready ?? Number.NaN) - (t?.created ?? Number.NaN)),
      running: times.map((t) => (t?.running ?? Number.NaN) - (t?.created ?? Number.NaN)),
      ips,
      range,
      distinctIps: new Set(ips).size,
      window,
      agentCpu: cpu.agent,
      runtimeCpu: cpu.runtime,
      deleteMs,
      leakedIps: leaked,
      loadStart,
      loadEnd,
      machineBusy: (j1.busy - j0.busy) / Math.max(1, j1.total - j0.total),
    };
    console.log(`${target} r${round}: ready ${result.ready.map((v) => v.toFixed(0)).join(' ')}; IPs ${ips[0] ?? ''}…${ips.at(-1) ?? ''} in ${range}; delete ${deleteMs.toFixed(0)} ms; leaked IPs ${leaked}`);
    return result;
  } catch (err) {
    console.error(`${target} failed; agent log ${agent.logPath}`);
    throw err;
  } finally {
    await agent.teardown();
    forget(step);
    await cluster.kubectl(['delete', 'node', node, '--wait=false']);
  }
}

async function main(): Promise<void> {
  checkArgs();
  process.env.PATH = `${BIN}:${process.env.PATH ?? ''}`;
  process.env.NODELET_E2E_KUBECONFIG = KUBECONFIG;
  const work = `/tmp/${PREFIX}-bench-startup-cni-${process.pid}`;
  mkdirSync(work, { recursive: true });
  process.env.TMPDIR = work; // the private containerds' directories (startPrivateContainerd uses os.tmpdir())
  onCleanup('work dir', () => void spawnSync('rm', ['-rf', '--one-file-system', work]));
  const chainsBefore = listChains(/^(KUBE|CNI)-/);
  onCleanup('iptables chains', () => void removeLeftoverChains(chainsBefore));
  const facts = machineFacts();
  console.log(machineLine(facts));
  const cluster = await startCluster();
  if (!cluster.external) throw new Error('needs the real API server (--kubeconfig)');
  const env: AgentEnv = {
    nodeKubeconfig: (n) => cluster.nodeKubeconfig(n),
    clientCAFile: await cluster.kubeletClientCaFile(),
    nodeIP: nodeIP(),
    kubeletBin: BIN,
    prefix: PREFIX,
    port: PORT,
    cni: { name: `${PREFIX}-cni`, bridge: `${PREFIX}-cni0`, subnet: CNI_SUBNET, ipamDir: join(work, 'ipam') },
    dockerBridge: `${PREFIX}-dbr0`,
    dockerBridgeAddr: `${NET}.4.1/24`,
    unusedSubnet: `${NET}.250.0/28`,
    nodeletFlags: NODELET_V === undefined ? [] : [`--v=${NODELET_V}`],
  };
  onCleanup('namespace and nodes', async () => {
    await cluster.kubectl(['-n', NS, 'delete', 'pods', '--all', '--grace-period=0', '--force', '--wait=false']);
    await cluster.kubectl(['delete', 'namespace', NS, '--wait=false']);
    await cluster.kubectl(['delete', 'node', ...new Set(Object.values(NODE_OF)), '--wait=false']);
  });
  await cluster.freshNamespace(NS);
  const api = new ApiClient(loadKubeConfig(KUBECONFIG));
  onCleanup('api client', () => api.close());
  const watch = new PodWatch(KUBECONFIG, NS);
  await watch.start();
  onCleanup('pod watch', () => watch.stop());
  const results: PhaseResult[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    // Odd rounds run the setups in order, even rounds in reverse (a b c d d c b a …): a load trend hits all alike.
    const order = round % 2 === 1 ? ORDER : [...ORDER].reverse();
    for (const target of order) results.push(await phase(cluster, api, watch, env, target, round, work));
  }
  const body = report({ machine: machineLine(facts), loadEnd: loadText(), pods: PODS, intervalMs: INTERVAL_MS, rounds: ROUNDS, order: ORDER, image: IMAGE, cni: env.cni, bridgeSubnet: BRIDGE_SUBNET, results });
  console.log(`\n${body}\n`);
  // One block per pod count: the default run and a larger one stay side by side.
  const block = PODS === 30 ? 'network:pod-startup-cni' : `network:pod-startup-cni-n${PODS}`;
  if (WRITE_DOC) writeSubsection('network', '## Pod network (issue 15)', block, body);
}

await runBench(main, { cleanup });
