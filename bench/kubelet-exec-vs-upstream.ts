/**
 * Streaming benchmark against the upstream kubelet (issue 13), in one run on one machine, through the REAL API server
 * (../shared/k8s, v1.33.3) with kubectl v1.33.3:
 *  - `kubectl exec <pod> -c main -- true` latency p50/p99, the same pod spec run by (a) nodelet on a private
 *    containerd, (b) the upstream kubelet v1.33.3 on its own private containerd, (c) nodelet on a private dockerd;
 *    the runs are interleaved round-robin (a, b, a, b, … then c, b, c, b, …) so that the load of this shared machine
 *    hits every target alike;
 *  - `kubectl port-forward` throughput of one HTTP download of SIZE MiB (default 1024: a sparse file served by busybox
 *    httpd bound to the pod's 127.0.0.1) and the CPU time it costs the agent and the runtime: nodelet+containerd vs
 *    kubelet+containerd (the kubelet relays to containerd's CRI streaming server, which dials into the pod's netns;
 *    nodelet, on either runtime, dials into the pod's netns itself through a helper process that hands it the
 *    connected socket — counted through its reaped children).
 *
 * Phase A runs nodelet (node A, containerd) and the kubelet (node B) side by side; phase B replaces nodelet on node A
 * by nodelet on Docker, the kubelet keeps running. Everything is started here and removed in `finally` and on
 * SIGINT/SIGTERM: pods, Nodes, the namespace, the agents (by PID), containerds, dockerd, bridges, cgroups, mounts.
 *
 * Usage: tsx bench/kubelet-exec-vs-upstream.ts [--kubeconfig=/tmp/k8s-real/admin.kubeconfig] [--runs=100]
 *        [--size-mib=1024] [--nodes=h1-a,h1-b] [--prefix=h1] [--port-base=21000] [--subnet=10.231.1] [--no-doc]
 * Needs root, containerd, dockerd and the local images (scripts/images/build.sh); the node identities are
 * node-<name>.kubeconfig beside the admin kubeconfig (up.sh K8S_NODES) or minted by the e2e harness through a CSR. The nodelet bundle is $NODELET_ENTRY or
 * dist/nodelet.mjs; the kubelet is `<kubeconfig dir>/bin/kubelet` (extracted by ../shared/k8s/extract.sh if missing).
 * The defaults are one session's allocation of names, ports and a /24 on the shared machine: pass your own. Ports used:
 * port-base +0/+1 nodelet (API, healthz), +2/+3 the kubelet, +4..+6 kubectl port-forward's local ports.
 */
import { spawn, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { writeSubsection } from './lib/docs.js';
import { loadText, machineFacts, machineLine } from './lib/machine.js';
import { stopChild } from './lib/proc.js';
import { summarize, type Summary } from './lib/stats.js';
import { waitFor, type Cluster } from '../test/e2e/harness/index.js';
import { realClusterBench, removeCgroupTree } from './lib/host.js';
import { cleanupStack, runBench } from './lib/cleanup.js';
import Docker from 'dockerode';
import { engineExec, summarizeEngine, type EngineExecTiming } from './lib/engine-exec.js';
import { directExec, directSection, fmtDirect, readKubeletClientCert, summarizeDirect, type DirectExecTiming, type DirectSummary } from './lib/direct-exec.js';
import {
  containerdPid,
  cpuWithChildren,
  deletePod as deletePodOf,
  nodeletArgs as nodeletArgsOf,
  nodeReady,
  privateContainerd,
  privateDockerd,
  readPid,
  sandboxesGone,
  startNodelet as startNodeletOf,
  startUpstreamKubelet,
  waitPodReady,
  AGENT_LABEL,
  benchArg,
  commonBenchArgs,
  type AgentKind,
} from './lib/upstream-agents.js';

const ARGS = commonBenchArgs();
const arg = benchArg;
const { kubeconfig: KUBECONFIG, bin: BIN, nodeA: NODE_A, nodeB: NODE_B, prefix: PREFIX, portBase: PORT, subnet: NET, writeDoc: WRITE_DOC } = ARGS;
const RUNS = Number(arg('runs') ?? 100);
const SIZE_MIB = Number(arg('size-mib') ?? 1024);
const NS = `${PREFIX}-bench-streaming`;
const IMAGE = 'localhost/nodelet/testbox:1.0';
const HTTP_PORT = 18081;
const CG_NODELET = `${PREFIX}-bench-nodelet`;
const CG_KUBELET = `${PREFIX}-bench-kubelet`;

type Target = AgentKind;
const LABEL = AGENT_LABEL;

/** What one target runs on: the pod, and the PIDs whose CPU counts as agent and runtime. */
interface Running {
  pod: string;
  /** The agent's kubelet API port (for the direct exec). */
  port: number;
  agentPid: () => number;
  runtimePid: () => number;
}

interface PortForwardResult {
  bytes: number;
  secs: number;
  agentCpu: number;
  runtimeCpu: number;
  apiserverCpu: number;
  /** CPU seconds per second of the agent and runtime while idle, measured just before. */
  idleAgent: number;
  idleRuntime: number;
}

// ---------------------------------------------------------------------------------------------------------------
// cleanup: a stack run in reverse, once, on success, failure and signals

const stack = cleanupStack();
const { onCleanup, cleanup } = stack;
const containerd = (bridge: string, subnet: string) => privateContainerd(stack, bridge, subnet);
const startNodelet = (args: string[], name: string) => startNodeletOf(stack, args, name);
const deletePod = (cluster: Cluster, pod: string, gone: () => Promise<boolean>) => deletePodOf(cluster, NS, pod, gone);

// ---------------------------------------------------------------------------------------------------------------
// small helpers

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));


function podManifest(name: string, node: string): string {
  const script = `mkdir -p /www && truncate -s ${SIZE_MIB * 2 ** 20} /www/blob && exec httpd -f -p 127.0.0.1:${HTTP_PORT} -h /www`;
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS },
    spec: { nodeName: node, terminationGracePeriodSeconds: 1, containers: [{ name: 'main', image: IMAGE, command: ['sh', '-c', script] }] },
  });
}

// ---------------------------------------------------------------------------------------------------------------
// the measurements

/** One `kubectl exec … -- true`, in ms (throws when it fails). */
function execOnce(cluster: Cluster, pod: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn('kubectl', ['--kubeconfig', cluster.kubeconfigPath, '-n', NS, 'exec', pod, '-c', 'main', '--', 'true'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (code === 0) resolve(ms);
      else reject(new Error(`kubectl exec ${pod} exited ${String(code)}: ${err.trim()}`));
    });
  });
}

/** Interleaved exec latencies: `runs` rounds, each target once per round (after 3 warm-up rounds). */
async function execLatencies(cluster: Cluster, targets: Partial<Record<Target, Running>>): Promise<Partial<Record<Target, Summary>>> {
  const samples: Partial<Record<Target, number[]>> = {};
  const entries = Object.entries(targets) as [Target, Running][];
  for (let i = -3; i < RUNS; i++) {
    for (const [t, r] of entries) {
      const ms = await execOnce(cluster, r.pod);
      if (i >= 0) (samples[t] ??= []).push(ms);
    }
  }
  const out: Partial<Record<Target, Summary>> = {};
  for (const [t, s] of Object.entries(samples) as [Target, number[]][]) {
    out[t] = summarize(s);
    console.log(`exec ${t}: ${fmtExec(out[t])}`);
  }
  return out;
}

/**
 * Interleaved direct execs (bench/lib/direct-exec.ts: the API server's client certificate straight to the agent's
 * port, no kubectl, no API server), `runs` rounds after 3 warm-up rounds; each phase summarized.
 */
async function directLatencies(
  targets: Partial<Record<Target, Running>>,
  host: string,
  floor?: { samples: EngineExecTiming[]; run: () => Promise<EngineExecTiming> },
): Promise<Partial<Record<Target, DirectSummary>>> {
  const client = readKubeletClientCert(dirname(KUBECONFIG));
  const samples: Partial<Record<Target, DirectExecTiming[]>> = {};
  const entries = Object.entries(targets) as [Target, Running][];
  for (let i = -3; i < RUNS; i++) {
    for (const [t, r] of entries) {
      const timing = await directExec({ host, port: r.port, ns: NS, pod: r.pod, container: 'main', command: ['true'], client });
      if (i >= 0) (samples[t] ??= []).push(timing);
    }
    if (floor !== undefined) {
      const f = await floor.run();
      if (i >= 0) floor.samples.push(f);
    }
  }
  const out: Partial<Record<Target, DirectSummary>> = {};
  for (const [t, s] of Object.entries(samples) as [Target, DirectExecTiming[]][]) {
    out[t] = summarizeDirect(s);
    console.log(`direct exec ${t}: ${fmtDirect(out[t])}`);
  }
  return out;
}

/** Downloads the pod's sparse blob through `kubectl port-forward`, measuring time and the CPU of agent, runtime and API server. */
async function portForward(cluster: Cluster, r: Running, localPort: number): Promise<PortForwardResult> {
  const apiserverPid = readPid(join(dirname(KUBECONFIG), 'run', 'apiserver.pid'));
  const a0 = cpuWithChildren(r.agentPid());
  const r0 = cpuWithChildren(r.runtimePid());
  await sleep(5000);
  const idleAgent = (cpuWithChildren(r.agentPid()) - a0) / 5;
  const idleRuntime = (cpuWithChildren(r.runtimePid()) - r0) / 5;
  const pf = spawn('kubectl', ['--kubeconfig', cluster.kubeconfigPath, '-n', NS, 'port-forward', `pod/${r.pod}`, `${localPort}:${HTTP_PORT}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  pf.stdout.on('data', (d: Buffer) => (out += d.toString()));
  pf.stderr.on('data', (d: Buffer) => (out += d.toString()));
  try {
    await waitFor(() => out.includes('Forwarding from'), { timeoutMs: 20_000, description: `port-forward to ${r.pod} ready (${out})` });
    const agent0 = cpuWithChildren(r.agentPid());
    const runtime0 = cpuWithChildren(r.runtimePid());
    const api0 = cpuWithChildren(apiserverPid);
    const t0 = process.hrtime.bigint();
    const res = await fetch(`http://127.0.0.1:${localPort}/blob`);
    if (res.status !== 200 || res.body === null) throw new Error(`GET /blob through port-forward: HTTP ${res.status}`);
    let bytes = 0;
    for await (const chunk of res.body) bytes += chunk.length;
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    const api1 = cpuWithChildren(apiserverPid);
    await stopChild(pf, 5000);
    // The port-forward helper (src/cri/netns) exits 10 s after its last dial and is reaped into the agent's children time.
    await sleep(11_000);
    const result = {
      bytes,
      secs,
      agentCpu: cpuWithChildren(r.agentPid()) - agent0,
      runtimeCpu: cpuWithChildren(r.runtimePid()) - runtime0,
      apiserverCpu: api1 - api0,
      idleAgent,
      idleRuntime,
    };
    if (bytes !== SIZE_MIB * 2 ** 20) throw new Error(`port-forward to ${r.pod} carried ${bytes} bytes, expected ${SIZE_MIB * 2 ** 20}`);
    console.log(`port-forward ${r.pod}: ${fmtPf(result)}`);
    return result;
  } finally {
    await stopChild(pf, 5000);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// the targets

async function createPod(cluster: Cluster, pod: string, node: string): Promise<void> {
  await cluster.kubectlOk(['create', '-f', '-'], { input: podManifest(pod, node) });
  await waitPodReady(cluster, NS, pod);
}

const nodeletArgs = (cluster: Cluster, node: string, root: string, endpoint: string, caFile: string, ip: string): Promise<string[]> =>
  nodeletArgsOf({ cluster, node, root, endpoint, caFile, ip, port: PORT, cgroupRoot: CG_NODELET });

// ---------------------------------------------------------------------------------------------------------------
// report

const ms = (v: number): string => `${v.toFixed(0)} ms`;
const ms1 = (v: number): string => `${v.toFixed(1)} ms`;
const fmtExec = (s: Summary | undefined): string => (s === undefined ? 'n/a' : `p50 ${ms(s.p50)}, p99 ${ms(s.p99)} (min ${ms(s.min)}, n=${s.n})`);
const mibps = (r: PortForwardResult): number => r.bytes / 2 ** 20 / r.secs;
const fmtPf = (r: PortForwardResult): string =>
  `${(r.bytes / 2 ** 20).toFixed(0)} MiB in ${r.secs.toFixed(1)} s = ${mibps(r).toFixed(1)} MiB/s; CPU agent ${r.agentCpu.toFixed(2)} s + runtime ${r.runtimeCpu.toFixed(2)} s = ${(r.agentCpu + r.runtimeCpu).toFixed(2)} s (API server ${r.apiserverCpu.toFixed(2)} s)`;
const containerdVersion = (): string => spawnSync('containerd', ['--version'], { encoding: 'utf8' }).stdout.trim().split(' ')[2] ?? '?';
const ratio = (a: number, b: number): string => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}×` : 'n/a');

function report(
  startLine: string,
  endLoad: string,
  execA: Partial<Record<Target, Summary>>,
  execB: Partial<Record<Target, Summary>>,
  pf: Partial<Record<Target, PortForwardResult>>,
  direct: Partial<Record<Target, DirectSummary>>,
  directB: Partial<Record<Target, DirectSummary>>,
  engineFloor: ReturnType<typeof summarizeEngine>,
): string {
  const up = execA['kubelet-containerd'];
  const upB = execB['kubelet-containerd'];
  const execRow = (label: string, s: Summary | undefined, base: Summary | undefined): string =>
    `| ${label} | ${s === undefined ? 'n/a' : ms(s.p50)} | ${s === undefined ? 'n/a' : ms(s.p99)} | ${s === undefined ? 'n/a' : ms(s.min)} | ${base === undefined || s === undefined ? '—' : `${ratio(s.p50, base.p50)} / ${ratio(s.p99, base.p99)}`} |`;
  const kube = pf['kubelet-containerd'];
  const pfRow = (t: Target, runtime: string): string => {
    const r = pf[t];
    if (r === undefined) return `| ${LABEL[t]} | n/a | | | | |`;
    const total = r.agentCpu + r.runtimeCpu;
    const vs = kube === undefined || t === 'kubelet-containerd' ? '—' : `${ratio(mibps(r), mibps(kube))} throughput, ${ratio(total, kube.agentCpu + kube.runtimeCpu)} CPU`;
    return `| ${LABEL[t]} | ${mibps(r).toFixed(1)} MiB/s (${r.secs.toFixed(1)} s) | ${r.agentCpu.toFixed(2)} s | ${r.runtimeCpu.toFixed(2)} s (${runtime}) | ${total.toFixed(2)} s (${(total / (r.bytes / 2 ** 30)).toFixed(2)} s/GiB) | ${r.apiserverCpu.toFixed(2)} s | ${vs} |`;
  };
  return `### Against the upstream kubelet (bench/kubelet-exec-vs-upstream.ts)

\`npx tsx bench/kubelet-exec-vs-upstream.ts\` — one run: ${startLine}; load at end ${endLoad}. Real API server v1.33.3
(../shared/k8s), kubectl v1.33.3, the same pod spec (localhost/nodelet/testbox:1.0: busybox httpd on the pod's
127.0.0.1 serving a sparse ${SIZE_MIB} MiB file) pinned by \`spec.nodeName\` to: nodelet on a private containerd
(${containerdVersion()}), the upstream kubelet v1.33.3 on its own private containerd (same version and config,
cgroupfs), nodelet on a private dockerd. The machine is shared (2 cores, other sessions running): absolute numbers are
noisy; the exec runs are interleaved round-robin so the ratios are fair.

\`kubectl exec <pod> -c main -- true\`, ${RUNS} runs per target (after 3 warm-up rounds); each sample includes kubectl's
own start (the min shows the floor). Phase A runs nodelet/containerd and the kubelet side by side, phase B nodelet/Docker and
the kubelet; ratios are against the kubelet of the same phase (p50 / p99; < 1 is faster than upstream):

| target | p50 | p99 | min | vs upstream (p50 / p99) |
| --- | --- | --- | --- | --- |
${execRow(`${LABEL['nodelet-containerd']} (A)`, execA['nodelet-containerd'], up)}
${execRow(`${LABEL['kubelet-containerd']} (A)`, up, undefined)}
${execRow(`${LABEL['nodelet-docker']} (B)`, execB['nodelet-docker'], upB)}
${execRow(`${LABEL['kubelet-containerd']} (B)`, upB, undefined)}

${directSection(RUNS, [
  [`${LABEL['nodelet-containerd']} (A)`, direct['nodelet-containerd'], direct['kubelet-containerd']],
  [`${LABEL['kubelet-containerd']} (A)`, direct['kubelet-containerd'], undefined],
  [`${LABEL['nodelet-docker']} (B)`, directB['nodelet-docker'], directB['kubelet-containerd']],
  [`${LABEL['kubelet-containerd']} (B)`, directB['kubelet-containerd'], undefined],
])}

The Docker engine's own floor, interleaved with phase B's direct execs (one per round, the same container): exec
create + start (hijacked) + inspect of \`true\` straight to the private dockerd's socket from the bench process, no
agent, no TLS, no SPDY — p50 create ${ms1(engineFloor.create.p50)}, start ${ms1(engineFloor.start.p50)}, output ended
${ms1(engineFloor.output.p50)} later, inspect ${ms1(engineFloor.inspect.p50)}; whole p50 ${ms1(engineFloor.total.p50)}, p99
${ms1(engineFloor.total.p99)}, min ${ms1(engineFloor.total.min)} (n=${engineFloor.total.n}).

\`kubectl port-forward\`: one HTTP GET of ${SIZE_MIB} MiB through kubectl → API server → agent → pod, one target at a time
(nodelet/containerd and the kubelet in phase A, nodelet/Docker in phase B; "vs upstream" is against the kubelet's row).
CPU is utime+stime (plus reaped children) of each process during the transfer; the kubelet relays the stream to
containerd's CRI streaming server, which dials into the pod's netns; nodelet dials into the pod's netns itself (a
helper process hands it the connected socket, counted as agent) — so agent + runtime is the cost to compare. The idle CPU rate just before (agent / runtime, CPU-s per s) was ${(['nodelet-containerd', 'kubelet-containerd', 'nodelet-docker'] as Target[])
    .map((t) => (pf[t] === undefined ? undefined : `${LABEL[t]} ${pf[t].idleAgent.toFixed(3)} / ${pf[t].idleRuntime.toFixed(3)}`))
    .filter((s) => s !== undefined)
    .join('; ')} (not subtracted).

| target | throughput | agent CPU | runtime CPU | agent + runtime | API server CPU | vs upstream |
| --- | --- | --- | --- | --- | --- | --- |
${pfRow('nodelet-containerd', 'containerd')}
${pfRow('kubelet-containerd', 'containerd')}
${pfRow('nodelet-docker', 'dockerd; the data path is nodelet\'s own socket into the pod netns; its helper counted as agent')}
`;
}

// ---------------------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const facts = machineFacts();
  const startLine = machineLine(facts);
  console.log(startLine);
  const { cluster, caFile, ip, work } = await realClusterBench({ binDir: BIN, kubeconfig: KUBECONFIG, name: `${PREFIX}-bench-streaming`, stack: { onCleanup } });
  onCleanup('cgroups', () => {
    removeCgroupTree(CG_NODELET);
    removeCgroupTree(CG_KUBELET);
  });
  onCleanup('nodes and namespace', async () => {
    await cluster.kubectl(['-n', NS, 'delete', 'pods', '--all', '--grace-period=0', '--force', '--wait=false']);
    await cluster.kubectl(['delete', 'namespace', NS, '--wait=false']);
    await cluster.kubectl(['delete', 'node', NODE_A, NODE_B, '--wait=false']);
  });
  await cluster.kubectl(['delete', 'node', NODE_A, NODE_B, '--wait=false']);
  await cluster.freshNamespace(NS);

  // Phase A: nodelet on containerd (node A) and the upstream kubelet on containerd (node B).
  const ctrdA = await containerd(`${PREFIX}ctr0`, `${NET}.0/26`);
  const ctrdB = await containerd(`${PREFIX}ctr1`, `${NET}.64/26`);
  const nodeletA = await startNodelet(await nodeletArgs(cluster, NODE_A, join(work, 'nodelet-ctrd-root'), `unix://${ctrdA.socketPath}`, caFile, ip), `${PREFIX}-bench-nodelet-ctrd`);
  onCleanup('pods of nodelet/containerd', () => deletePod(cluster, 'nodelet-ctrd', () => sandboxesGone(ctrdA.socketPath)));
  const kubelet = await startUpstreamKubelet(stack, { cluster, binDir: BIN, work, sock: ctrdB.socketPath, caFile, ip, node: NODE_B, port: PORT + 2, cgroupRoot: CG_KUBELET });
  onCleanup('pods of the kubelet', () => deletePod(cluster, 'kubelet-ctrd', () => sandboxesGone(ctrdB.socketPath)));
  await Promise.all([nodeReady(cluster, NODE_A), nodeReady(cluster, NODE_B)]);
  await Promise.all([createPod(cluster, 'nodelet-ctrd', NODE_A), createPod(cluster, 'kubelet-ctrd', NODE_B)]);
  const ctrdPid = containerdPid;
  const running: Record<Target, Running | undefined> = {
    'nodelet-containerd': { pod: 'nodelet-ctrd', port: PORT, agentPid: () => nodeletA.pid, runtimePid: ctrdPid(ctrdA) },
    'kubelet-containerd': { pod: 'kubelet-ctrd', port: PORT + 2, agentPid: () => kubelet.pid ?? 0, runtimePid: ctrdPid(ctrdB) },
    'nodelet-docker': undefined,
  };
  const execA = await execLatencies(cluster, { 'nodelet-containerd': running['nodelet-containerd'], 'kubelet-containerd': running['kubelet-containerd'] });
  const directA = await directLatencies({ 'nodelet-containerd': running['nodelet-containerd'], 'kubelet-containerd': running['kubelet-containerd'] }, ip);
  const pf: Partial<Record<Target, PortForwardResult>> = {};
  pf['nodelet-containerd'] = await portForward(cluster, running['nodelet-containerd'] as Running, PORT + 4);
  pf['kubelet-containerd'] = await portForward(cluster, running['kubelet-containerd'] as Running, PORT + 5);

  // Phase B: nodelet on Docker on node A (nodelet/containerd torn down first), the kubelet still on node B.
  await deletePod(cluster, 'nodelet-ctrd', () => sandboxesGone(ctrdA.socketPath));
  await nodeletA.stop();
  const { engine, pid: dockerdPid } = await privateDockerd(stack, work, `${PREFIX}-bbr0`, `${NET}.129/26`);
  const nodeletD = await startNodelet(await nodeletArgs(cluster, NODE_A, join(work, 'nodelet-docker-root'), `unix://${engine.socket}`, caFile, ip), `${PREFIX}-bench-nodelet-docker`);
  onCleanup('pods of nodelet/Docker', () => deletePod(cluster, 'nodelet-docker', async () => engine.docker(['ps', '-q']) === ''));
  await nodeReady(cluster, NODE_A);
  await createPod(cluster, 'nodelet-docker', NODE_A);
  running['nodelet-docker'] = { pod: 'nodelet-docker', port: PORT, agentPid: () => nodeletD.pid, runtimePid: dockerdPid };
  const execB = await execLatencies(cluster, { 'nodelet-docker': running['nodelet-docker'], 'kubelet-containerd': running['kubelet-containerd'] });
  // The engine's own floor, interleaved with the direct execs: exec create/start/inspect straight to dockerd.
  const engineApi = new Docker({ socketPath: engine.socket });
  const mainId = engine.docker(['ps', '-q', '--filter', 'label=io.nodelet.cri.container-name=main']).trim().split('\n')[0] ?? '';
  const floor = { samples: [] as EngineExecTiming[], run: () => engineExec(engineApi, mainId, ['true']) };
  const directB = await directLatencies({ 'nodelet-docker': running['nodelet-docker'], 'kubelet-containerd': running['kubelet-containerd'] }, ip, floor);
  const engineFloor = summarizeEngine(floor.samples);
  pf['nodelet-docker'] = await portForward(cluster, running['nodelet-docker'], PORT + 6);

  const body = report(startLine, loadText(), execA, execB, pf, directA, directB, engineFloor);
  console.log(body);
  if (WRITE_DOC) writeSubsection('streaming', '## Streaming: exec and port-forward (bench/kubelet-exec.ts, bench/kubelet-exec-vs-upstream.ts, issue 13)', 'streaming:vs-upstream', body);
}

await runBench(main, { cleanup });
