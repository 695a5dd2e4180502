/**
 * Kubelet API log benchmark (issue 13; not part of the test suite).
 *
 * 1. Docker, end to end: the test API server, a private dockerd and nodelet; a pod writes a 100 MB log (1 M lines of
 *    100 bytes); `kubectl logs` reads it whole through the API server's pods/log proxy and the daemon's
 *    /containerLogs (Docker engine), timed, with the daemon's RSS sampled every 20 ms; then `kubectl logs --tail=100`
 *    of the same pod and of a pod with a 1 MB log (same cost = O(tail)).
 * 2. containerd's CRI log files, in process: the daemon's file reader (src/kubelet/server/api/log-file.ts) over a
 *    100 MB CRI log: whole read (time, RSS growth) and `tailLines=100` (time, bytes read).
 *
 * Usage: tsx bench/kubelet-logs.ts [--no-doc] [--entry bundle.mjs] [--runs 10]
 * Writes the `kubelet-api:logs` block of the `kubelet-api` section of docs/benchmarks.md.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tailStart, streamCriLogFile } from '../src/kubelet/server/api/log-file.js';
import { RealClock } from '../src/util/clock.js';
import { writeSubsection } from './lib/docs.js';
import { loadText, machineFacts, machineLine } from './lib/machine.js';
import { IMAGE, NAMESPACE, retry, withPodBenchEnv, type PodBenchEnv } from './lib/pod-env.js';
import { statusMB } from './lib/proc.js';
import { summarize } from './lib/stats.js';

const LOG_BYTES = 100 * 2 ** 20;
const NOTE =
  'Notes: the end-to-end time includes the test API server\'s pods/log proxy and kubectl, on a shared 2-core machine. ' +
  "Docker logs are streamed from the engine's log endpoint with backpressure (src/kubelet/server/api/docker-logs.ts), so the agent's RSS " +
  "stays flat whatever the log size; the first implementation used dockerode's non-follow call, which buffers the whole log " +
  '(92 s and a 1,887 MB RSS peak for 100 MiB on 2026-12-02). `--tail=100` costs the same on a 100 MiB and a 1 MiB log (O(tail)): ' +
  'the engine reads its json-file backwards, the CRI file reader one 64 KiB block from the end.';
const LINE = `${'x'.repeat(99)}\n`;

interface Args {
  doc: boolean;
  entry?: string;
  runs: number;
}

function parseArgs(): Args {
  const a: Args = { doc: true, runs: 10 };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (k === '--no-doc') a.doc = false;
    else if (k === '--entry') a.entry = argv[++i];
    else if (k === '--runs') a.runs = Number(argv[++i]);
    else throw new Error(`unknown argument ${String(k)} (usage: tsx bench/kubelet-logs.ts [--no-doc] [--entry bundle.mjs] [--runs 10])`);
  }
  return a;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Runs kubectl, counting stdout bytes; returns wall time in ms. */
function kubectlBytes(kubeconfig: string, args: string[]): Promise<{ ms: number; bytes: number; lastLine: string }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn('kubectl', ['--kubeconfig', kubeconfig, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let bytes = 0;
    let tail = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      bytes += d.length;
      tail = (tail + d.toString('latin1')).slice(-300);
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`kubectl ${args.join(' ')}: ${err}`));
      else resolve({ ms: performance.now() - t0, bytes, lastLine: tail.trimEnd().split('\n').pop() ?? '' });
    });
  });
}

/** Samples VmRSS of `pid` every 20 ms while `fn` runs; returns fn's result and the peak. */
async function withRssPeak<T>(pid: number, fn: () => Promise<T>): Promise<{ value: T; peakMB: number; beforeMB: number }> {
  const beforeMB = statusMB(pid, 'VmRSS');
  let peakMB = beforeMB;
  let on = true;
  const sampler = (async () => {
    while (on) {
      peakMB = Math.max(peakMB, statusMB(pid, 'VmRSS'));
      await sleep(20);
    }
  })();
  try {
    return { value: await fn(), peakMB, beforeMB };
  } finally {
    on = false;
    await sampler;
  }
}

function logPod(name: string, node: string, bytes: number): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NAMESPACE },
    spec: {
      nodeName: node,
      terminationGracePeriodSeconds: 1,
      containers: [{ name: 'app', image: IMAGE, imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', `yes ${LINE.trimEnd()} | head -c ${bytes}; echo DONE; exec sleep 3600`] }],
    },
  };
}

async function docker(env: PodBenchEnv, args: Args): Promise<string[]> {
  const kc = env.server.kubeconfigPath;
  for (const [name, bytes] of [['log-100m', LOG_BYTES], ['log-1m', 1_000_000]] as const) {
    await retry(() => env.api.request({ method: 'POST', path: `/api/v1/namespaces/${NAMESPACE}/pods`, body: logPod(name, env.node, bytes) }));
  }
  for (const name of ['log-100m', 'log-1m']) {
    const t0 = Date.now();
    for (;;) {
      const r = await kubectlBytes(kc, ['logs', name, '-n', NAMESPACE, '--tail=1']).catch(() => undefined);
      if (r?.lastLine.endsWith('DONE') === true) break;
      if (Date.now() - t0 > 180_000) throw new Error(`${name} did not finish writing its log`);
      await sleep(500);
    }
  }
  const pid = env.nodelet.pid;
  const full: { ms: number; peakMB: number; beforeMB: number; bytes: number }[] = [];
  for (let i = 0; i < 3; i++) {
    const r = await withRssPeak(pid, () => kubectlBytes(kc, ['logs', 'log-100m', '-n', NAMESPACE]));
    full.push({ ms: r.value.ms, peakMB: r.peakMB, beforeMB: r.beforeMB, bytes: r.value.bytes });
    console.log(`docker: kubectl logs (${(r.value.bytes / 2 ** 20).toFixed(1)} MiB): ${(r.value.ms / 1000).toFixed(2)} s, agent RSS ${r.beforeMB.toFixed(0)} → peak ${r.peakMB.toFixed(0)} MB`);
  }
  const tail = async (name: string): Promise<number[]> => {
    const out: number[] = [];
    for (let i = 0; i < args.runs; i++) out.push((await kubectlBytes(kc, ['logs', name, '-n', NAMESPACE, '--tail=100'])).ms);
    return out;
  };
  const tailBig = summarize(await tail('log-100m'));
  const tailSmall = summarize(await tail('log-1m'));
  const tailRss = await withRssPeak(pid, () => kubectlBytes(kc, ['logs', 'log-100m', '-n', NAMESPACE, '--tail=100']));
  console.log(`docker: --tail=100 p50 ${tailBig.p50.toFixed(0)} ms (100 MB log) vs ${tailSmall.p50.toFixed(0)} ms (1 MB log)`);
  const ms = summarize(full.map((f) => f.ms));
  const peak = Math.max(...full.map((f) => f.peakMB));
  const before = Math.min(...full.map((f) => f.beforeMB));
  return [
    `| Docker (engine), end to end through the API server | \`kubectl logs\` of 100 MiB (${(full[0]?.bytes ?? 0).toLocaleString('en')} bytes), 3 runs | p50 ${(ms.p50 / 1000).toFixed(2)} s, max ${(ms.max / 1000).toFixed(2)} s | agent RSS ${before.toFixed(0)} MB before, peak ${peak.toFixed(0)} MB |`,
    `| Docker (engine), end to end | \`kubectl logs --tail=100\`, ${args.runs} runs: 100 MiB log vs 1 MiB log | p50 ${tailBig.p50.toFixed(0)} ms vs ${tailSmall.p50.toFixed(0)} ms (p99 ${tailBig.p99.toFixed(0)} / ${tailSmall.p99.toFixed(0)} ms) | peak RSS ${tailRss.peakMB.toFixed(0)} MB |`,
  ];
}

async function criFiles(args: Args): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'nl1-logbench-'));
  try {
    const path = join(dir, '0.log');
    const w = createWriteStream(path);
    const stamp = '2026-01-01T00:00:00.000000000Z stdout F ';
    const rec = stamp + LINE;
    const chunk = rec.repeat(1000);
    let written = 0;
    while (written < LOG_BYTES) {
      if (!w.write(chunk)) await new Promise<void>((r) => w.once('drain', () => r()));
      written += chunk.length;
    }
    await new Promise<void>((r) => w.end(r));
    const request = { follow: false, previous: false, timestamps: false, tailLines: undefined as number | undefined, sinceMs: undefined, limitBytes: undefined };
    const read = async (tailLines?: number): Promise<{ ms: number; bytes: number; peakMB: number; beforeMB: number }> => {
      let bytes = 0;
      const r = await withRssPeak(process.pid, async () => {
        const t0 = performance.now();
        await streamCriLogFile({
          path,
          request: { ...request, tailLines },
          sink: { write: (l) => ((bytes += l.text.length), Promise.resolve(true)) },
          signal: new AbortController().signal,
          stillRunning: () => Promise.resolve(false),
          clock: new RealClock(),
        });
        return performance.now() - t0;
      });
      return { ms: r.value, bytes, peakMB: r.peakMB, beforeMB: r.beforeMB };
    };
    const whole = await read();
    console.log(`cri files: whole ${(whole.bytes / 2 ** 20).toFixed(1)} MiB in ${(whole.ms / 1000).toFixed(2)} s, RSS ${whole.beforeMB.toFixed(0)} → ${whole.peakMB.toFixed(0)} MB`);
    const tails = summarize(await Promise.all(Array.from({ length: args.runs }, () => read(100).then((r) => r.ms))));
    let tailBytesRead = 0;
    const fh = await open(path, 'r');
    try {
      const counting = { read: (b: Buffer, o: number, l: number, p: number) => fh.read(b, o, l, p).then((r) => ((tailBytesRead += r.bytesRead), r)) };
      await tailStart(counting as never, written, 100);
    } finally {
      await fh.close();
    }
    console.log(`cri files: tailLines=100 p50 ${tails.p50.toFixed(1)} ms, ${tailBytesRead} bytes read backwards`);
    return [
      `| containerd (CRI log file), the daemon's reader in process | whole 100 MiB file (${whole.bytes.toLocaleString('en')} bytes of text) | ${(whole.ms / 1000).toFixed(2)} s | RSS ${whole.beforeMB.toFixed(0)} MB before, peak ${whole.peakMB.toFixed(0)} MB |`,
      `| containerd (CRI log file), in process | \`tailLines=100\` of the 100 MiB file, ${args.runs} runs | p50 ${tails.p50.toFixed(1)} ms | ${tailBytesRead.toLocaleString('en')} bytes read (backwards from the end) |`,
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const args = parseArgs();
  const facts = machineFacts();
  console.log(`machine: ${machineLine(facts)}`);
  const cfgDir = mkdtempSync(join(tmpdir(), 'nl1-logbench-cfg-'));
  const config = join(cfgDir, 'config.yaml');
  // Docker rotates json-file logs at containerLogMaxSize: large enough for the whole 100 MB. The benchmark measures
  // reading, not authentication: the API allows anonymous requests here (the test API server's proxy is trusted).
  writeFileSync(config, 'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\ncontainerLogMaxSize: 400Mi\ncontainerLogMaxFiles: 2\n');
  // The in-process file reader first, while this process is small (its RSS is what is measured).
  const criRows = await criFiles(args);
  let rows: string[] = [];
  try {
    await withPodBenchEnv(
      { node: 'nl1-logbench', bridge: 'nl1lb0', subnet: '10.214.1.1/25', name: 'nl1-logbench', entry: args.entry, extraArgs: [`--config=${config}`, '--port=20120', '--anonymous-auth=true', '--authorization-mode=AlwaysAllow'] },
      async (env) => {
        rows = await docker(env, args);
      },
    );
  } finally {
    rmSync(cfgDir, { recursive: true, force: true });
  }
  rows.push(...criRows);
  const body = [
    `### Container logs (bench/kubelet-logs.ts)`,
    '',
    `Run ${machineLine(facts)}; load at end ${loadText()}.`,
    '',
    '| runtime / path | what | time | memory |',
    '| --- | --- | --- | --- |',
    ...rows,
    '',
    NOTE,
  ].join('\n');
  console.log(body);
  if (args.doc) writeSubsection('kubelet-api', '## Kubelet API (bench/kubelet-logs.ts)', 'kubelet-api:logs', body);
}

await main();
