/**
 * Prober benchmark (not part of the test suite): N pods, each with an exec readiness probe and an httpGet liveness
 * probe at periodSeconds 1, for a measured window after a warm-up. Reports the prober process's CPU (share of one
 * core), RSS, event-loop delay, and period drift (lateness of each probe start against its worker's fixed 1 s grid;
 * missed ticks counted separately).
 *
 * Modes:
 *  - docker: real testbox containers (label io.nodelet.test=probes-bench); pods are spread over them; exec through the
 *    project's DockerRuntime (docker exec), HTTP to busybox httpd on the containers' bridge IPs.
 *  - local:  a fake exec (resolves after 2 ms, no process) and HTTP to a server in a separate process on 127.0.0.1,
 *    i.e. the prober's own overhead without a container engine.
 *
 * Usage: tsx bench/probes.ts [--mode docker|local|both] [--pods 100] [--containers 10] [--seconds 30]
 * Writes its section of docs/benchmarks.md.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import Docker from 'dockerode';
import type { V1Pod, V1PodStatus } from '@kubernetes/client-node';
import { RealClock, silentLogger } from '../src/util/index.js';
import type { ContainerManager, ExecResult } from '../src/cri/types.js';
import { DockerRuntime } from '../src/cri/docker/index.js';
import { createProberManager, type ProbeHandlers } from '../src/probes/index.js';
import { defaultProbeHandlers } from '../src/probes/prober.js';

interface Args {
  mode: 'docker' | 'local' | 'both';
  pods: number;
  containers: number;
  seconds: number;
}

function parseArgs(): Args {
  const a: Args = { mode: 'both', pods: 100, containers: 10, seconds: 30 };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) {
    const k = argv[i];
    const v = argv[i + 1] ?? '';
    if (k === '--mode' && (v === 'docker' || v === 'local' || v === 'both')) a.mode = v;
    else if (k === '--pods') a.pods = Number(v);
    else if (k === '--containers') a.containers = Number(v);
    else if (k === '--seconds') a.seconds = Number(v);
    else throw new Error(`unknown argument ${k}`);
  }
  return a;
}

const LABEL = 'io.nodelet.test=probes-bench';
const IMAGE = 'localhost/nodelet/testbox:1.0';
const PERIOD_MS = 1000;

interface Target {
  containerID: string;
  ip: string;
  port: number;
}

interface Result {
  mode: string;
  pods: number;
  workers: number;
  seconds: number;
  cpuShare: number;
  rssMB: number;
  rssMaxMB: number;
  rssBeforeMB: number;
  heapMB: number;
  driftP50: number;
  driftP99: number;
  driftMax: number;
  /** drift p99 of the httpGet workers only (their probes are short). */
  httpDriftP99: number;
  /** Share of all cores busy during the window (whole machine). */
  machineBusy: number;
  /** 1-minute load average at the end of the window. */
  load1: number;
  missed: number;
  probes: number;
  failures: number;
  loopDelayP99: number;
  execP50: number;
  execP99: number;
  note: string;
}

const pct = (xs: number[], p: number): number => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

function pod(i: number, port: number): V1Pod {
  return {
    metadata: { name: `bench-${i}`, namespace: 'bench', uid: `bench-uid-${i}` },
    spec: {
      containers: [
        {
          name: 'app',
          image: IMAGE,
          // The last argument only tells the pods apart (`test -f F -a STRING` is true when F exists).
          readinessProbe: { exec: { command: ['test', '-f', '/tmp/ready', '-a', `pod-${i}`] }, periodSeconds: 1, timeoutSeconds: 1 },
          livenessProbe: {
            httpGet: { path: '/index.html', port, httpHeaders: [{ name: 'X-Bench-Pod', value: String(i) }] },
            periodSeconds: 1,
            timeoutSeconds: 1,
          },
        },
      ],
    },
  };
}

function status(t: Target, startedAt: Date): V1PodStatus {
  return {
    phase: 'Running',
    podIP: t.ip,
    containerStatuses: [
      { name: 'app', containerID: `docker://${t.containerID}`, image: IMAGE, imageID: '', ready: false, restartCount: 0, state: { running: { startedAt } } },
    ],
  };
}

/** Aggregate CPU counters from /proc/stat: [busy, total] ticks. */
function readStat(): [number, number] {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = (f[3] ?? 0) + (f[4] ?? 0);
  const total = f.reduce((a, b) => a + b, 0);
  return [total - idle, total];
}

function machineBusy(a: [number, number], b: [number, number]): number {
  return (b[0] - a[0]) / Math.max(1, b[1] - a[1]);
}

async function runOne(
  mode: string,
  args: Args,
  targets: Target[],
  runtime: Pick<ContainerManager, 'execSync'>,
  note: string,
): Promise<Result> {
  const starts = new Map<string, number[]>();
  const execDur: number[] = [];
  let probes = 0;
  let failures = 0;
  const mark = (key: string): void => {
    probes++;
    const l = starts.get(key);
    if (l) l.push(performance.now());
    else starts.set(key, [performance.now()]);
  };
  // Timing wrappers around the real handlers (the seam the manager offers for this).
  const handlers: Partial<ProbeHandlers> = {
    exec: async (req) => {
      mark(`exec/${req.command.at(-1) ?? ''}`);
      const t0 = performance.now();
      const r = await defaultProbeHandlers.exec(req);
      execDur.push(performance.now() - t0);
      if (r.result !== 'success') failures++;
      return r;
    },
    http: async (req, timeoutMs, clock) => {
      mark(`http/${req.headers['X-Bench-Pod'] ?? ''}`);
      const r = await defaultProbeHandlers.http(req, timeoutMs, clock);
      if (r.result === 'failure') failures++;
      return r;
    },
  };
  const startedAt = new Date();
  const statuses = new Map<string, V1PodStatus>();
  const pods: V1Pod[] = [];
  for (let i = 0; i < args.pods; i++) {
    const t = targets[i % targets.length]!;
    const p = pod(i, t.port);
    pods.push(p);
    statuses.set(p.metadata!.uid!, status(t, startedAt));
  }
  const m = createProberManager({
    runtime,
    getPodStatus: (uid) => statuses.get(uid),
    logger: silentLogger(),
    clock: new RealClock(),
    nodeIP: '127.0.0.1',
    handlers,
    recorder: { event: () => undefined },
  });
  const loop = monitorEventLoopDelay({ resolution: 10 });
  const rssBefore = process.memoryUsage().rss;
  for (const p of pods) m.addPod(p);
  const warmupMs = 5000;
  await new Promise((r) => setTimeout(r, warmupMs));
  starts.clear();
  execDur.length = 0;
  probes = 0;
  failures = 0;
  loop.enable();
  const stat0 = readStat();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let rssMax = 0;
  for (let s = 0; s < args.seconds; s++) {
    await new Promise((r) => setTimeout(r, 1000));
    rssMax = Math.max(rssMax, process.memoryUsage().rss);
  }
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  loop.disable();
  const mem = process.memoryUsage();
  m.stop();
  const lateness: number[] = [];
  const httpLateness: number[] = [];
  let missed = 0;
  for (const [key, list] of starts) {
    if (list.length < 2) continue;
    // Offsets from the first start on a 1 s grid; a tick can only be late, so the earliest offset marks the grid.
    const base = list[0]!;
    const offsets: number[] = [];
    let prevK = 0;
    for (let j = 0; j < list.length; j++) {
      const k = Math.round((list[j]! - base) / PERIOD_MS);
      if (j > 0) missed += Math.max(0, k - prevK - 1);
      prevK = k;
      offsets.push(list[j]! - base - k * PERIOD_MS);
    }
    const anchor = Math.min(...offsets);
    for (const o of offsets) {
      lateness.push(o - anchor);
      if (key.startsWith('http/')) httpLateness.push(o - anchor);
    }
  }
  return {
    mode,
    pods: args.pods,
    workers: args.pods * 2,
    seconds: args.seconds,
    cpuShare: (cpu.user + cpu.system) / 1000 / wall,
    rssMB: mem.rss / 2 ** 20,
    rssMaxMB: rssMax / 2 ** 20,
    rssBeforeMB: rssBefore / 2 ** 20,
    heapMB: mem.heapUsed / 2 ** 20,
    driftP50: pct(lateness, 50),
    driftP99: pct(lateness, 99),
    driftMax: Math.max(...lateness),
    httpDriftP99: pct(httpLateness, 99),
    machineBusy: machineBusy(stat0, readStat()),
    load1: os.loadavg()[0] ?? 0,
    missed,
    probes,
    failures,
    loopDelayP99: loop.percentile(99) / 1e6,
    execP50: pct(execDur, 50),
    execP99: pct(execDur, 99),
    note,
  };
}

async function startHttpServerProcess(): Promise<{ child: ChildProcess; port: number }> {
  const code = `const http=require('node:http');const s=http.createServer((q,r)=>r.end('ok'));s.listen(0,'127.0.0.1',()=>console.log(s.address().port));`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
    child.once('exit', () => reject(new Error('server process exited')));
  });
  return { child, port };
}

async function localMode(args: Args): Promise<Result> {
  const { child, port } = await startHttpServerProcess();
  try {
    const targets = Array.from({ length: args.pods }, (_, i) => ({ containerID: `local-${i}`, ip: '127.0.0.1', port }));
    const fakeExec = {
      execSync: (): Promise<ExecResult> =>
        new Promise((r) => setTimeout(() => r({ exitCode: 0, stdout: '', stderr: '' }), 2)),
    };
    return await runOne('local', args, targets, fakeExec, 'fake exec (2 ms, no process); HTTP to a server in a separate process on 127.0.0.1');
  } finally {
    child.kill('SIGTERM');
  }
}

async function dockerMode(args: Args): Promise<Result> {
  const docker = new Docker({ socketPath: '/var/run/docker.sock' });
  const cleanup = async (): Promise<void> => {
    const list = await docker.listContainers({ all: true, filters: { label: [LABEL] } });
    await Promise.all(list.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
  };
  await cleanup();
  try {
    const targets: Target[] = [];
    for (let i = 0; i < args.containers; i++) {
      const c = await docker.createContainer({
        Image: IMAGE,
        Labels: { 'io.nodelet.test': 'probes-bench' },
        Cmd: ['sh', '-c', 'touch /tmp/ready; mkdir -p /www; echo ok > /www/index.html; httpd -p 8080 -h /www; exec sleep 3600'],
        HostConfig: { NetworkMode: 'bridge', Init: true },
      });
      await c.start();
      const info = await c.inspect();
      targets.push({ containerID: info.Id, ip: info.NetworkSettings.Networks['bridge']?.IPAddress ?? '', port: 8080 });
    }
    await new Promise((r) => setTimeout(r, 500));
    return await runOne(
      'docker',
      args,
      targets,
      new DockerRuntime({ socketPath: '/var/run/docker.sock' }),
      `${args.containers} testbox containers; exec via DockerRuntime (docker exec); HTTP to busybox httpd on the bridge IPs`,
    );
  } finally {
    await cleanup();
  }
}

function machine(): string {
  const cpus = os.cpus();
  return `${cpus[0]?.model ?? 'cpu'} × ${cpus.length}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Linux ${os.release()}, Node ${process.version}`;
}

function render(results: Result[]): string {
  const f = (n: number, d = 1): string => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');
  const rows = results.map(
    (r) =>
      `| ${r.mode} | ${r.pods} pods / ${r.workers} workers | ${f(r.cpuShare * 100)} % | ${f(r.rssMB, 0)} MB (max ${f(r.rssMaxMB, 0)}; ${f(r.rssBeforeMB, 0)} before the workers) | ${f(r.driftP50)} / ${f(r.driftP99)} / ${f(r.driftMax)} ms (httpGet p99 ${f(r.httpDriftP99)}) | ${r.missed} | ${r.probes} / ${r.failures} | ${f(r.loopDelayP99)} ms | ${f(r.execP50)} / ${f(r.execP99)} ms | ${f(r.machineBusy * 100, 0)} % (load ${f(r.load1)}) |`,
  );
  return [
    '## Probes (bench/probes.ts)',
    '',
    `Measured ${new Date().toISOString()} on ${machine()}. Each pod has an exec readiness probe and an httpGet liveness`,
    `probe at periodSeconds 1; ${results[0]?.seconds ?? 0} s window after 5 s warm-up. CPU is the prober process's`,
    'user+system time as a share of one core; drift is the lateness of each probe start against its worker\'s fixed',
    '1 s grid (missed ticks counted separately). Goal: < 15 % of one core, drift p99 < 100 ms.',
    '',
    '| mode | load | prober CPU | RSS | drift p50 / p99 / max | missed ticks | probes / failed | loop delay p99 | exec p50 / p99 | machine busy (all cores) |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
    ...results.map((r) => `- ${r.mode}: ${r.note}.`),
    '- machine busy: all cores, whole machine, over the same window, with the 1-minute load average (other work on',
    '  the machine shows here too); each docker exec costs the engine (dockerd, containerd, a runc process) far more',
    '  CPU than it costs the prober.',
    '- reading the docker row: ~100 docker execs per second are more than dockerd + containerd + runc manage on this',
    '  machine, so execs take seconds, fail at timeoutSeconds 1 (the failures) and workers skip ticks (a worker never',
    '  overlaps its own probes, as upstream); that drift is the engine\'s, the timer loop\'s own is the local row.',
    '- RSS "before the workers" is the benchmark process with its imports (and, for docker, after the local run).',
  ].join('\n');
}

function writeSection(body: string): void {
  const path = 'docs/benchmarks.md';
  const start = '<!-- bench:probes:start -->';
  const end = '<!-- bench:probes:end -->';
  const block = `${start}\n${body}\n${end}`;
  let text = existsSync(path) ? readFileSync(path, 'utf8') : '# Benchmarks\n';
  if (text.includes(start) && text.includes(end)) {
    text = text.slice(0, text.indexOf(start)) + block + text.slice(text.indexOf(end) + end.length);
  } else {
    text = `${text.trimEnd()}\n\n${block}\n`;
  }
  writeFileSync(path, text);
}

async function main(): Promise<void> {
  const args = parseArgs();
  const results: Result[] = [];
  if (args.mode === 'local' || args.mode === 'both') results.push(await localMode(args));
  if (args.mode === 'docker' || args.mode === 'both') results.push(await dockerMode(args));
  const body = render(results);
  console.log(body);
  for (const r of results) console.log(`${r.mode}: heapUsed ${r.heapMB.toFixed(1)} MB`);
  writeSection(body);
}

await main();
