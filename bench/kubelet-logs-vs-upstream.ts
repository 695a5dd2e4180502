/**
 * Container log benchmark against the upstream kubelet (issue 13), in one run on one machine, through the REAL API
 * server (../shared/k8s, v1.33.3) with kubectl v1.33.3: `kubectl logs` of a 100 MiB log (whole: wall time, the agent's
 * peak RSS and CPU during the call, the bytes it read) and `kubectl logs --tail=100` (p50/p99 on the 100 MiB log and on
 * a 1 MB log, and the bytes the agent — or for Docker the engine — read: O(tail), not O(file)).
 *
 * Each target runs two pods of localhost/nodelet/testbox:1.0 (busybox) that write 100 MiB / 1 MB of 100-byte lines to
 * stdout, then `DONE`, then sleep. Targets: (a) nodelet on a private containerd, (b) the upstream kubelet v1.33.3 on its
 * own private containerd, (c) nodelet on a private dockerd. Phase A runs (a) and (b) side by side, phase B (c) beside
 * (b); the calls are interleaved round-robin between the phase's two targets so the load of this shared machine hits
 * both alike. Both agents get containerLogMaxSize 500Mi so nothing is rotated away.
 *
 * `--baseline-entry=<bundle>` adds, per runtime, a phase with nodelet restarted from that bundle on the same root dir
 * (the pods keep running) before the phase with $NODELET_ENTRY: a before/after comparison within one run.
 *
 * In phase B the Docker engine's own log endpoint is measured too (curl on the private dockerd's socket, the
 * multiplexed stream to /dev/null): the floor of any agent that relays it.
 *
 * Usage: tsx bench/kubelet-logs-vs-upstream.ts [--kubeconfig=/tmp/k8s-real/admin.kubeconfig] [--runs=3] [--tail-runs=15]
 *        [--nodes=h1-a,h1-b] [--prefix=h1] [--port-base=21000] [--subnet=10.231.1] [--baseline-entry=<bundle>]
 *        [--only=containerd|docker] [--no-doc]
 * Needs root, containerd, dockerd and the local images (scripts/images/build.sh). The nodelet bundle is $NODELET_ENTRY
 * or dist/nodelet.mjs. Ports: port-base +0/+1 nodelet, +2/+3 the kubelet.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { writeSubsection } from './lib/docs.js';
import { loadText, machineFacts, machineLine } from './lib/machine.js';
import { statusMB } from './lib/proc.js';
import { summarize, type Summary } from './lib/stats.js';
import { waitFor, type Cluster, type NodeletProcess } from '../test/e2e/harness/index.js';
import { realClusterBench, removeCgroupTree } from './lib/host.js';
import { cleanupStack, runBench } from './lib/cleanup.js';
import {
  cpuWithChildren,
  deletePod,
  nodeletArgs,
  nodeReady,
  privateContainerd,
  privateDockerd,
  readPid,
  sandboxesGone,
  startNodelet,
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
const RUNS = Number(arg('runs') ?? 3);
const TAIL_RUNS = Number(arg('tail-runs') ?? 15);
const BASELINE = arg('baseline-entry');
const ONLY = arg('only');
const NS = `${PREFIX}-bench-logs`;
const IMAGE = 'localhost/nodelet/testbox:1.0';
const CG_NODELET = `${PREFIX}-bench-nodelet`;
const CG_KUBELET = `${PREFIX}-bench-kubelet`;
const LOG_MAX = '500Mi';
const BIG = 100 * 2 ** 20;
const SMALL = 1_000_000; // whole 100-byte lines, like BIG
const LINE = 'x'.repeat(99);
/** What `kubectl logs` prints: the lines, then `DONE\n`. */
const expected = (bytes: number): number => bytes + 5;
const TAIL_BYTES = 99 * 100 + 5;

type Kind = AgentKind;
const LABEL = AGENT_LABEL;

/** One measured agent: its pods and the processes whose cost counts. */
interface Target {
  kind: Kind;
  /** Row label (with the bundle for nodelet). */
  label: string;
  pod: string;
  agentPid: () => number;
  /** The engine that reads the log for the agent (Docker), counted apart. */
  enginePid?: () => number;
}

interface WholeSample {
  ms: number;
  bytes: number;
  /** Agent VmRSS before and VmHWM during (peak reset first), MB. */
  rssBefore: number;
  hwm: number;
  agentCpu: number;
  engineCpu: number;
  engineHwm: number;
  apiserverCpu: number;
  /** Bytes the agent read (rchar: files and sockets). */
  agentRead: number;
}

interface TailSample {
  ms: number;
  /** rchar of the agent during the call. */
  read: number;
  /** rchar of the engine (Docker) during the call. */
  engineRead: number;
}

interface Result {
  target: Target;
  phase: string;
  whole: WholeSample[];
  tailBig: TailSample[];
  tailSmall: TailSample[];
}

/** What the numbers come from (written under the tables). */
const NOTES = `
Where the time goes. Upstream's log handler wraps the response in a flush-on-every-write writer and the CRI log reader
writes line by line, so the kubelet sends one HTTP chunk and TLS record per log line: seconds of kubelet CPU per
100 MiB, and of API server CPU too (it receives a million chunks).
nodelet wrote line by line too (one response write, chunk header and promise per line, a regular expression and a
Date.parse per record; its socket batched the writes into fewer TLS records, so the API server's share was smaller) and,
with its small young generation (--max-semi-space-size=1), paid for the per-line garbage in scavenges. It now parses records by index, parses a line's time only for a since filter, and writes the lines of each
64 KiB file read as one response write (src/kubelet/server/api/log-file.ts, container-logs.ts,
src/cri/containerd/logs.ts). On Docker the engine flushes every log message as its own HTTP chunk (a million 108-byte
\`data\` events for 100 MiB); nodelet now takes everything buffered at each wake-up and writes it as one chunk
(src/kubelet/server/api/docker-logs.ts); the time is then the engine's (dockerd reads its json-file, decodes a JSON
object per line and spends ~7 s of CPU per 100 MiB; its own endpoint is the floor above).
\`--tail=100\` reads one 64 KiB block backwards on containerd (nodelet) and a few KiB on Docker (the engine reads its
json-file backwards): the same bytes for the 100 MiB and the 1 MB log, and the same time.
Memory: each nodelet is a process started for its phase while the kubelet runs throughout, so nodelet's peak includes
its heap growing on its first large read; reads are 64 KiB and wait for the client, whatever the log size.
`;

const stack = cleanupStack();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------------------------
// /proc

const rchar = (pid: number): number => Number(/^rchar:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))?.[1] ?? Number.NaN);
/** Resets VmHWM to the current RSS. */
const resetPeak = (pid: number): void => writeFileSync(`/proc/${pid}/clear_refs`, '5');

// ---------------------------------------------------------------------------------------------------------------
// pods and kubectl

function podManifest(name: string, node: string, bytes: number): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS },
    spec: {
      nodeName: node,
      terminationGracePeriodSeconds: 1,
      containers: [{ name: 'main', image: IMAGE, command: ['sh', '-c', `yes ${LINE} | head -c ${bytes}; echo DONE; exec sleep 36000`] }],
    },
  });
}

/** `kubectl logs <args>`, stdout counted (and its tail kept); wall time in ms. */
function kubectlLogs(cluster: Cluster, args: string[]): Promise<{ ms: number; bytes: number; last: string }> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn('kubectl', ['--kubeconfig', cluster.kubeconfigPath, '-n', NS, 'logs', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let bytes = 0;
    let tail = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      bytes += d.length;
      tail = (tail + d.subarray(-200).toString('latin1')).slice(-200);
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (code === 0) resolve({ ms, bytes, last: tail.trimEnd().split('\n').pop() ?? '' });
      else reject(new Error(`kubectl logs ${args.join(' ')} exited ${String(code)}: ${err.trim()}`));
    });
  });
}

async function createLogPods(cluster: Cluster, base: string, node: string): Promise<void> {
  for (const [suffix, bytes] of [['big', BIG], ['small', SMALL]] as const) await cluster.kubectlOk(['create', '-f', '-'], { input: podManifest(`${base}-${suffix}`, node, bytes) });
  for (const suffix of ['big', 'small']) await waitPodReady(cluster, NS, `${base}-${suffix}`);
}

/** Waits until both pods of `base` wrote their whole log (the last line is DONE). */
async function logsWritten(cluster: Cluster, base: string): Promise<void> {
  for (const suffix of ['big', 'small']) {
    await waitFor(async () => (await kubectlLogs(cluster, [`${base}-${suffix}`, '--tail=1']).catch(() => undefined))?.last === 'DONE', {
      timeoutMs: 300_000,
      intervalMs: 2000,
      description: `${base}-${suffix} wrote its log`,
    });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// the measurements

async function whole(cluster: Cluster, t: Target, apiserverPid: number): Promise<WholeSample> {
  const agent = t.agentPid();
  const engine = t.enginePid?.();
  await sleep(1000); // let the previous call's garbage settle
  resetPeak(agent);
  if (engine !== undefined) resetPeak(engine);
  const rssBefore = statusMB(agent, 'VmRSS');
  const a0 = cpuWithChildren(agent);
  const e0 = engine === undefined ? 0 : cpuWithChildren(engine);
  const api0 = cpuWithChildren(apiserverPid);
  const r0 = rchar(agent);
  const r = await kubectlLogs(cluster, [`${t.pod}-big`]);
  const s: WholeSample = {
    ms: r.ms,
    bytes: r.bytes,
    rssBefore,
    hwm: statusMB(agent, 'VmHWM'),
    agentCpu: cpuWithChildren(agent) - a0,
    engineCpu: engine === undefined ? 0 : cpuWithChildren(engine) - e0,
    engineHwm: engine === undefined ? Number.NaN : statusMB(engine, 'VmHWM'),
    apiserverCpu: cpuWithChildren(apiserverPid) - api0,
    agentRead: rchar(agent) - r0,
  };
  if (r.bytes !== expected(BIG) || r.last !== 'DONE') throw new Error(`kubectl logs ${t.pod}-big: ${r.bytes} bytes ending ${JSON.stringify(r.last)}, expected ${expected(BIG)} ending DONE`);
  console.log(
    `whole ${t.label}: ${(r.ms / 1000).toFixed(2)} s, RSS ${rssBefore.toFixed(0)} → peak ${s.hwm.toFixed(0)} MB, CPU agent ${s.agentCpu.toFixed(2)} s engine ${s.engineCpu.toFixed(2)} s API server ${s.apiserverCpu.toFixed(2)} s, agent read ${(s.agentRead / 2 ** 20).toFixed(1)} MiB`,
  );
  return s;
}

async function tail(cluster: Cluster, t: Target, size: 'big' | 'small'): Promise<TailSample> {
  const agent = t.agentPid();
  const engine = t.enginePid?.();
  const read0 = rchar(agent);
  const e0 = engine === undefined ? 0 : rchar(engine);
  const r = await kubectlLogs(cluster, [`${t.pod}-${size}`, '--tail=100']);
  const read = rchar(agent) - read0;
  const engineRead = engine === undefined ? 0 : rchar(engine) - e0;
  if (r.bytes !== TAIL_BYTES || r.last !== 'DONE') throw new Error(`kubectl logs --tail=100 ${t.pod}-${size}: ${r.bytes} bytes, expected ${TAIL_BYTES}`);
  return { ms: r.ms, read, engineRead };
}

/** The phase's measurements, interleaved round-robin between its targets. */
async function measurePhase(cluster: Cluster, phase: string, targets: Target[]): Promise<Result[]> {
  const apiserverPid = readPid(join(dirname(KUBECONFIG), 'run', 'apiserver.pid'));
  const res: Result[] = targets.map((target) => ({ target, phase, whole: [], tailBig: [], tailSmall: [] }));
  for (let i = 0; i < RUNS; i++) for (const r of res) r.whole.push(await whole(cluster, r.target, apiserverPid));
  for (let i = -2; i < TAIL_RUNS; i++) {
    for (const r of res) {
      const big = await tail(cluster, r.target, 'big');
      const small = await tail(cluster, r.target, 'small');
      if (i >= 0) {
        r.tailBig.push(big);
        r.tailSmall.push(small);
      }
    }
  }
  for (const r of res) {
    const b = summarize(r.tailBig.map((s) => s.ms));
    const s = summarize(r.tailSmall.map((x) => x.ms));
    console.log(`tail ${r.target.label}: 100 MiB log p50 ${b.p50.toFixed(0)} ms p99 ${b.p99.toFixed(0)} ms; 1 MB log p50 ${s.p50.toFixed(0)} ms p99 ${s.p99.toFixed(0)} ms`);
  }
  return res;
}

/** The engine's own endpoint: curl on the private dockerd's socket, whole (3 runs) and tail=100. */
function engineFloor(socket: string, id: string, query: string): { ms: number; bytes: number } {
  const r = spawnSync('curl', ['-sS', '--unix-socket', socket, '-o', '/dev/null', '-w', '%{size_download} %{time_total}', `http://docker/containers/${id}/logs?${query}`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`curl engine logs: ${r.stderr}`);
  const [bytes = '0', secs = '0'] = r.stdout.trim().split(' ');
  return { ms: Number(secs) * 1000, bytes: Number(bytes) };
}

// ---------------------------------------------------------------------------------------------------------------
// report

const s2 = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
const ratio = (a: number, b: number): string => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}×` : 'n/a');
const med = (v: number[]): number => summarize(v).p50;
const containerdVersion = (): string => spawnSync('containerd', ['--version'], { encoding: 'utf8' }).stdout.trim().split(' ')[2] ?? '?';
const kib = (b: number): string => `${(b / 1024).toFixed(0)} KiB`;

interface Floor {
  whole: { ms: number; bytes: number }[];
  tail: Summary;
}

function report(startLine: string, endLoad: string, results: Result[], floor: Floor | undefined, notes: string): string {
  const kubeletOf = (phase: string): Result | undefined => results.find((r) => r.phase === phase && r.target.kind === 'kubelet-containerd');
  const wholeRow = (r: Result): string => {
    const k = kubeletOf(r.phase);
    const ms = med(r.whole.map((w) => w.ms));
    const hwm = Math.max(...r.whole.map((w) => w.hwm));
    const cpu = med(r.whole.map((w) => w.agentCpu + w.engineCpu));
    const vs =
      k === undefined || k === r
        ? '—'
        : `${ratio(ms, med(k.whole.map((w) => w.ms)))} time, ${ratio(hwm, Math.max(...k.whole.map((w) => w.hwm)))} peak RSS, ${ratio(cpu, med(k.whole.map((w) => w.agentCpu + w.engineCpu)))} CPU`;
    const engine = r.target.enginePid === undefined ? '—' : `${med(r.whole.map((w) => w.engineCpu)).toFixed(2)} s (peak RSS ${Math.max(...r.whole.map((w) => w.engineHwm)).toFixed(0)} MB)`;
    return `| ${r.target.label} (${r.phase}) | ${r.whole.map((w) => s2(w.ms)).join(', ')} | ${s2(ms)} | ${Math.min(...r.whole.map((w) => w.rssBefore)).toFixed(0)} → ${hwm.toFixed(0)} MB | ${med(r.whole.map((w) => w.agentCpu)).toFixed(2)} s | ${engine} | ${med(r.whole.map((w) => w.apiserverCpu)).toFixed(2)} s | ${vs} |`;
  };
  const tailRow = (r: Result): string => {
    const k = kubeletOf(r.phase);
    const b = summarize(r.tailBig.map((s) => s.ms));
    const s = summarize(r.tailSmall.map((x) => x.ms));
    const vs = k === undefined || k === r ? '—' : `${ratio(b.p50, summarize(k.tailBig.map((x) => x.ms)).p50)} / ${ratio(b.p99, summarize(k.tailBig.map((x) => x.ms)).p99)}`;
    const engine = r.target.enginePid === undefined ? '—' : `${kib(med(r.tailBig.map((x) => x.engineRead)))} / ${kib(med(r.tailSmall.map((x) => x.engineRead)))}`;
    return `| ${r.target.label} (${r.phase}) | ${b.p50.toFixed(0)} / ${b.p99.toFixed(0)} ms | ${s.p50.toFixed(0)} / ${s.p99.toFixed(0)} ms | ${kib(med(r.tailBig.map((x) => x.read)))} / ${kib(med(r.tailSmall.map((x) => x.read)))} | ${engine} | ${vs} |`;
  };
  const bytes = results[0]?.whole[0]?.bytes ?? 0;
  const floorText =
    floor === undefined
      ? ''
      : `\nThe Docker engine's own log endpoint (curl on the private dockerd's socket, \`GET /containers/<id>/logs?stdout=1&stderr=1\`, the multiplexed
stream to /dev/null; no agent, no TLS, no API server), right after phase B's calls: whole ${floor.whole.map((f) => s2(f.ms)).join(', ')} (${(
          (floor.whole[0]?.bytes ?? 0) /
          2 ** 20
        ).toFixed(1)} MiB with the 8-byte frame headers); \`tail=100\` p50 ${floor.tail.p50.toFixed(1)} ms, p99 ${floor.tail.p99.toFixed(1)} ms.\n`;
  return `### Against the upstream kubelet (bench/kubelet-logs-vs-upstream.ts)

\`npx tsx bench/kubelet-logs-vs-upstream.ts\` — one run: ${startLine}; load at end ${endLoad}. Real API server v1.33.3
(../shared/k8s), kubectl v1.33.3. Each target runs two pods of localhost/nodelet/testbox:1.0 (busybox: \`yes\` of a
100-byte line piped to \`head -c\`, then \`DONE\`, then sleep) writing 100 MiB and 1 MB of stdout: nodelet on a private
containerd (${containerdVersion()}), the upstream kubelet v1.33.3 on its own private containerd (same version and
config, cgroupfs), nodelet on a private dockerd (json-file). containerLogMaxSize ${LOG_MAX} for both agents (nothing is
rotated away). Phase A runs nodelet/containerd beside the kubelet, phase B nodelet/Docker beside the kubelet${BASELINE === undefined ? '' : '; phases marked "before" run the same nodelet root restarted from the bundle before the change (same pods)'};
within a phase the calls alternate between the two agents. The machine is shared (2 cores, another session's
benchmarks running): absolute times are noisy, the ratios within a phase are the fair comparison.

\`kubectl logs <pod>\` of the 100 MiB log (${bytes.toLocaleString('en')} bytes verified each run), ${RUNS} runs per target. Peak
RSS is the agent's VmHWM during the call (reset with \`clear_refs\` 5 just before); CPU is utime+stime of the agent
(and, for Docker, of dockerd, which reads its json-file and sends the stream) during the call; "vs upstream" compares
with the kubelet of the same phase (median time, peak RSS, median agent + engine CPU):

| target | times | median | agent RSS before → peak | agent CPU | engine CPU | API server CPU | vs upstream |
| --- | --- | --- | --- | --- | --- | --- | --- |
${results.map(wholeRow).join('\n')}
${floorText}
\`kubectl logs <pod> --tail=100\`, ${TAIL_RUNS} runs per target and log (after 2 warm-up rounds), the 100 MiB and the 1 MB
log alternating; each sample includes kubectl's own start. "read" is the median rchar (bytes read through read(2):
files and sockets, so TLS traffic too) of the agent during one call, and for Docker of dockerd, which reads the
json-file for nodelet; the same on both logs means \`--tail\` costs O(tail), not O(file):

| target | 100 MiB log p50 / p99 | 1 MB log p50 / p99 | agent read (100 MiB / 1 MB log) | engine read (100 MiB / 1 MB log) | vs upstream (100 MiB p50 / p99) |
| --- | --- | --- | --- | --- | --- |
${results.map(tailRow).join('\n')}
${notes}`;
}

// ---------------------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const facts = machineFacts();
  const startLine = machineLine(facts);
  console.log(startLine);
  const { cluster, caFile, ip, work } = await realClusterBench({ binDir: BIN, kubeconfig: KUBECONFIG, name: `${PREFIX}-bench-logs`, stack });
  stack.onCleanup('cgroups', () => {
    removeCgroupTree(CG_NODELET);
    removeCgroupTree(CG_KUBELET);
  });
  stack.onCleanup('nodes and namespace', async () => {
    await cluster.kubectl(['-n', NS, 'delete', 'pods', '--all', '--grace-period=0', '--force', '--wait=false']);
    await cluster.kubectl(['delete', 'namespace', NS, '--wait=false']);
    await cluster.kubectl(['delete', 'node', NODE_A, NODE_B, '--wait=false']);
  });
  await cluster.kubectl(['delete', 'node', NODE_A, NODE_B, '--wait=false']);
  await cluster.freshNamespace(NS);
  const nodeletConfig = join(work, 'nodelet-config.yaml');
  writeFileSync(nodeletConfig, `apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\ncontainerLogMaxSize: ${LOG_MAX}\n`);
  const args = (root: string, endpoint: string): Promise<string[]> =>
    nodeletArgs({ cluster, node: NODE_A, root: join(work, root), endpoint, caFile, ip, port: PORT, cgroupRoot: CG_NODELET, extra: [`--config=${nodeletConfig}`] });
  /** Runs nodelet from each bundle in turn on the same root (the baseline first), measuring each beside the kubelet. */
  const phases = async (phase: string, kind: Kind, base: string, nodeletArgv: string[], setup: () => Promise<void>, teardown: () => Promise<void>, enginePid?: () => number): Promise<Result[]> => {
    const out: Result[] = [];
    const bundles: [string, string | undefined][] = BASELINE === undefined ? [['', undefined]] : [[' before', BASELINE], ['', undefined]];
    for (const [i, [tag, entry]] of bundles.entries()) {
      const name = `${PREFIX}-bench-${kind}${tag.replace(' ', '-')}`;
      const n: NodeletProcess = startNodelet(stack, nodeletArgv, name, entry);
      await nodeReady(cluster, NODE_A);
      if (i === 0) await setup();
      await logsWritten(cluster, base);
      const nodelet: Target = { kind, label: `${LABEL[kind]}${tag}`, pod: base, agentPid: () => n.pid, ...(enginePid === undefined ? {} : { enginePid }) };
      out.push(...(await measurePhase(cluster, `${phase}${tag}`, [nodelet, kubeletTarget])));
      if (i === bundles.length - 1) await teardown();
      await n.stop();
      stack.forget(name);
    }
    return out;
  };

  // The kubelet on node B runs throughout.
  const ctrdB = await privateContainerd(stack, `${PREFIX}ctr1`, `${NET}.64/26`);
  const kubelet = await startUpstreamKubelet(stack, { cluster, binDir: BIN, work, sock: ctrdB.socketPath, caFile, ip, node: NODE_B, port: PORT + 2, cgroupRoot: CG_KUBELET, containerLogMaxSize: LOG_MAX });
  stack.onCleanup('pods of the kubelet', async () => {
    for (const s of ['big', 'small']) await deletePod(cluster, NS, `kubelet-ctrd-${s}`, () => sandboxesGone(ctrdB.socketPath));
  });
  await nodeReady(cluster, NODE_B);
  await createLogPods(cluster, 'kubelet-ctrd', NODE_B);
  await logsWritten(cluster, 'kubelet-ctrd');
  const kubeletTarget: Target = { kind: 'kubelet-containerd', label: LABEL['kubelet-containerd'], pod: 'kubelet-ctrd', agentPid: () => kubelet.pid ?? 0 };
  const results: Result[] = [];

  if (ONLY !== 'docker') {
    const ctrdA = await privateContainerd(stack, `${PREFIX}ctr0`, `${NET}.0/26`);
    const gone = (): Promise<void> => Promise.all(['big', 'small'].map((s) => deletePod(cluster, NS, `nodelet-ctrd-${s}`, () => sandboxesGone(ctrdA.socketPath)))).then(() => undefined);
    stack.onCleanup('pods of nodelet/containerd', gone);
    results.push(...(await phases('A', 'nodelet-containerd', 'nodelet-ctrd', await args('nodelet-ctrd-root', `unix://${ctrdA.socketPath}`), () => createLogPods(cluster, 'nodelet-ctrd', NODE_A), gone)));
  }

  let floor: Floor | undefined;
  if (ONLY !== 'containerd') {
    const { engine, pid: dockerdPid } = await privateDockerd(stack, work, `${PREFIX}-bbr0`, `${NET}.129/26`);
    const gone = async (): Promise<void> => {
      for (const s of ['big', 'small']) await deletePod(cluster, NS, `nodelet-docker-${s}`, async () => engine.docker(['ps', '-q', '--filter', `label=io.nodelet.cri.pod-name=nodelet-docker-${s}`]) === '');
    };
    stack.onCleanup('pods of nodelet/Docker', gone);
    const measureFloor = async (): Promise<void> => {
      const id = engine.docker(['ps', '-q', '--filter', 'label=io.nodelet.cri.pod-name=nodelet-docker-big', '--filter', 'label=io.nodelet.cri.container-name=main']).split('\n')[0] ?? '';
      const w: { ms: number; bytes: number }[] = [];
      const t: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        w.push(engineFloor(engine.socket, id, 'stdout=1&stderr=1'));
        console.log(`engine floor whole: ${s2(w[i]?.ms ?? 0)}, ${w[i]?.bytes ?? 0} bytes`);
      }
      for (let i = 0; i < TAIL_RUNS; i++) t.push(engineFloor(engine.socket, id, 'stdout=1&stderr=1&tail=100').ms);
      floor = { whole: w, tail: summarize(t) };
    };
    results.push(
      ...(await phases(
        'B',
        'nodelet-docker',
        'nodelet-docker',
        await args('nodelet-docker-root', `unix://${engine.socket}`),
        () => createLogPods(cluster, 'nodelet-docker', NODE_A),
        async () => {
          await measureFloor();
          await gone();
        },
        dockerdPid,
      )),
    );
  }

  const body = report(startLine, loadText(), results, floor, NOTES);
  console.log(body);
  if (WRITE_DOC) writeSubsection('kubelet-api', '## Kubelet API (bench/kubelet-logs.ts)', 'kubelet-api:logs-vs-upstream', body);
}

await runBench(main, stack);
