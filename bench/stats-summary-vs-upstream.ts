/**
 * `/stats/summary` and `/metrics/resource` at 100 pods against the upstream kubelet (issue 13), in one run on one
 * machine, through the REAL API server (../shared/k8s, v1.33.3): metrics-server calls one of them on every node every
 * 15 s. Node A runs nodelet on a private containerd, node B the upstream kubelet v1.33.3 on its own private containerd
 * (same version and config, cgroupfs); both run PODS pods (pause sandbox + one `sleep` container of
 * localhost/nodelet/testbox:1.0, small requests) side by side. Then, per agent and path, CALLS GETs straight to the
 * agent's port with the API server's kubelet client certificate (one kept-alive TLS connection, as a Go client):
 * latency p50/p99, response size, and CPU per call of the agent and of its runtime (containerd + its shims: the
 * kubelet gets container stats from containerd's ListContainerStats, which asks every shim), each minus its idle rate
 * measured just before. Bodies are validated (bench/lib/stats-validate.ts). The blocks alternate agent by agent.
 *
 * With `--before=<bundle>` nodelet first runs that bundle (e.g. the build before a change), is measured, then restarted
 * on the same root dir and containerd with $NODELET_ENTRY (its pods kept) and measured again; the kubelet is measured
 * in both phases, so each nodelet has a kubelet measured beside it.
 *
 * Everything is started here and removed in `finally` and on SIGINT/SIGTERM (bench/lib/cleanup.ts).
 *
 * Usage: tsx bench/stats-summary-vs-upstream.ts [--kubeconfig=/tmp/k8s-hs/admin.kubeconfig] [--pods=100] [--calls=100]
 *        [--spacing-ms=100] [--idle-s=15] [--nodes=hs-a,hs-b] [--prefix=hs] [--port-base=24000]
 *        [--subnets=10.231.9,10.231.10] [--before=/tmp/hs/before/nodelet.mjs] [--hold-s=0] [--no-doc]
 * `--hold-s` waits that long once the pods run, before measuring (to profile the agents against the live pods).
 * Ports: port-base +0/+1 nodelet (API, healthz), +2/+3 the kubelet.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, createWriteStream, existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { writeSubsection } from './lib/docs.js';
import { loadText, machineFacts, machineLine } from './lib/machine.js';
import { cpuSeconds, machineJiffies, statusMB, stopChild } from './lib/proc.js';
import { removeSandboxes } from './lib/cri-sandboxes.js';
import { summarize, type Summary } from './lib/stats.js';
import { startPrivateContainerd, type PrivateContainerd } from '../src/cri/containerd/testing.js';
import { runNodelet, waitFor, type Cluster, type NodeletProcess } from '../test/e2e/harness/index.js';
import { realClusterBench, removeCgroupTree, unmountUnder, writeIsolatedKubeletConfig } from './lib/host.js';
import { cleanupStack, runBench } from './lib/cleanup.js';
import { readKubeletClientCert } from './lib/direct-exec.js';
import { directGetClient, type DirectGetClient } from './lib/direct-get.js';
import { checkResourceMetrics, checkSummary } from './lib/stats-validate.js';

const arg = (name: string): string | undefined => process.argv.slice(2).find((a) => a.startsWith(`--${name}=`))?.split('=').slice(1).join('=');
const KUBECONFIG = arg('kubeconfig') ?? process.env.NODELET_E2E_KUBECONFIG ?? '/tmp/k8s-hs/admin.kubeconfig';
const BIN = process.env.K8S_BIN_DIR ?? join(dirname(KUBECONFIG), 'bin');
const PODS = Number(arg('pods') ?? 100);
const CALLS = Number(arg('calls') ?? 100);
const SPACING_MS = Number(arg('spacing-ms') ?? 100);
const IDLE_S = Number(arg('idle-s') ?? 15);
const [NODE_A = 'hs-a', NODE_B = 'hs-b'] = (arg('nodes') ?? 'hs-a,hs-b').split(',');
const PREFIX = arg('prefix') ?? 'hs';
const PORT = Number(arg('port-base') ?? 24000);
const [NET_A = '10.231.9', NET_B = '10.231.10'] = (arg('subnets') ?? '10.231.9,10.231.10').split(',');
const BEFORE = arg('before');
const HOLD_S = Number(arg('hold-s') ?? 0);
const WRITE_DOC = !process.argv.includes('--no-doc');
const NS = `${PREFIX}-bench-stats`;
const IMAGE = 'localhost/nodelet/testbox:1.0';
const CG_NODELET = `${PREFIX}-bench-nodelet`;
const CG_KUBELET = `${PREFIX}-bench-kubelet`;
const PATHS = ['/stats/summary', '/metrics/resource'] as const;
type StatsPath = (typeof PATHS)[number];

const { onCleanup, forget, cleanup } = cleanupStack();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const readPid = (path: string): number => Number(readFileSync(path, 'utf8').trim());

// ---------------------------------------------------------------------------------------------------------------
// pods

function podList(node: string, prefix: string): string {
  const items = Array.from({ length: PODS }, (_, i) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `${prefix}-${String(i).padStart(3, '0')}`, namespace: NS },
    spec: {
      nodeName: node,
      terminationGracePeriodSeconds: 1,
      containers: [{ name: 'main', image: IMAGE, command: ['sleep', '100000000'], resources: { requests: { cpu: '5m', memory: '8Mi' } } }],
    },
  }));
  return JSON.stringify({ apiVersion: 'v1', kind: 'List', items });
}

interface PodJson {
  spec?: { nodeName?: string };
  status?: { conditions?: { type: string; status: string }[] };
}

/** Ready pods of NS per node. */
async function readyPerNode(cluster: Cluster): Promise<Map<string, number>> {
  const r = await cluster.kubectl(['-n', NS, 'get', 'pods', '-o', 'json']);
  const out = new Map<string, number>();
  if (r.code !== 0) return out;
  for (const p of (JSON.parse(r.stdout) as { items: PodJson[] }).items) {
    if (p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') !== true) continue;
    const n = p.spec?.nodeName ?? '';
    out.set(n, (out.get(n) ?? 0) + 1);
  }
  return out;
}

async function allReady(cluster: Cluster, nodes: string[], timeoutMs: number): Promise<void> {
  const t0 = Date.now();
  let last = new Map<string, number>();
  await waitFor(
    async () => {
      last = await readyPerNode(cluster);
      return nodes.every((n) => last.get(n) === PODS);
    },
    { timeoutMs, intervalMs: 3000, description: `${PODS} pods Ready on ${nodes.join(', ')} (${JSON.stringify([...last])})` },
  );
  console.log(`${PODS} pods Ready on ${nodes.join(', ')} after ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}

async function nodeReady(cluster: Cluster, node: string): Promise<void> {
  await waitFor(
    async () => (await cluster.kubectl(['get', 'node', node, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'])).stdout === 'True',
    { timeoutMs: 120_000, intervalMs: 500, description: `node ${node} Ready` },
  );
}

// ---------------------------------------------------------------------------------------------------------------
// agents and runtimes

async function containerd(bridge: string, subnet: string): Promise<PrivateContainerd> {
  const c = await startPrivateContainerd({ bridge, subnet });
  onCleanup(`containerd ${bridge}`, async () => {
    await removeSandboxes(c.socketPath);
    await c.stop();
  });
  return c;
}

/** containerd's PID plus its shims' (found by the socket address on their command line). */
function runtimePids(c: PrivateContainerd): number[] {
  const pids = [readPid(join(c.dir, 'containerd.pid'))];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8');
      if (cmd.startsWith('/') && cmd.includes('containerd-shim') && cmd.includes(c.socketPath)) pids.push(Number(d));
    } catch {
      // gone
    }
  }
  return pids;
}

const cpuOf = (pids: number[]): number =>
  pids.reduce((sum, p) => {
    try {
      return sum + cpuSeconds(p);
    } catch {
      return sum;
    }
  }, 0);

async function startNodelet(cluster: Cluster, ctrd: PrivateContainerd, root: string, caFile: string, ip: string, entry: string | undefined, name: string): Promise<NodeletProcess> {
  const args = [
    `--kubeconfig=${await cluster.nodeKubeconfig(NODE_A)}`,
    '--roles=kubelet',
    `--hostname-override=${NODE_A}`,
    `--node-ip=${ip}`,
    `--root-dir=${root}`,
    `--container-runtime-endpoint=unix://${ctrd.socketPath}`,
    `--port=${PORT}`,
    `--healthz-port=${PORT + 1}`,
    `--client-ca-file=${caFile}`,
    '--fail-swap-on=false',
    `--cgroup-root=/${CG_NODELET}`,
    `--max-pods=${PODS + 20}`,
    '--image-gc-high-threshold=100',
    '--eviction-hard=memory.available<100Mi',
  ];
  const n = runNodelet(args, { name, ...(entry === undefined ? {} : { entry }) });
  onCleanup(name, async () => {
    await n.stop();
  });
  console.log(`${name} pid ${n.pid}, log ${n.logPath}`);
  return n;
}

async function startKubelet(cluster: Cluster, work: string, sock: string, caFile: string, ip: string): Promise<ChildProcess> {
  const kubelet = join(BIN, 'kubelet');
  if (!existsSync(kubelet)) {
    const r = spawnSync('bash', [join(process.cwd(), '..', 'shared', 'k8s', 'extract.sh'), 'kubelet'], { env: { ...process.env, K8S_BIN_DIR: BIN }, stdio: 'inherit' });
    if (r.status !== 0) throw new Error('cannot extract the upstream kubelet');
  }
  const { config, root } = writeIsolatedKubeletConfig({ work, port: PORT + 2, healthzPort: PORT + 3, readOnlyPort: 0, cgroupRoot: CG_KUBELET, clientCAFile: caFile });
  appendFileSync(config, `maxPods: ${PODS + 20}\n`);
  const log = join(work, 'kubelet.log');
  const child = spawn(
    kubelet,
    [`--kubeconfig=${await cluster.nodeKubeconfig(NODE_B)}`, `--config=${config}`, `--hostname-override=${NODE_B}`, `--node-ip=${ip}`, `--root-dir=${root}`, `--container-runtime-endpoint=unix://${sock}`, '-v=1'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const out = createWriteStream(log);
  child.stdout?.pipe(out);
  child.stderr?.pipe(out);
  onCleanup('kubelet', async () => {
    await stopChild(child);
    unmountUnder(root);
  });
  console.log(`upstream kubelet pid ${String(child.pid)}, log ${log}`);
  return child;
}

// ---------------------------------------------------------------------------------------------------------------
// measurements

/** An agent under test. */
interface Target {
  label: string;
  node: string;
  client: DirectGetClient;
  agentPid: () => number;
  runtime: PrivateContainerd;
}

/** One (target, path) block. */
interface Block {
  bytes: number;
  lat: Summary;
  /** CPU-ms per call above the idle rate. */
  agentMs: number;
  runtimeMs: number;
  /** Idle rates just before, CPU-ms per s. */
  idleAgent: number;
  idleRuntime: number;
  podsWithRate: number;
}

/** Idle CPU of an agent and its runtime over `secs` (CPU-ms per s), and the agent's RSS. */
async function idle(t: Target, secs: number): Promise<{ agent: number; runtime: number; rssMB: number }> {
  const rt = runtimePids(t.runtime);
  const a0 = cpuSeconds(t.agentPid());
  const r0 = cpuOf(rt);
  await sleep(secs * 1000);
  return { agent: ((cpuSeconds(t.agentPid()) - a0) * 1000) / secs, runtime: ((cpuOf(rt) - r0) * 1000) / secs, rssMB: statusMB(t.agentPid(), 'VmRSS') };
}

function validate(t: Target, path: StatsPath, body: string): number {
  if (path === '/stats/summary') {
    const c = checkSummary(body, { nodeName: t.node, ns: NS, pods: PODS, container: 'main' });
    if (c.problems.length > 0) throw new Error(`${t.label} ${path}: ${c.problems.join('; ')}`);
    return c.podsWithRate;
  }
  const problems = checkResourceMetrics(body, { ns: NS, pods: PODS });
  if (problems.length > 0) throw new Error(`${t.label} ${path}: ${problems.join('; ')}`);
  return 0;
}

async function block(t: Target, path: StatsPath): Promise<Block> {
  for (let i = 0; i < 5; i++) {
    const r = await t.client.get(path); // warm-up (authn/authz caches, connection)
    if (r.status !== 200) throw new Error(`${t.label} ${path}: HTTP ${r.status} ${r.body.slice(0, 200)}`);
  }
  const i = await idle(t, IDLE_S);
  const rt = runtimePids(t.runtime);
  const lat: number[] = [];
  let bytes = 0;
  let podsWithRate = 0;
  const a0 = cpuSeconds(t.agentPid());
  const r0 = cpuOf(rt);
  const t0 = performance.now();
  let last = '';
  for (let n = 0; n < CALLS; n++) {
    const r = await t.client.get(path);
    if (r.status !== 200) throw new Error(`${t.label} ${path}: HTTP ${r.status} ${r.body.slice(0, 200)}`);
    lat.push(r.ms);
    bytes = Buffer.byteLength(r.body);
    last = r.body;
    await sleep(SPACING_MS);
  }
  const secs = (performance.now() - t0) / 1000;
  const agentMs = ((cpuSeconds(t.agentPid()) - a0) * 1000 - i.agent * secs) / CALLS;
  const runtimeMs = ((cpuOf(rt) - r0) * 1000 - i.runtime * secs) / CALLS;
  podsWithRate = validate(t, path, last);
  const b = { bytes, lat: summarize(lat), agentMs, runtimeMs, idleAgent: i.agent, idleRuntime: i.runtime, podsWithRate };
  console.log(`${t.label} ${path}: ${(bytes / 1024).toFixed(0)} KiB, p50 ${b.lat.p50.toFixed(1)} ms, p99 ${b.lat.p99.toFixed(1)} ms, agent ${agentMs.toFixed(2)} ms/call (idle ${i.agent.toFixed(1)} ms/s), runtime ${runtimeMs.toFixed(2)} ms/call (idle ${i.runtime.toFixed(1)} ms/s)`);
  return b;
}

/** A phase: both targets idle (longer window), then blocks alternating target by target, path by path. */
interface Phase {
  name: string;
  nodelet: Target;
  kubelet: Target;
  idle: { nodelet: Awaited<ReturnType<typeof idle>>; kubelet: Awaited<ReturnType<typeof idle>> };
  blocks: { nodelet: Partial<Record<StatsPath, Block>>; kubelet: Partial<Record<StatsPath, Block>> };
  load: string;
  machineBusy: number;
}

async function phase(name: string, nodelet: Target, kubelet: Target): Promise<Phase> {
  const j0 = machineJiffies();
  // Both agents idle at once (60 s: cAdvisor's housekeeping of 100 pods is spread over 10-15 s).
  const [ni, ki] = await Promise.all([idle(nodelet, 60), idle(kubelet, 60)]);
  const j1 = machineJiffies();
  console.log(`${name} idle: nodelet ${ni.agent.toFixed(1)} ms/s (runtime ${ni.runtime.toFixed(1)}), RSS ${ni.rssMB.toFixed(0)} MB; kubelet ${ki.agent.toFixed(1)} ms/s (runtime ${ki.runtime.toFixed(1)}), RSS ${ki.rssMB.toFixed(0)} MB`);
  const blocks: Phase['blocks'] = { nodelet: {}, kubelet: {} };
  for (const p of PATHS) {
    blocks.nodelet[p] = await block(nodelet, p);
    blocks.kubelet[p] = await block(kubelet, p);
  }
  return { name, nodelet, kubelet, idle: { nodelet: ni, kubelet: ki }, blocks, load: loadText(), machineBusy: (j1.busy - j0.busy) / (j1.total - j0.total) };
}

// ---------------------------------------------------------------------------------------------------------------
// report

const ratio = (a: number, b: number): string => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}×` : 'n/a');
const containerdVersion = (): string => spawnSync('containerd', ['--version'], { encoding: 'utf8' }).stdout.trim().split(' ')[2] ?? '?';

function phaseRows(ph: Phase): string[] {
  const rows: string[] = [];
  for (const p of PATHS) {
    const k = ph.blocks.kubelet[p]!;
    for (const [label, b] of [
      [ph.nodelet.label, ph.blocks.nodelet[p]!],
      [ph.kubelet.label, k],
    ] as const) {
      const vs = b === k ? '—' : `${ratio(b.lat.p50, k.lat.p50)} / ${ratio(b.lat.p99, k.lat.p99)} / ${ratio(b.agentMs + b.runtimeMs, k.agentMs + k.runtimeMs)}`;
      rows.push(
        `| ${label} | \`${p}\` | ${(b.bytes / 1024).toFixed(0)} KiB | ${b.lat.p50.toFixed(1)} ms | ${b.lat.p99.toFixed(1)} ms | ${b.agentMs.toFixed(1)} ms | ${b.runtimeMs.toFixed(1)} ms | ${(b.agentMs + b.runtimeMs).toFixed(1)} ms | ${vs} |`,
      );
    }
  }
  return rows;
}

/** CPU-ms an agent and its runtime spend per 15 s with metrics-server scraping /metrics/resource once in them. */
function per15s(idleAgent: number, idleRuntime: number, b: Block): number {
  return (idleAgent + idleRuntime) * 15 + b.agentMs + b.runtimeMs;
}

/** What the `--before` comparison of this benchmark was made for (src/kubelet/stats, issue 13). */
const CHANGE_NOTE = `Why nodelet's agent cost more per call than the kubelet's (the "before" rows): every request took a new reading of
every cgroup — for 100 pods ~2,700 reads and listings of cgroup, /proc and volume files (7 files per pod, sandbox and container cgroup plus
an existence check each, cpuacct.usage twice, the sandbox's net/dev, the volume directories), 45–65 ms of CPU, two
thirds of it in the kernel — while the kubelet answers from cAdvisor's housekeeping samples and has containerd (which
asks every shim) read the container cgroups, so its own process stays cheap and its runtime pays 150–195 ms per call.
The change ("after"): requests reuse the housekeeping reading (taken every 10 s) while it is younger than 1.5 × the
interval, with that reading's \`time\` fields, as the kubelet serves cAdvisor's samples (same Summary shape and
semantics; usageNanoCores still between housekeeping readings); and a reading takes ~1,800 reads (the first usage file
read tells whether the cgroup exists, cpuacct.usage read once, remembered pod cgroups not re-checked before reading,
volume directories listed once per 60 s as their usage already was) — ~45 instead of ~62 ms CPU per reading at 100
pods (one profile each of the collector against the live pods of this benchmark, loaded machine).`;

function report(startLine: string, phases: Phase[]): string {
  const idleRows = phases.flatMap((ph) =>
    (['nodelet', 'kubelet'] as const).map((w) => {
      const i = ph.idle[w];
      const t = ph[w];
      const r = ph.blocks[w]['/metrics/resource']!;
      const k = ph.idle.kubelet;
      const own = per15s(i.agent, i.runtime, r);
      const up = per15s(k.agent, k.runtime, ph.blocks.kubelet['/metrics/resource']!);
      return `| ${w === 'kubelet' ? `${t.label} (${ph.name})` : t.label} | ${i.agent.toFixed(1)} ms/s | ${i.runtime.toFixed(1)} ms/s | ${i.rssMB.toFixed(0)} MB | ${own.toFixed(0)} ms (${((own / 15000) * 100).toFixed(2)} % of a core) | ${w === 'kubelet' ? '—' : ratio(own, up)} |`;
    }),
  );
  const loads = phases.map((ph) => `${ph.name}: load at end ${ph.load}, machine busy ${(ph.machineBusy * 100).toFixed(0)} % during the idle window`).join('; ');
  return `### Against the upstream kubelet at ${PODS} pods (bench/stats-summary-vs-upstream.ts)

\`npx tsx bench/stats-summary-vs-upstream.ts${BEFORE === undefined ? '' : ' --before=<bundle>'}\` — one run: ${startLine}; ${loads}. Real API server
v1.33.3 (../shared/k8s). Node A: nodelet on a private containerd (${containerdVersion()}); node B: the upstream kubelet v1.33.3
(cgroupfs, webhook authn/authz, its CRI stats provider) on its own private containerd of the same version and config;
both up at the same time, each with ${PODS} pods (pause sandbox + one \`sleep\` container of ${IMAGE}, requests 5m CPU /
8 MiB), pinned by \`spec.nodeName\`. The machine is shared (2 cores; another session ran a logs benchmark at the same
time): absolute numbers are noisy, ratios are between blocks measured minutes apart in the same run.

Each block: 5 warm-up calls, ${IDLE_S} s idle measurement, then ${CALLS} GETs ${SPACING_MS} ms apart straight to the agent's
kubelet API port with the API server's kubelet client certificate over one kept-alive TLS connection (as metrics-server's
Go client; no gzip). Blocks alternate nodelet, kubelet for each path. Latency is request to last body byte. CPU per call
is utime+stime during the block minus the idle rate measured just before, / calls — for the agent, and for its runtime
(containerd + all its shims: the kubelet asks containerd's ListContainerStats, which asks every shim; nodelet reads the
cgroups itself). The last body of each block was checked to parse as the upstream type with the node and all ${PODS}
pods (CPU and memory set; containers too). "vs upstream" is p50 / p99 / agent+runtime CPU against the kubelet's row
of the same phase (< 1 is better).

| agent | path | body | p50 | p99 | agent CPU/call | runtime CPU/call | agent+runtime | vs upstream |
| --- | --- | --- | --- | --- | --- | --- | --- | --- |
${phases.flatMap((ph) => [`| **${ph.name}** | | | | | | | | |`, ...phaseRows(ph)]).join('\n')}

Idle with ${PODS} pods (both agents measured together over 60 s before the blocks; the kubelet's cAdvisor housekeeps
every cgroup of the machine, other sessions' included), and the CPU of agent + runtime per 15 s with metrics-server
scraping \`/metrics/resource\` once in them (idle × 15 s + one call):

| agent | agent idle CPU | runtime idle CPU | agent RSS | per 15 s with one scrape | vs upstream |
| --- | --- | --- | --- | --- | --- |
${idleRows.join('\n')}
${BEFORE === undefined ? '' : `\n${CHANGE_NOTE}\n`}`;
}

// ---------------------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const startLine = machineLine(machineFacts());
  console.log(startLine);
  const { cluster, caFile, ip, work } = await realClusterBench({ binDir: BIN, kubeconfig: KUBECONFIG, name: `${PREFIX}-bench-stats`, stack: { onCleanup } });
  onCleanup('cgroups', () => {
    removeCgroupTree(CG_NODELET);
    removeCgroupTree(CG_KUBELET);
  });
  onCleanup('nodes and namespace', async () => {
    await cluster.kubectl(['delete', 'namespace', NS, '--wait=false']);
    await cluster.kubectl(['delete', 'node', NODE_A, NODE_B, '--wait=false']);
  });
  await cluster.kubectl(['delete', 'node', NODE_A, NODE_B, '--wait=false']);
  await cluster.freshNamespace(NS);
  const client = readKubeletClientCert(dirname(KUBECONFIG));

  const ctrdA = await containerd(`${PREFIX}ctr0`, `${NET_A}.0/24`);
  const ctrdB = await containerd(`${PREFIX}ctr1`, `${NET_B}.0/24`);
  // Pod objects go before the runtimes are torn down (so the agents stop acting on them).
  onCleanup('pods', async () => {
    await cluster.kubectl(['-n', NS, 'delete', 'pods', '--all', '--grace-period=0', '--force', '--wait=false']);
  });
  const nodeletRoot = join(work, 'nodelet-root');
  const firstName = BEFORE === undefined ? `${PREFIX}-bench-nodelet` : `${PREFIX}-bench-nodelet-before`;
  let nodelet = await startNodelet(cluster, ctrdA, nodeletRoot, caFile, ip, BEFORE, firstName);
  const kubelet = await startKubelet(cluster, work, ctrdB.socketPath, caFile, ip);
  await Promise.all([nodeReady(cluster, NODE_A), nodeReady(cluster, NODE_B)]);
  // One node after the other: 2×PODS pod starts at once would swamp this 2-core machine.
  await cluster.kubectlOk(['create', '-f', '-'], { input: podList(NODE_A, 'n') });
  await allReady(cluster, [NODE_A], 900_000);
  await cluster.kubectlOk(['create', '-f', '-'], { input: podList(NODE_B, 'k') });
  await allReady(cluster, [NODE_A, NODE_B], 900_000);
  await sleep(30_000); // let both settle (first housekeeping rounds, probes of the new containers)
  if (HOLD_S > 0) {
    // For profiling the agents' stats code against the live pods before the measurements start.
    console.log(`holding ${HOLD_S} s: nodelet root ${nodeletRoot}, containerd A ${ctrdA.socketPath}, B ${ctrdB.socketPath}, kubepods /${CG_NODELET}/kubepods`);
    await sleep(HOLD_S * 1000);
  }

  const kTarget: Target = { label: 'upstream kubelet v1.33.3', node: NODE_B, client: directGetClient(ip, PORT + 2, client), agentPid: () => kubelet.pid ?? 0, runtime: ctrdB };
  const nTarget = (label: string): Target => ({ label, node: NODE_A, client: directGetClient(ip, PORT, client), agentPid: () => nodelet.pid, runtime: ctrdA });
  const phases: Phase[] = [];
  if (BEFORE !== undefined) {
    const before = nTarget('nodelet (before)');
    phases.push(await phase('before', before, kTarget));
    before.client.close();
    await nodelet.stop();
    forget(firstName);
    nodelet = await startNodelet(cluster, ctrdA, nodeletRoot, caFile, ip, undefined, `${PREFIX}-bench-nodelet`);
    await nodeReady(cluster, NODE_A);
    await allReady(cluster, [NODE_A, NODE_B], 300_000);
    await sleep(30_000);
  }
  const after = nTarget(BEFORE === undefined ? 'nodelet' : 'nodelet (after)');
  phases.push(await phase(BEFORE === undefined ? 'run' : 'after', after, kTarget));
  after.client.close();
  kTarget.client.close();

  const body = report(startLine, phases);
  console.log(body);
  if (WRITE_DOC) writeSubsection('kubelet-api', '## Kubelet API (bench/kubelet-logs.ts)', 'kubelet-api:stats-vs-upstream', body);
}

await runBench(main, { cleanup });
