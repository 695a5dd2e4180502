/**
 * Idle footprint against the upstream kubelet (issue 14), in one run on one machine, through the REAL API server
 * (../shared/k8s, v1.33.3): for each agent in turn — (a) the upstream kubelet v1.33.3 on a private containerd,
 * (b) nodelet on a private containerd, (c) nodelet on a private dockerd — start it, create N small pods pinned to its
 * node (default 100: sandbox + one `sleep` container of localhost/nodelet/testbox:1.0, imagePullPolicy IfNotPresent),
 * wait until all are Running, settle, then an idle window over which the agent's RSS (VmRSS sampled every second,
 * VmHWM, RssAnon/RssFile) and CPU (utime+stime as a share of one core) are measured, with the runtime's beside it;
 * delete the pods, wait until they are gone, stop the agent and its runtime, next agent. The agents run one after
 * another (the machine has 2 cores and is shared): the load line of each window is recorded.
 *
 * nodelet is started as a user would: `node <bundle> …` without NODE_OPTIONS (its own re-exec applies
 * src/cli/memory-flags.ts, KUBELET_MEMORY_FLAGS); `--node-options=…` gives nodelet NODE_OPTIONS for experiments (e.g.
 * `--max-semi-space-size=4`; then nothing is written to the docs unless `--doc-block=<name>` is given).
 * `--heap-snapshot-dir=DIR` writes a heap snapshot of each nodelet at the end of its idle window (SIGUSR2);
 * `--smaps-dir=DIR` copies each agent's /proc/<pid>/smaps there at that moment.
 *
 * Usage: tsx bench/footprint-vs-upstream.ts [--kubeconfig=/tmp/k8s-real/admin.kubeconfig] [--pods=100] [--idle=60]
 *        [--settle=10] [--targets=kubelet-containerd,nodelet-containerd,nodelet-docker] [--nodes=fp-a,fp-b,fp-c]
 *        [--prefix=fp] [--port-base=11250] [--net=10.211] [--node-options="…"] [--heap-snapshot-dir=DIR]
 *        [--env=K=V …] [--no-doc] [--doc-block=footprint:vs-upstream] [--subnets=CIDR,CIDR,CIDR]
 *        [--entries=BUNDLE,BUNDLE…]
 * `--subnets` replaces the three /24s of `--net` (pod subnets of the kubelet's containerd, nodelet's containerd and
 * nodelet's dockerd, in that order). `--entries` compares nodelet builds in one run: a target may be listed more than
 * once (e.g. `--targets=kubelet-containerd,nodelet-containerd,nodelet-containerd`), and the k-th nodelet started
 * runs bundle k (round robin; rows are labelled with the bundle's file name; nothing is written to the docs); the
 * i-th target then runs on the i-th name of `--nodes`.
 * Needs root, containerd, dockerd and the local images (scripts/images/build.sh); node identities
 * node-<name>.kubeconfig beside the admin kubeconfig (up.sh K8S_NODES). The nodelet bundle is $NODELET_ENTRY or
 * dist/nodelet.mjs; the kubelet is `<kubeconfig dir>/bin/kubelet`. `--net` is the first two octets of a /16 of one's
 * own (a /24 per runtime: .1, .2, .3).
 */
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { writeSubsection } from './lib/docs.js';
import { KUBELET_MEMORY_FLAGS } from '../src/cli/memory-flags.js';
import { loadText, machineFacts, machineLine } from './lib/machine.js';
import { cpuSeconds, machineJiffies, statusMB, stopChild } from './lib/proc.js';
import { readySandboxes, removeSandboxes } from './lib/cri-sandboxes.js';
import { startPrivateContainerd, type PrivateContainerd } from '../src/cri/containerd/testing.js';
import { runNodelet, waitFor, type Cluster } from '../test/e2e/harness/index.js';
import { PrivateDockerd } from '../test/e2e/node-helpers.js';
import { realClusterBench, removeCgroupTree, unmountUnder, writeIsolatedKubeletConfig } from './lib/host.js';
import { cleanupStack, runBench } from './lib/cleanup.js';
import { listChains, newChains, otherProcessRuns, removeChains } from './lib/chains.js';

/** The chains the upstream kubelet makes and leaves behind. */
const KUBELET_CHAINS = /^KUBE-(FIREWALL|KUBELET-CANARY|IPTABLES-HINT)$/;

const arg = (name: string): string | undefined => process.argv.slice(2).find((a) => a.startsWith(`--${name}=`))?.split('=').slice(1).join('=');
const KUBECONFIG = arg('kubeconfig') ?? process.env.NODELET_E2E_KUBECONFIG ?? '/tmp/k8s-real/admin.kubeconfig';
const BIN = process.env.K8S_BIN_DIR ?? join(dirname(KUBECONFIG), 'bin');
const PODS = Number(arg('pods') ?? 100);
const IDLE_S = Number(arg('idle') ?? 60);
const SETTLE_S = Number(arg('settle') ?? 10);
const PREFIX = arg('prefix') ?? 'fp';
const PORT = Number(arg('port-base') ?? 11250);
const NET = arg('net') ?? '10.211';
const NODE_OPTIONS = arg('node-options');
const SUBNETS = arg('subnets')?.split(',') ?? [`${NET}.1.0/24`, `${NET}.2.0/24`, `${NET}.3.1/24`];
const ENTRIES = arg('entries')?.split(',');
let nodeletsStarted = 0;
const HEAP_DIR = arg('heap-snapshot-dir');
/** Where to copy each agent's /proc/<pid>/smaps at the end of its idle window (mapping-level breakdown). */
const SMAPS_DIR = arg('smaps-dir');
/** Extra environment for nodelet, `K=V` (e.g. GLIBC_TUNABLES=… for malloc experiments). */
const EXTRA_ENV = Object.fromEntries(process.argv.slice(2).filter((a) => a.startsWith('--env=')).map((a) => { const kv = a.slice(6); const i = kv.indexOf('='); return [kv.slice(0, i), kv.slice(i + 1)]; }));
const DOC_BLOCK = arg('doc-block') ?? (NODE_OPTIONS === undefined && ENTRIES === undefined && !process.argv.some((a) => a.startsWith('--env=')) ? 'footprint:vs-upstream' : undefined);
const WRITE_DOC = !process.argv.includes('--no-doc') && DOC_BLOCK !== undefined;
const NS = `${PREFIX}-bench-footprint`;
const IMAGE = 'localhost/nodelet/testbox:1.0';
const CG = `${PREFIX}-bench-footprint`;

type Target = 'kubelet-containerd' | 'nodelet-containerd' | 'nodelet-docker';
const ALL: Target[] = ['kubelet-containerd', 'nodelet-containerd', 'nodelet-docker'];
const TARGETS = (arg('targets')?.split(',') ?? ALL) as Target[];
const NODES = (arg('nodes') ?? `${PREFIX}-a,${PREFIX}-b,${PREFIX}-c`).split(',');
const LABEL: Record<Target, string> = {
  'kubelet-containerd': 'upstream kubelet v1.33.3 on containerd',
  'nodelet-containerd': 'nodelet on containerd',
  'nodelet-docker': 'nodelet on Docker',
};
if (TARGETS.some((t) => !ALL.includes(t))) throw new Error(`--targets takes ${ALL.join(',')}`);
if (!(PODS >= 1 && PODS <= 250) || !(IDLE_S >= 1) || !(SETTLE_S >= 0)) throw new Error('--pods 1..250, --idle ≥ 1, --settle ≥ 0');

/** An agent running on its runtime. */
interface Agent {
  pid: number;
  /** The nodelet bundle's file name when --entries is given. */
  entry?: string;
  runtimePid: () => number;
  /** True when no pod sandbox of the agent is running any more. */
  podsGone: () => Promise<boolean>;
  /** Stops the agent and its runtime (idempotent). */
  stop: () => Promise<void>;
}

/** What one target measured. */
interface Footprint {
  target: Target;
  /** The bundle's file name when --entries is given. */
  entry?: string;
  rssBeforeMB: number;
  rssMB: number;
  rssMaxMB: number;
  hwmMB: number;
  anonMB: number;
  fileMB: number;
  cpuShare: number;
  runtimeRssMB: number;
  runtimeCpuShare: number;
  allRunningS: number;
  load: string;
  machineBusy: number;
  teardownS: number;
}

const { onCleanup, forget, cleanup } = cleanupStack();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const readPid = (path: string): number => Number(readFileSync(path, 'utf8').trim());

/** A field of /proc/<pid>/status in MB (RssAnon, RssFile), NaN when missing. */
function statusField(pid: number, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

/** Runs `steps` (last first) as one cleanup-stack entry that can also be run early. */
function scoped(what: string): { add: (fn: () => Promise<void> | void) => void; run: () => Promise<void> } {
  const steps: (() => Promise<void> | void)[] = [];
  let done: Promise<void> | undefined;
  const run = (): Promise<void> =>
    (done ??= (async () => {
      for (let s = steps.pop(); s !== undefined; s = steps.pop()) {
        try {
          await s();
        } catch (err) {
          console.error(`cleanup (${what}) failed: ${(err as Error).message}`);
        }
      }
    })());
  onCleanup(what, run);
  return { add: (fn) => steps.push(fn), run: async () => { await run(); forget(what); } };
}

function podList(node: string): string {
  const items = Array.from({ length: PODS }, (_, i) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `fp-${node}-${String(i).padStart(3, '0')}`, namespace: NS, labels: { app: 'footprint' } },
    spec: {
      nodeName: node,
      terminationGracePeriodSeconds: 2,
      containers: [{ name: 'app', image: IMAGE, imagePullPolicy: 'IfNotPresent', command: ['sleep', '86400'] }],
    },
  }));
  return JSON.stringify({ apiVersion: 'v1', kind: 'List', items });
}

async function countPods(cluster: Cluster, phase?: string): Promise<number> {
  const r = await cluster.kubectl(['-n', NS, 'get', 'pods', '-o', 'jsonpath={range .items[*]}{.status.phase}{"\\n"}{end}']);
  if (r.code !== 0) return -1;
  const lines = r.stdout.split('\n').filter((l) => l !== '');
  return phase === undefined ? lines.length : lines.filter((l) => l === phase).length;
}

async function nodeReady(cluster: Cluster, node: string): Promise<void> {
  await waitFor(
    async () => (await cluster.kubectl(['get', 'node', node, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'])).stdout === 'True',
    { timeoutMs: 180_000, intervalMs: 1000, description: `node ${node} Ready` },
  );
}

async function privateContainerd(scope: ReturnType<typeof scoped>, bridge: string, subnet: string): Promise<PrivateContainerd> {
  const c = await startPrivateContainerd({ bridge, subnet });
  scope.add(async () => {
    await removeSandboxes(c.socketPath);
    await c.stop();
  });
  return c;
}

// ---------------------------------------------------------------------------------------------------------------
// the agents

interface StartContext {
  cluster: Cluster;
  work: string;
  caFile: string;
  ip: string;
  node: string;
  scope: ReturnType<typeof scoped>;
}

async function startKubelet(x: StartContext): Promise<Agent> {
  const ctrd = await privateContainerd(x.scope, `${PREFIX}ctr1`, SUBNETS[0] ?? '');
  const kubelet = join(BIN, 'kubelet');
  if (!existsSync(kubelet)) {
    const r = spawnSync('bash', [join(process.cwd(), '..', 'shared', 'k8s', 'extract.sh'), 'kubelet'], { env: { ...process.env, K8S_BIN_DIR: BIN }, stdio: 'inherit' });
    if (r.status !== 0) throw new Error('cannot extract the upstream kubelet');
  }
  const cg = `${CG}-kubelet`;
  x.scope.add(() => removeCgroupTree(cg));
  const chainsBefore = listChains(KUBELET_CHAINS);
  const { config, root } = writeIsolatedKubeletConfig({ work: x.work, port: PORT, healthzPort: PORT + 1, readOnlyPort: 0, cgroupRoot: cg, clientCAFile: x.caFile });
  const log = join(x.work, 'kubelet.log');
  const args = [`--kubeconfig=${await x.cluster.nodeKubeconfig(x.node)}`, `--config=${config}`, `--hostname-override=${x.node}`, `--node-ip=${x.ip}`, `--root-dir=${root}`, `--container-runtime-endpoint=unix://${ctrd.socketPath}`, '-v=1'];
  const child = spawn(kubelet, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const out = createWriteStream(log);
  child.stdout?.pipe(out);
  child.stderr?.pipe(out);
  const stop = async (): Promise<void> => {
    await stopChild(child);
    unmountUnder(root); // the kubelet makes its root dir a mount and mounts pod volumes below it
    // Its KUBE-FIREWALL / KUBE-KUBELET-CANARY / KUBE-IPTABLES-HINT chains stay behind: ours unless another kubelet runs.
    if (!otherProcessRuns('kubelet')) removeChains(newChains(chainsBefore, KUBELET_CHAINS));
  };
  x.scope.add(stop);
  console.log(`upstream kubelet pid ${String(child.pid)}, log ${log}`);
  return {
    pid: child.pid ?? 0,
    runtimePid: () => readPid(join(ctrd.dir, 'containerd.pid')),
    podsGone: async () => (await readySandboxes(ctrd.socketPath)) === 0,
    stop: x.scope.run,
  };
}

function nodeletArgs(x: StartContext, kubeconfig: string, endpoint: string, ports: number, cg: string): string[] {
  return [
    `--kubeconfig=${kubeconfig}`,
    '--roles=kubelet',
    `--hostname-override=${x.node}`,
    `--node-ip=${x.ip}`,
    `--root-dir=${join(x.work, `nodelet-root-${x.node}`)}`,
    `--container-runtime-endpoint=${endpoint}`,
    `--port=${ports}`,
    `--healthz-port=${ports + 1}`,
    `--client-ca-file=${x.caFile}`,
    '--fail-swap-on=false',
    `--cgroup-root=/${cg}`,
    '--image-gc-high-threshold=100',
    '--eviction-hard=memory.available<100Mi',
  ];
}

/** nodelet as a user starts it: `node <bundle>` with no NODE_OPTIONS (unless --node-options / --heap-snapshot-dir). */
function spawnNodelet(x: StartContext, args: string[], name: string): { pid: number; entry?: string } {
  const entry = ENTRIES?.[nodeletsStarted++ % ENTRIES.length];
  const opts = [NODE_OPTIONS, HEAP_DIR === undefined ? undefined : '--heapsnapshot-signal=SIGUSR2'].filter((o) => o !== undefined).join(' ');
  if (HEAP_DIR !== undefined) mkdirSync(HEAP_DIR, { recursive: true });
  const n = runNodelet(args, { name, env: { ...EXTRA_ENV, NODE_OPTIONS: opts === '' ? undefined : opts, NODELET_MEMORY_FLAGS_APPLIED: undefined }, cwd: HEAP_DIR, entry });
  x.scope.add(async () => {
    await n.stop(15_000);
  });
  console.log(`${name} pid ${n.pid}, log ${n.logPath}${entry === undefined ? '' : `, bundle ${entry}`}`);
  return { pid: n.pid, entry: entry?.split('/').pop() };
}

async function startNodeletContainerd(x: StartContext): Promise<Agent> {
  const ctrd = await privateContainerd(x.scope, `${PREFIX}ctr2`, SUBNETS[1] ?? '');
  const cg = `${CG}-nodelet-ctrd`;
  x.scope.add(() => removeCgroupTree(cg));
  const n = spawnNodelet(x, nodeletArgs(x, await x.cluster.nodeKubeconfig(x.node), `unix://${ctrd.socketPath}`, PORT + 2, cg), `${PREFIX}-footprint-nodelet-ctrd`);
  return {
    pid: n.pid,
    entry: n.entry,
    runtimePid: () => readPid(join(ctrd.dir, 'containerd.pid')),
    podsGone: async () => (await readySandboxes(ctrd.socketPath)) === 0,
    stop: x.scope.run,
  };
}

async function startNodeletDocker(x: StartContext): Promise<Agent> {
  const dir = join(x.work, 'dockerd');
  mkdirSync(dir, { recursive: true });
  const engine = new PrivateDockerd(dir, `${PREFIX}-dbr0`);
  x.scope.add(async () => {
    const ids = engine.docker(['ps', '-aq']).split('\n').filter((s) => s !== '');
    if (ids.length > 0) engine.docker(['rm', '-f', ...ids]);
    await engine.destroy();
  });
  engine.setupBridge(SUBNETS[2] ?? '');
  await engine.start();
  engine.loadImages();
  const cg = `${CG}-nodelet-docker`;
  x.scope.add(() => removeCgroupTree(cg));
  const n = spawnNodelet(x, nodeletArgs(x, await x.cluster.nodeKubeconfig(x.node), `unix://${engine.socket}`, PORT + 4, cg), `${PREFIX}-footprint-nodelet-docker`);
  return {
    pid: n.pid,
    entry: n.entry,
    runtimePid: () => readPid(join(dir, 'docker.pid')),
    podsGone: async () => engine.docker(['ps', '-q']) === '',
    stop: x.scope.run,
  };
}

const START: Record<Target, (x: StartContext) => Promise<Agent>> = {
  'kubelet-containerd': startKubelet,
  'nodelet-containerd': startNodeletContainerd,
  'nodelet-docker': startNodeletDocker,
};

// ---------------------------------------------------------------------------------------------------------------
// one measurement

async function measure(cluster: Cluster, target: Target, agent: Agent, node: string): Promise<Footprint> {
  await nodeReady(cluster, node);
  await sleep(SETTLE_S * 1000);
  const rssBeforeMB = statusMB(agent.pid, 'VmRSS');
  console.log(`${target}: node Ready, RSS before pods ${rssBeforeMB.toFixed(1)} MB; creating ${PODS} pods…`);
  const t0 = performance.now();
  await cluster.kubectlOk(['create', '-f', '-'], { input: podList(node) });
  await waitFor(
    async () => {
      const n = await countPods(cluster, 'Running');
      console.log(`  ${((performance.now() - t0) / 1000).toFixed(0)} s: ${n}/${PODS} Running`);
      return n === PODS;
    },
    { timeoutMs: 900_000, intervalMs: 5000, description: `${PODS} pods Running on ${node}` },
  );
  const allRunningS = (performance.now() - t0) / 1000;
  await sleep(SETTLE_S * 1000);
  const load = loadText();
  const c0 = cpuSeconds(agent.pid);
  const r0 = cpuSeconds(agent.runtimePid());
  const m0 = machineJiffies();
  const w0 = performance.now();
  let rssMax = 0;
  for (let i = 0; i < IDLE_S; i++) {
    await sleep(1000);
    rssMax = Math.max(rssMax, statusMB(agent.pid, 'VmRSS'));
  }
  const wall = (performance.now() - w0) / 1000;
  const m1 = machineJiffies();
  const f: Footprint = {
    target,
    entry: agent.entry,
    rssBeforeMB,
    rssMB: statusMB(agent.pid, 'VmRSS'),
    rssMaxMB: rssMax,
    hwmMB: statusMB(agent.pid, 'VmHWM'),
    anonMB: statusField(agent.pid, 'RssAnon'),
    fileMB: statusField(agent.pid, 'RssFile'),
    cpuShare: (cpuSeconds(agent.pid) - c0) / wall,
    runtimeRssMB: statusMB(agent.runtimePid(), 'VmRSS'),
    runtimeCpuShare: (cpuSeconds(agent.runtimePid()) - r0) / wall,
    allRunningS,
    load: `${load} → ${loadText()}`,
    machineBusy: (m1.busy - m0.busy) / Math.max(1, m1.total - m0.total),
    teardownS: Number.NaN,
  };
  console.log(`${target}: ${JSON.stringify(f)}`);
  if (SMAPS_DIR !== undefined) {
    mkdirSync(SMAPS_DIR, { recursive: true });
    writeFileSync(join(SMAPS_DIR, `${node}-${target}${f.entry === undefined ? '' : `-${f.entry}`}.smaps`), readFileSync(`/proc/${agent.pid}/smaps`));
  }
  if (HEAP_DIR !== undefined && target !== 'kubelet-containerd') {
    process.kill(agent.pid, 'SIGUSR2');
    await sleep(15_000);
    console.log(`heap snapshot of ${target} requested (written to ${HEAP_DIR})`);
  }
  const d0 = performance.now();
  await cluster.kubectl(['-n', NS, 'delete', 'pods', '--all', '--wait=false']);
  await waitFor(async () => (await countPods(cluster)) === 0, { timeoutMs: 600_000, intervalMs: 3000, description: `pods of ${node} gone` });
  await waitFor(agent.podsGone, { timeoutMs: 300_000, intervalMs: 2000, description: `sandboxes of ${node} gone` }).catch((err: unknown) => console.error((err as Error).message));
  f.teardownS = (performance.now() - d0) / 1000;
  return f;
}

// ---------------------------------------------------------------------------------------------------------------
// report

const mb = (v: number): string => (Number.isFinite(v) ? `${v.toFixed(0)} MB` : 'n/a');
const pct = (v: number): string => `${(v * 100).toFixed(2)} %`;

function report(startLine: string, rows: Footprint[]): string {
  const up = rows.find((r) => r.target === 'kubelet-containerd');
  const label = (r: Footprint): string => (r.entry === undefined ? LABEL[r.target] : `${LABEL[r.target]} [${r.entry}]`);
  const vs = (r: Footprint): string => (up === undefined || r === up ? '—' : `${(r.rssMB / up.rssMB).toFixed(2)}×`);
  const line = (r: Footprint): string =>
    `| ${label(r)} | ${mb(r.rssBeforeMB)} | **${mb(r.rssMB)}** (max ${mb(r.rssMaxMB)}) | ${mb(r.hwmMB)} | ${mb(r.anonMB)} / ${mb(r.fileMB)} | ${pct(r.cpuShare)} | ${vs(r)} | ${mb(r.runtimeRssMB)}, ${pct(r.runtimeCpuShare)} | ${r.allRunningS.toFixed(0)} s | ${r.load} |`;
  const extra = Object.keys(EXTRA_ENV).length === 0 ? '' : ` Extra environment for nodelet: ${Object.entries(EXTRA_ENV).map(([k, v]) => `${k}=${v}`).join(' ')}.`;
  const snap = HEAP_DIR === undefined ? '' : ' and `--heapsnapshot-signal=SIGUSR2`, for a heap snapshot after the window';
  const reexec = KUBELET_MEMORY_FLAGS.join(' ');
  const opts = NODE_OPTIONS === undefined ? `nodelet started as \`node <bundle>\` (its own re-exec adds \`${reexec}\`)${snap}` : `nodelet with NODE_OPTIONS="${NODE_OPTIONS}"${snap}`;
  return `### Idle footprint against the upstream kubelet (bench/footprint-vs-upstream.ts)

\`npx tsx bench/footprint-vs-upstream.ts --kubeconfig=…\` — one run: ${startLine}. Real API server v1.33.3
(../shared/k8s). The agents run one after another on their own node: each gets ${PODS} pods (sandbox + one \`sleep\`
container of localhost/nodelet/testbox:1.0, pinned by \`spec.nodeName\`), all Running, ${SETTLE_S} s settling, then a
${IDLE_S} s idle window: RSS = VmRSS at its end (max of 1 s samples), VmHWM, RssAnon / RssFile (Go's static binary and
node's binary count their mapped text in RssFile); CPU = utime+stime over the window as a share of one core. ${opts}.${extra}
The runtime (private containerd / private dockerd) is shown beside each agent, not counted. Load = the 1/5/15-min
averages at the window's start → end (2 cores, shared machine).

| agent | RSS before pods | RSS idle with ${PODS} pods | VmHWM | anon / file | idle CPU | RSS vs upstream | runtime RSS, CPU | all Running | load |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
${rows.map(line).join('\n')}

Whole machine busy during the windows: ${rows.map((r) => `${label(r)} ${(r.machineBusy * 100).toFixed(0)} %`).join('; ')}. Teardown (delete → all gone): ${rows.map((r) => `${r.teardownS.toFixed(0)} s`).join(' / ')}.
`;
}

// ---------------------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const startLine = machineLine(machineFacts());
  console.log(startLine);
  const { cluster, caFile, ip, work } = await realClusterBench({ binDir: BIN, kubeconfig: KUBECONFIG, name: `${PREFIX}-bench-footprint`, stack: { onCleanup } });
  onCleanup('nodes and namespace', async () => {
    await cluster.kubectl(['-n', NS, 'delete', 'pods', '--all', '--grace-period=0', '--force', '--wait=false']);
    await cluster.kubectl(['delete', 'namespace', NS, '--wait=false']);
    await cluster.kubectl(['delete', 'node', ...NODES, '--wait=false']);
  });
  await cluster.kubectl(['delete', 'node', ...NODES, '--wait=false']);
  await cluster.freshNamespace(NS);
  const rows: Footprint[] = [];
  for (const [i, target] of TARGETS.entries()) {
    // With --entries a target may repeat: each run gets a node of its own (a fresh Ready condition to wait for).
    const node = (ENTRIES === undefined ? NODES[ALL.indexOf(target)] : NODES[i]) ?? `${PREFIX}-${i}`;
    const scope = scoped(`agent ${target}`);
    const agent = await START[target]({ cluster, work, caFile, ip, node, scope });
    rows.push(await measure(cluster, target, agent, node));
    await agent.stop();
  }
  const body = report(startLine, rows);
  console.log(body);
  if (WRITE_DOC && DOC_BLOCK !== undefined) writeSubsection('footprint', '## Idle footprint (bench/footprint-vs-upstream.ts, issue 14)', DOC_BLOCK, body);
}

await runBench(main, { cleanup });
