/**
 * Hollow nodes (issue 15 item 4): what one nodelet node costs the control plane, measured like upstream kubemark with
 * many simulated nodes (`nodelet hollow`: the production daemon wiring per node over the in-memory fake runtime)
 * against a REAL v1.33.3 control plane (../shared/k8s/up.sh), and the upstream kubelet v1.33.3 on one node (a private
 * containerd) in the same run for the same steady-state figures.
 *
 * Phases: (0) control plane alone; (K) + the upstream kubelet; then per size N (default 10, 50, 100): N hollow nodes in
 * one process → steady state (requests/s and bytes/s per node from the agents' rest_client_* metrics, cross-checked
 * against the API server's apiserver_request_total / response and watch-event size deltas minus phase K's rates;
 * watches held from apiserver_longrunning_requests{verb="WATCH"}; RSS per node = process RSS / N) → pod churn (a
 * Deployment scaled to PODS_PER_NODE·N pods on the hollow nodes, then to 0). After size 10 a few single-node
 * processes (`nodelet --container-runtime-endpoint=fake://`) give the RSS of one node per process.
 *
 * Environment (scripts/bench.mjs passes no arguments): HOLLOW_K8S_DIR (an up.sh directory whose node-<name>.kubeconfig
 * exist for <prefix>-hollow-001…max and <prefix>-kubelet; default: start one in /tmp/<prefix>-hollow-bench-k8s and stop
 * it afterwards), HOLLOW_PREFIX (h9), HOLLOW_PORT_BASE (21800: the block of 100 ports used), HOLLOW_SUBNET (10.231.9,
 * the /24 of the private containerd), HOLLOW_SIZES (10,50,100), HOLLOW_STEADY_S (120), HOLLOW_PODS_PER_NODE (10),
 * HOLLOW_KUBELET (1; 0 skips the upstream kubelet), NODELET_ENTRY (dist/nodelet.mjs), HOLLOW_NO_DOC=1.
 * Needs root, containerd (for the kubelet) and the upstream binaries (../shared/k8s). Everything it starts is stopped by
 * PID in `finally` and on SIGINT/SIGTERM: processes, Nodes, the namespace, containerd, cgroups, mounts, work dir.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeSubsection } from './lib/docs.js';
import { loadText, machineFacts, machineLine } from './lib/machine.js';
import { statusMB, stopChild } from './lib/proc.js';
import { startPrivateContainerd } from '../src/cri/containerd/testing.js';
import { nodeIP, removeCgroupTree, unmountUnder, writeIsolatedKubeletConfig } from './lib/host.js';
import { cleanupStack, runBench } from './lib/cleanup.js';

const env = process.env;
const PREFIX = env.HOLLOW_PREFIX ?? 'h9';
const PORT = Number(env.HOLLOW_PORT_BASE ?? 21800);
const NET = env.HOLLOW_SUBNET ?? '10.231.9';
const SIZES = (env.HOLLOW_SIZES ?? '10,50,100').split(',').map(Number);
const STEADY_S = Number(env.HOLLOW_STEADY_S ?? 120);
const PODS_PER_NODE = Number(env.HOLLOW_PODS_PER_NODE ?? 10);
const WITH_KUBELET = env.HOLLOW_KUBELET !== '0';
const ENTRY = env.NODELET_ENTRY ?? 'dist/nodelet.mjs';
const NS = `${PREFIX}-hollow-bench`;
const KUBELET_NODE = `${PREFIX}-kubelet`;
const HOLLOW_PREFIX = `${PREFIX}-hollow-`;
const CG_KUBELET = `${PREFIX}-hollow-bench-kubelet`;
const SINGLES = 3;
const SINGLE_S = Number(env.HOLLOW_SINGLE_S ?? 60);
const CHURN_TIMEOUT_S = Number(env.HOLLOW_CHURN_TIMEOUT_S ?? 600);
const MAX = Math.max(...SIZES);
const hollowName = (i: number): string => `${HOLLOW_PREFIX}${String(i).padStart(3, '0')}`;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------------------------
// cleanup stack (reverse order, once, also on signals)

const { onCleanup, forget, cleanup } = cleanupStack();

// ---------------------------------------------------------------------------------------------------------------
// helpers

let K8S = env.HOLLOW_K8S_DIR ?? '';
const kubectlBin = (): string => join(K8S, 'bin', 'kubectl');
function kubectl(args: string[], input?: string): string {
  const r = spawnSync(kubectlBin(), ['--kubeconfig', join(K8S, 'admin.kubeconfig'), ...args], { encoding: 'utf8', input, maxBuffer: 256 * 2 ** 20 });
  if (r.status !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr.trim()}`);
  return r.stdout;
}

/** Prometheus text → samples. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}
function parseProm(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (m === null) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1] ?? ''] = l[2] ?? '';
    out.push({ name: m[1] ?? '', labels, value: Number(m[3]) });
  }
  return out;
}
const sum = (s: Sample[], name: string, filter: (l: Record<string, string>) => boolean = () => true): number =>
  s.filter((x) => x.name === name && filter(x.labels)).reduce((a, x) => a + x.value, 0);

/** What we read at one moment. */
interface Snap {
  t: number;
  agentRequests: number;
  agentRequestBytes: number;
  agentResponseBytes: number;
  agentReceivedBytes: number;
  agentWatches: number;
  apiRequests: number;
  apiResponseBytes: number;
  apiWatchEventBytes: number;
  apiWatches: number;
}

async function scrape(url: string): Promise<Sample[]> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: ${res.status}`);
  return parseProm(await res.text());
}

function apiserverSamples(): Sample[] {
  return parseProm(kubectl(['get', '--raw', '/metrics']));
}

async function snap(agentUrl: string | undefined): Promise<Snap> {
  const a = agentUrl === undefined ? [] : await scrape(agentUrl);
  const s = apiserverSamples();
  return {
    t: Date.now(),
    agentRequests: sum(a, 'rest_client_requests_total'),
    agentRequestBytes: sum(a, 'rest_client_request_size_bytes_sum'),
    agentResponseBytes: sum(a, 'rest_client_response_size_bytes_sum'),
    agentReceivedBytes: sum(a, 'nodelet_rest_client_received_bytes_total'),
    agentWatches: sum(a, 'nodelet_rest_client_watches'),
    apiRequests: sum(s, 'apiserver_request_total'),
    apiResponseBytes: sum(s, 'apiserver_response_sizes_sum'),
    apiWatchEventBytes: sum(s, 'apiserver_watch_events_sizes_sum'),
    apiWatches: sum(s, 'apiserver_longrunning_requests', (l) => l.verb === 'WATCH'),
  };
}

/** Rates per second between two snaps. */
interface Rates {
  secs: number;
  agentReq: number;
  agentSent: number;
  agentResp: number;
  agentRecv: number;
  apiReq: number;
  apiBytes: number;
}
function rates(a: Snap, b: Snap): Rates {
  const secs = (b.t - a.t) / 1000;
  return {
    secs,
    agentReq: (b.agentRequests - a.agentRequests) / secs,
    agentSent: (b.agentRequestBytes - a.agentRequestBytes) / secs,
    agentResp: (b.agentResponseBytes - a.agentResponseBytes) / secs,
    agentRecv: (b.agentReceivedBytes - a.agentReceivedBytes) / secs,
    apiReq: (b.apiRequests - a.apiRequests) / secs,
    apiBytes: (b.apiResponseBytes - a.apiResponseBytes + b.apiWatchEventBytes - a.apiWatchEventBytes) / secs,
  };
}

async function waitFor(what: string, timeoutMs: number, check: () => boolean | Promise<boolean>): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    if (await check()) return Date.now() - t0;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(1000);
  }
}

function readyNodes(prefix: string): number {
  const out = kubectl(['get', 'nodes', '-o', 'jsonpath={range .items[*]}{.metadata.name} {.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}']);
  return out.split('\n').filter((l) => l.startsWith(prefix) && l.endsWith(' True')).length;
}

/** RSS (MB) of a process and, separately, of its direct children (the root-dir lock helpers). */
function rssWithChildren(pid: number): { self: number; children: number } {
  let children = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    const list = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
    for (const c of list === '' ? [] : list.split(' ')) children += statusMB(Number(c), 'VmRSS') || 0;
  }
  return { self: statusMB(pid, 'VmRSS'), children };
}


function spawnLogged(cmd: string, args: string[], log: string): ChildProcess {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const out = createWriteStream(log);
  child.stdout?.pipe(out);
  child.stderr?.pipe(out);
  return child;
}

// ---------------------------------------------------------------------------------------------------------------
// phases

/** The upstream kubelet on a private containerd (own cgroupRoot, podLogsDir, rootDir; metrics on the read-only port). */
async function startKubelet(work: string, ip: string): Promise<{ child: ChildProcess; metricsUrl: string; containerdPid: () => number }> {
  const bin = join(K8S, 'bin', 'kubelet');
  if (!existsSync(bin)) {
    const r = spawnSync('bash', [join(process.cwd(), '..', 'shared', 'k8s', 'extract.sh'), 'kubelet'], { env: { ...env, K8S_BIN_DIR: join(K8S, 'bin') }, stdio: 'inherit' });
    if (r.status !== 0) throw new Error('cannot extract the upstream kubelet');
  }
  const ctrd = await startPrivateContainerd({ bridge: `${PREFIX}ctr0`, subnet: `${NET}.0/25` });
  onCleanup('containerd', () => ctrd.stop());
  const { config, root } = writeIsolatedKubeletConfig({
    work,
    port: PORT + 60,
    healthzPort: PORT + 61,
    readOnlyPort: PORT + 62,
    address: '127.0.0.1',
    cgroupRoot: CG_KUBELET,
    clientCAFile: join(K8S, 'pki', 'ca.crt'),
  });
  onCleanup('kubelet cgroups', () => removeCgroupTree(CG_KUBELET));
  const child = spawnLogged(
    bin,
    [`--kubeconfig=${join(K8S, `node-${KUBELET_NODE}.kubeconfig`)}`, `--config=${config}`, `--hostname-override=${KUBELET_NODE}`, `--node-ip=${ip}`, `--root-dir=${root}`, `--container-runtime-endpoint=unix://${ctrd.socketPath}`, '-v=1'],
    join(work, 'kubelet.log'),
  );
  onCleanup('kubelet', async () => {
    await stopChild(child);
    unmountUnder(root);
    kubectl(['delete', 'node', KUBELET_NODE, '--ignore-not-found', '--wait=false']);
  });
  console.log(`upstream kubelet pid ${String(child.pid)}, log ${join(work, 'kubelet.log')}`);
  await waitFor('the kubelet node Ready', 180_000, () => readyNodes(KUBELET_NODE) === 1);
  return { child, metricsUrl: `http://127.0.0.1:${PORT + 62}/metrics`, containerdPid: () => Number(readFileSync(join(ctrd.dir, 'containerd.pid'), 'utf8').trim()) };
}

const hollowArgs = ['--node-labels=nodelet.io/hollow=true', '--fail-swap-on=false', '--eviction-hard=memory.available<100Mi', '--image-gc-high-threshold=100'];

function deleteHollowNodes(): void {
  kubectl(['delete', 'nodes', '-l', 'nodelet.io/hollow=true', '--wait=false']);
}

interface SizeResult {
  n: number;
  startMs: number;
  steady: Rates;
  watchesAgent: number;
  watchesApi: number;
  rss: { self: number; children: number };
  heapNote: string;
  churn: { pods: number; upMs: number; reached: { running: number; ready: number }; downMs: number; rates: Rates; requestsPerNode: number; recvPerNode: number; sentPerNode: number };
}

async function runSize(work: string, n: number, base: { rates: Rates; watches: number }): Promise<SizeResult> {
  const metricsUrl = `http://127.0.0.1:${PORT + 50}/metrics`;
  const t0 = Date.now();
  const child = spawnLogged(
    'node',
    [ENTRY, 'hollow', `--count=${n}`, `--name-prefix=${HOLLOW_PREFIX}`, `--kubeconfig-dir=${K8S}`, `--root-dir=${join(work, `hollow-${n}`)}`, `--metrics-port=${PORT + 50}`, '--log-level=warn', '--', ...hollowArgs],
    join(work, `hollow-${n}.log`),
  );
  const stop = async (): Promise<void> => {
    await stopChild(child);
    deleteHollowNodes();
  };
  onCleanup(`hollow ${n}`, stop);
  try {
    await waitFor(`${n} hollow nodes Ready`, 600_000, () => {
      if (child.exitCode !== null) throw new Error(`nodelet hollow exited (${String(child.exitCode)}); see ${join(work, `hollow-${n}.log`)}`);
      return readyNodes(HOLLOW_PREFIX) === n;
    });
    const startMs = Date.now() - t0;
    console.log(`${n} hollow nodes Ready after ${startMs} ms; warming up 20 s`);
    await sleep(20_000);
    const a = await snap(metricsUrl);
    await sleep(STEADY_S * 1000);
    const b = await snap(metricsUrl);
    const steady = rates(a, b);
    const rss = rssWithChildren(child.pid ?? 0);
    const watchesApi = (b.apiWatches - base.watches) / n;
    console.log(`N=${n} steady`, steady, { rss, watchesAgent: b.agentWatches / n, watchesApi });
    // churn
    const pods = n * PODS_PER_NODE;
    const c0 = await snap(metricsUrl);
    kubectl(['-n', NS, 'scale', 'deployment/churn', `--replicas=${pods}`]);
    // Up: every pod Running with its container ready (the agents' own report); Ready as the Deployment sees it is
    // recorded too (the node lifecycle controller may have turned it False meanwhile).
    const counts = (): { running: number; ready: number } => {
      const lines = kubectl(['-n', NS, 'get', 'pods', '-o', 'jsonpath={range .items[*]}{.status.phase} {.status.containerStatuses[0].ready} {.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}']).split('\n');
      return { running: lines.filter((l) => l.startsWith('Running true')).length, ready: lines.filter((l) => l.endsWith(' True')).length };
    };
    let upMs = Number.NaN;
    try {
      upMs = await waitFor(`${pods} churn pods running`, CHURN_TIMEOUT_S * 1000, () => counts().running === pods);
    } catch (err) {
      console.log(`N=${n} churn: ${String(err)}`);
    }
    const reached = counts();
    kubectl(['-n', NS, 'scale', 'deployment/churn', '--replicas=0']);
    const downMs = await waitFor('churn pods gone', CHURN_TIMEOUT_S * 1000, () => kubectl(['-n', NS, 'get', 'pods', '-o', 'name']).trim() === '');
    const c1 = await snap(metricsUrl);
    const cr = rates(c0, c1);
    console.log(`N=${n} churn: up ${upMs} ms, down ${downMs} ms`, cr);
    return {
      n,
      startMs,
      steady,
      watchesAgent: b.agentWatches / n,
      watchesApi,
      rss,
      heapNote: '',
      churn: {
        pods,
        upMs,
        reached,
        downMs,
        rates: cr,
        requestsPerNode: (c1.agentRequests - c0.agentRequests) / n,
        recvPerNode: (c1.agentReceivedBytes - c0.agentReceivedBytes) / n,
        sentPerNode: (c1.agentRequestBytes - c0.agentRequestBytes) / n,
      },
    };
  } finally {
    forget(`hollow ${n}`);
    await stop();
    await waitFor('hollow nodes deleted', 120_000, () => !kubectl(['get', 'nodes', '-o', 'name']).includes(HOLLOW_PREFIX));
  }
}

/** A few single-node processes: RSS of one node per process. */
async function singles(work: string): Promise<{ rss: number[]; reqPerS: number[] }> {
  const kids: ChildProcess[] = [];
  try {
    for (let i = 0; i < SINGLES; i++) {
      const name = hollowName(MAX - i);
      const child = spawnLogged(
        'node',
        [ENTRY, `--kubeconfig=${join(K8S, `node-${name}.kubeconfig`)}`, `--hostname-override=${name}`, `--root-dir=${join(work, `single-${name}`)}`, '--container-runtime-endpoint=fake://', `--port=${PORT + 75 + i}`, `--healthz-port=${PORT + 70 + i}`, '--roles=kubelet', ...hollowArgs],
        join(work, `single-${name}.log`),
      );
      kids.push(child);
    }
    await waitFor('single-node processes Ready', 180_000, () => readyNodes(HOLLOW_PREFIX) === SINGLES);
    await sleep(15_000);
    const a = await Promise.all(kids.map((_, i) => scrape(`http://127.0.0.1:${PORT + 70 + i}/metrics`)));
    await sleep(SINGLE_S * 1000);
    const b = await Promise.all(kids.map((_, i) => scrape(`http://127.0.0.1:${PORT + 70 + i}/metrics`)));
    const r = {
      rss: kids.map((k) => statusMB(k.pid ?? 0, 'VmRSS')),
      reqPerS: kids.map((_, i) => (sum(b[i] ?? [], 'rest_client_requests_total') - sum(a[i] ?? [], 'rest_client_requests_total')) / SINGLE_S),
    };
    console.log('single-node processes', r);
    return r;
  } finally {
    await Promise.all(kids.map((k) => stopChild(k)));
    deleteHollowNodes();
    await waitFor('single nodes deleted', 120_000, () => !kubectl(['get', 'nodes', '-o', 'name']).includes(HOLLOW_PREFIX));
  }
}

// ---------------------------------------------------------------------------------------------------------------
// report

const f1 = (v: number): string => v.toFixed(1);
const f2 = (v: number): string => v.toFixed(2);
const kb = (v: number): string => `${(v / 1024).toFixed(2)} KiB`;

function report(start: string, endLoad: string, kubelet: { r: Rates; watches: number; rss: number; ctrdRss: number } | undefined, results: SizeResult[], single: { rss: number[]; reqPerS: number[] } | undefined, base: Rates, controlPlane: Rates): string {
  const rows = results.map((r) => {
    const s = r.steady;
    const apiPerNode = (s.apiReq - base.apiReq) / r.n;
    const apiBytesPerNode = (s.apiBytes - base.apiBytes) / r.n;
    return `| nodelet hollow ×${r.n} | ${f2(s.agentReq / r.n)} | ${f2(apiPerNode)} | ${kb(s.agentSent / r.n)}/s | ${kb(s.agentResp / r.n)}/s | ${kb(s.agentRecv / r.n)}/s | ${kb(apiBytesPerNode)}/s | ${f1(r.watchesAgent)} / ${f1(r.watchesApi)} | ${f1(r.rss.self / r.n)} MB (+${f1(r.rss.children / r.n)}) |`;
  });
  const k = kubelet;
  const kubeletRow =
    k === undefined
      ? '| upstream kubelet v1.33.3 ×1 | not run | | | | | | | |'
      : `| upstream kubelet v1.33.3 ×1 | ${f2(k.r.agentReq)} | ${f2(k.r.apiReq - controlPlane.apiReq)} | ${kb(k.r.agentSent)}/s | ${kb(k.r.agentResp)}/s | n/a | ${kb(k.r.apiBytes - controlPlane.apiBytes)}/s | — / ${f1(k.watches)} | ${f1(k.rss)} MB (containerd ${f1(k.ctrdRss)} MB) |`;
  const churnRows = results.map(
    (r) =>
      `| ×${r.n} | ${r.churn.pods} | ${Number.isNaN(r.churn.upMs) ? `timeout ${CHURN_TIMEOUT_S} s (${r.churn.reached.running} running)` : `${f1(r.churn.upMs / 1000)} s`} / ${f1(r.churn.downMs / 1000)} s | ${r.churn.reached.ready} | ${f1(r.churn.requestsPerNode)} (${f2(r.churn.requestsPerNode / PODS_PER_NODE)} per pod) | ${f2(r.churn.rates.agentReq / r.n)} | ${kb(r.churn.sentPerNode)} / ${kb(r.churn.recvPerNode)} | ${f1(r.churn.rates.apiReq)} |`,
  );
  return `### Hollow nodes: what a node costs the control plane (bench/hollow-nodes.ts)

\`npm run bench -- hollow-nodes\` — one run: ${start}; load at end ${endLoad}. The machine is shared with other engineers' test runs
(see the load averages), so the run is short: ${STEADY_S} s of steady state per size after 20 s of warm-up.
A real control plane v1.33.3 (../shared/k8s/up.sh, its own etcd/API server/controller-manager/scheduler); N hollow
nodes are ONE \`nodelet hollow --count=N\` process (each node its own identity \`system:node:<name>\`, API clients, node
agent, pod informer, pod workers, status writer, event recorder; fake runtime, no cgroups, no kubelet API); the upstream
kubelet v1.33.3 runs on one node on a private containerd in the same run (it holds no pods).

Steady state, per node. Agent columns come from the agents' own client metrics (\`rest_client_requests_total\`,
\`rest_client_request_size_bytes\`, \`rest_client_response_size_bytes\` — Content-Length only, as client-go: no watch
stream bytes — and nodelet's \`nodelet_rest_client_received_bytes_total\`, all body bytes including watch events). API
server columns are deltas of \`apiserver_request_total\` and of \`apiserver_response_sizes_sum\` +
\`apiserver_watch_events_sizes_sum\`, minus the rates measured before the nodes started (control plane + kubelet), divided
by N: the cross-check (for the kubelet: minus the control plane alone). Small N is within the control plane's own
noise. Watches: the agents' \`nodelet_rest_client_watches\` / the increase of
\`apiserver_longrunning_requests{verb="WATCH"}\` per node. RSS: process VmRSS / N (+ the per-node \`flock\` helper holding
the root-dir lock).

| agent | req/s (agent) | req/s (API server) | sent | received (Content-Length) | received (all) | API server sent | watches (agent / API server) | RSS per node |
|---|---|---|---|---|---|---|---|---|
${kubeletRow}
${rows.join('\n')}

${single === undefined ? '' : `One node per process (\`nodelet --container-runtime-endpoint=fake://\`, ${SINGLES} processes, ${SINGLE_S} s): RSS ${single.rss.map((v) => `${f1(v)} MB`).join(', ')}; ${single.reqPerS.map(f2).join(', ')} req/s each.\n`}
Pod churn: a Deployment (testbox image, \`sleep infinity\`, default service account token) scaled to ${PODS_PER_NODE} pods per hollow node,
until all are Ready, then to 0 until all are gone:

| nodes | pods | up (all Running, container ready) / down | Ready at the end of up | agent requests per node | agent req/s per node | sent / received per node | API server req/s (all clients) |
|---|---|---|---|---|---|---|---|
${churnRows.join('\n')}

API server request rate with no node: ${f1(controlPlane.apiReq)} req/s; with the upstream kubelet: ${f1(base.apiReq)} req/s.
`;
}

async function main(): Promise<void> {
  const facts = machineFacts();
  const start = machineLine(facts);
  console.log(start);
  const work = join(tmpdir(), `${PREFIX}-hollow-bench-${process.pid}`);
  mkdirSync(work, { recursive: true });
  onCleanup('work dir', () => {
    unmountUnder(work);
    spawnSync('rm', ['-rf', '--one-file-system', work]);
  });
  if (K8S === '') {
    K8S = join(tmpdir(), `${PREFIX}-hollow-bench-k8s`);
    const names = [KUBELET_NODE, ...Array.from({ length: MAX }, (_, i) => hollowName(i + 1))].join(' ');
    const upEnv = { ...env, K8S_NODES: names, K8S_PORT: String(PORT), ETCD_PORT: String(PORT + 1), ETCD_PEER_PORT: String(PORT + 2), KCM_PORT: String(PORT + 3), SCHED_PORT: String(PORT + 4) };
    const up = join(process.cwd(), '..', 'shared', 'k8s', 'up.sh');
    onCleanup('control plane', () => void spawnSync('bash', [up, '--down', K8S], { stdio: 'inherit' }));
    if (spawnSync('bash', [up, K8S], { env: upEnv, stdio: 'inherit' }).status !== 0) throw new Error('up.sh failed');
  }
  kubectl(['create', 'namespace', NS]);
  onCleanup('namespace', () => void kubectl(['delete', 'namespace', NS, '--wait=false']));
  kubectl(
    ['apply', '-f', '-'],
    `apiVersion: apps/v1
kind: Deployment
metadata: {name: churn, namespace: ${NS}}
spec:
  replicas: 0
  selector: {matchLabels: {app: churn}}
  template:
    metadata: {labels: {app: churn}}
    spec:
      nodeSelector: {nodelet.io/hollow: "true"}
      terminationGracePeriodSeconds: 1
      containers: [{name: c, image: localhost/nodelet/testbox:1.0, imagePullPolicy: IfNotPresent, command: [sleep, infinity]}]
`,
  );
  // (0) the control plane alone, then (K) with the upstream kubelet.
  await sleep(10_000);
  const z0 = await snap(undefined);
  await sleep(60_000);
  const z1 = await snap(undefined);
  const controlPlane = rates(z0, z1);
  let base = controlPlane;
  let baseWatches = z1.apiWatches;
  let kubelet: { r: Rates; watches: number; rss: number; ctrdRss: number } | undefined;
  if (WITH_KUBELET) {
    const k = await startKubelet(work, nodeIP());
    await sleep(20_000);
    const a = await snap(k.metricsUrl);
    await sleep(STEADY_S * 1000);
    const b = await snap(k.metricsUrl);
    const r = rates(a, b);
    kubelet = { r, watches: b.apiWatches - z1.apiWatches, rss: statusMB(k.child.pid ?? 0, 'VmRSS'), ctrdRss: statusMB(k.containerdPid(), 'VmRSS') };
    console.log('upstream kubelet steady', kubelet);
    base = { ...r, agentReq: 0, agentSent: 0, agentResp: 0, agentRecv: 0 };
    baseWatches = b.apiWatches;
  }
  const results: SizeResult[] = [];
  let single: { rss: number[]; reqPerS: number[] } | undefined;
  for (const n of SIZES) {
    results.push(await runSize(work, n, { rates: base, watches: baseWatches }));
    if (single === undefined) single = await singles(work);
  }
  const body = report(start, loadText(), kubelet, results, single, base, controlPlane);
  console.log(body);
  if (env.HOLLOW_NO_DOC !== '1') writeSubsection('network', '## Pod network (issue 15)', 'network:hollow-nodes', body);
}

await runBench(main, { cleanup });
