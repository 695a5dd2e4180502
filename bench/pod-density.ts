/**
 * Pod density benchmark (issue 6; not part of the test suite). Starts the in-process test API server, a private
 * dockerd and nodelet (kubelet role), creates N pods at once (default 100) and measures, through one WATCH, the time
 * until all are Ready and each pod's create → Ready time; then, with all pods running, an idle window (default 60 s)
 * over which nodelet's CPU (utime+stime from /proc/<pid>/stat, as a share of one core) and RSS (VmRSS) are
 * measured. Reference: upstream kubelet 78.5 s all Ready (p50 58.5 s); goals all Ready ≤ 20 s, idle CPU < 2 % of one
 * core, RSS < 150 MB.
 *
 * Usage: tsx bench/pod-density.ts [--pods 100] [--idle 60] [--settle 10] [--no-doc] [--node-options "<flags>"]
 *        [--entry <bundle.mjs>]   (footprint experiments: V8 flags for nodelet, another build of the bundle;
 *                                  by default nodelet runs with the NODE_OPTIONS of the systemd units, as deployed)
 *        [--floor 100,8]          (after the pods: the burst floor, N pause+app pairs via the engine API at
 *                                  these concurrencies; default: all at once and 8 at a time)
 * Writes the `pods:density` block of the `pods` section of docs/benchmarks.md (not with other --node-options or --entry).
 */
import { readFileSync } from 'node:fs';
import { writeSubsection } from './lib/docs.js';
import { measureBurstFloor } from './lib/floor.js';
import { EngineEvents } from './lib/engine-events.js';
import { loadText, machineFacts, machineLine } from './lib/machine.js';
import { benchPod, NAMESPACE, retry, withPodBenchEnv, type PodBenchEnv } from './lib/pod-env.js';
import { PodWatch } from './lib/pod-watch.js';
import { PODS_HEADER } from './lib/pods-doc.js';
import { cpuSeconds, machineJiffies, statusMB } from './lib/proc.js';
import { quartet, sec, summarize, type Summary } from './lib/stats.js';

interface Args {
  pods: number;
  idle: number;
  settle: number;
  doc: boolean;
  nodeOptions: string;
  entry: string | undefined;
  floorConcurrency: number[];
}

/** The NODE_OPTIONS the systemd units start nodelet with (systemd/nodelet-kubelet.service), '' when none. */
function deployedNodeOptions(): string {
  const unit = readFileSync(new URL('../systemd/nodelet-kubelet.service', import.meta.url), 'utf8');
  return /^Environment=NODE_OPTIONS=(.*)$/m.exec(unit)?.[1]?.trim().replace(/^"(.*)"$/, '$1') ?? '';
}

const DEPLOYED_NODE_OPTIONS = deployedNodeOptions();

function parseArgs(): Args {
  const a: Args = { pods: 100, idle: 60, settle: 10, doc: true, nodeOptions: DEPLOYED_NODE_OPTIONS, entry: undefined, floorConcurrency: [] };
  let floorGiven = false;
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (k === '--no-doc') a.doc = false;
    else if (k === '--pods') a.pods = Number(argv[++i]);
    else if (k === '--idle') a.idle = Number(argv[++i]);
    else if (k === '--settle') a.settle = Number(argv[++i]);
    else if (k === '--node-options') a.nodeOptions = argv[++i] ?? '';
    else if (k === '--entry') a.entry = argv[++i];
    else if (k === '--floor') {
      floorGiven = true;
      a.floorConcurrency = (argv[++i] ?? '').split(',').filter((x) => x !== '').map(Number);
    }
    else throw new Error(`unknown argument ${String(k)} (usage: tsx bench/pod-density.ts [--pods 100] [--idle 60] [--settle 10] [--no-doc] [--node-options "<flags>"] [--entry bundle.mjs] [--floor 100,8])`);
  }
  if (!(a.pods >= 1) || !(a.idle >= 1) || !(a.settle >= 0)) throw new Error('--pods and --idle must be ≥ 1, --settle ≥ 0');
  if (!floorGiven) a.floorConcurrency = [a.pods, 8];
  if (a.floorConcurrency.some((c) => !(c >= 1))) throw new Error('--floor takes concurrencies ≥ 1, e.g. 100,8 (or "" for none)');
  if (a.pods > 250) throw new Error('--pods must be ≤ 250 (the private bridge is a /24)');
  return a;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Idle {
  cpuShare: number;
  rssMB: number;
  rssMaxMB: number;
  hwmMB: number;
  machineBusy: number;
  requests: number;
  requestKinds: string;
}

/** Samples nodelet's RSS every second over `seconds`; CPU from the difference of utime+stime. */
async function idleWindow(env: PodBenchEnv, seconds: number): Promise<Idle> {
  const pid = env.nodelet.pid;
  env.server.requests.length = 0;
  const c0 = cpuSeconds(pid);
  const m0 = machineJiffies();
  const t0 = performance.now();
  let rssMax = 0;
  for (let i = 0; i < seconds; i++) {
    await sleep(1000);
    rssMax = Math.max(rssMax, statusMB(pid, 'VmRSS'));
  }
  const c1 = cpuSeconds(pid);
  const m1 = machineJiffies();
  const wall = (performance.now() - t0) / 1000;
  const kinds = new Map<string, number>();
  for (const r of env.server.requests) {
    const key = r.replace(/\?.*$/, '').replace(/\/pods\/[^/]+/, '/pods/<name>');
    kinds.set(key, (kinds.get(key) ?? 0) + 1);
  }
  return {
    cpuShare: (c1 - c0) / wall,
    rssMB: statusMB(pid, 'VmRSS'),
    rssMaxMB: rssMax,
    hwmMB: statusMB(pid, 'VmHWM'),
    machineBusy: (m1.busy - m0.busy) / Math.max(1, m1.total - m0.total),
    requests: env.server.requests.length,
    requestKinds: [...kinds.entries()].sort((a, b) => b[1] - a[1]).slice(0, 4).map(([k, n]) => `${n}× ${k}`).join(', '),
  };
}

async function run(env: PodBenchEnv, args: Args): Promise<void> {
  const facts = machineFacts();
  console.log(`machine: ${machineLine(facts)}`);
  const pid = env.nodelet.pid;
  const rssBefore = statusMB(pid, 'VmRSS');
  const cpuBefore = cpuSeconds(pid);
  const watch = new PodWatch(env.server.kubeconfigPath, NAMESPACE);
  await watch.start();
  const engine = new EngineEvents();
  await engine.start(env.docker);
  const names = Array.from({ length: args.pods }, (_, i) => `density-${String(i).padStart(3, '0')}`);
  const t0 = performance.now();
  await Promise.all(
    names.map(async (name) => {
      const t = watch.track(name);
      await retry(() => env.api.request({ method: 'POST', path: `/api/v1/namespaces/${NAMESPACE}/pods`, body: benchPod(name, env.node) }));
      t.createReturned = performance.now();
    }),
  );
  const createdAll = performance.now() - t0;
  console.log(`${args.pods} create calls returned after ${sec(createdAll)}`);
  const progress = setInterval(() => {
    const ready = [...watch.times().values()].filter((t) => t.ready !== undefined).length;
    console.log(`  ${sec(performance.now() - t0)}: ${ready}/${args.pods} Ready`);
  }, 5000);
  try {
    await Promise.all(names.map((n) => watch.waitReady(n, 600_000)));
  } finally {
    clearInterval(progress);
  }
  const allReady = performance.now() - t0;
  engine.stop();
  const base = performance.timeOrigin + t0;
  const at = (pick: (n: string) => number | undefined): Summary => summarize(names.map((n) => (pick(n) ?? NaN) - base).filter(Number.isFinite));
  const sbCreated = at((n) => engine.get(n)?.sandboxCreate);
  const sbStarted = at((n) => engine.get(n)?.sandboxStart);
  const appStarted = at((n) => engine.get(n)?.appStart);
  const cpuStartup = cpuSeconds(pid) - cpuBefore;
  const rssAfterStart = statusMB(pid, 'VmRSS');
  console.log(`all ${args.pods} Ready after ${sec(allReady)}; settling ${args.settle} s, then an idle window of ${args.idle} s…`);
  await sleep(args.settle * 1000);
  const loadIdleStart = loadText();
  const idleFrom = new Date().toISOString();
  const idle = await idleWindow(env, args.idle);
  console.log(`idle window ${idleFrom} – ${new Date().toISOString()}`);
  const loadEnd = loadText();
  await watch.stop();
  console.log('deleting the pods…');
  const del = await env.deletePods(300_000);
  const floors: string[] = [];
  for (const c of args.floorConcurrency) {
    console.log(`floor: ${args.pods} pause + app pairs through the engine API, ${c} at a time…`);
    const f = await measureBurstFloor(env, args.pods, c);
    floors.push(`${c === args.pods ? 'all at once' : `${c} at a time`}: all started ${sec(f.allMs)} (p50 ${sec(summarize(f.perPair).p50)})`);
  }
  const times = [...watch.times().values()];
  const ready = summarize(times.map((t) => (t.ready ?? NaN) - t.created).filter(Number.isFinite));
  const running = summarize(times.map((t) => (t.running ?? NaN) - t.created).filter(Number.isFinite));
  const ok = (b: boolean): string => (b ? 'met' : 'NOT met');
  const deployed = args.nodeOptions === DEPLOYED_NODE_OPTIONS ? ' (as the systemd units)' : '';
  const mode = `${args.nodeOptions ? ` NODE_OPTIONS="${args.nodeOptions}"${deployed}.` : ''}${args.entry ? ` entry ${args.entry}` : ''}`;
  const body = [
    `### Pod density (bench/pod-density.ts)`,
    ``,
    `Measured ${machineLine(facts)}; load average at the idle window's start ${loadIdleStart}, at end ${loadEnd}.${mode}`,
    `${args.pods} pods (as in the startup benchmark) created at once (concurrent create calls; all returned after`,
    `${sec(createdAll)}); times from the burst's start, per pod from its own create call, to the first WATCH event`,
    `showing it Ready. Then ${args.settle} s settling and a ${args.idle} s idle window with all pods running (it contains`,
    `the default 1 m pod resync): nodelet's CPU = utime+stime of its process (/proc/<pid>/stat) over the window as`,
    `a share of one core; RSS = VmRSS.`,
    ``,
    `| measure | value | goal | upstream v1.24 |`,
    `| --- | --- | --- | --- |`,
    `| all ${args.pods} Ready | ${sec(allReady)} | ≤ 20 s: **${ok(allReady <= 20_000)}** | 78.5 s |`,
    `| per-pod create → Ready p50 / p90 / p99 / max | ${quartet(ready)} | | p50 58.5 s |`,
    `| per-pod create → Running p50 / p90 / p99 / max | ${quartet(running)} | | |`,
    `| idle CPU (share of one core, ${args.idle} s) | ${(idle.cpuShare * 100).toFixed(2)} % | < 2 %: **${ok(idle.cpuShare < 0.02)}** | |`,
    `| RSS at end of idle window (max during / VmHWM) | ${idle.rssMB.toFixed(0)} MB (${idle.rssMaxMB.toFixed(0)} / ${idle.hwmMB.toFixed(0)} MB) | < 150 MB: **${ok(idle.rssMB < 150)}** | |`,
    ``,
    `- nodelet before the pods: RSS ${rssBefore.toFixed(0)} MB; right after all Ready ${rssAfterStart.toFixed(0)} MB; CPU spent starting the ${args.pods} pods ${cpuStartup.toFixed(1)} s.`,
    `- Engine timeline from the burst's start (first / p50 / last): sandbox containers created ${sec(sbCreated.min)} / ${sec(sbCreated.p50)} / ${sec(sbCreated.max)}; sandboxes started ${sec(sbStarted.min)} / ${sec(sbStarted.p50)} / ${sec(sbStarted.max)}; app containers started ${sec(appStarted.min)} / ${sec(appStarted.p50)} / ${sec(appStarted.max)}.`,
    ...(floors.length ? [`- Floor on the same engine after the pods were gone: ${args.pods} pause + app pairs created and started through the engine API (dockerode, no kubelet): ${floors.join('; ')}.`] : []),
    `- API requests during the idle window: ${idle.requests}${idle.requestKinds ? ` (${idle.requestKinds})` : ''}.`,
    `- Whole machine busy during the idle window: ${(idle.machineBusy * 100).toFixed(0)} % of all cores (other work on the shared machine).`,
    `- Teardown (one delete-collection): all gone from the API ${sec(del.apiGoneMs)}, all containers gone ${sec(del.containersGoneMs)}.`,
  ].join('\n');
  console.log(`\n${body}\n`);
  if (args.doc && args.nodeOptions === DEPLOYED_NODE_OPTIONS && !args.entry) writeSubsection('pods', PODS_HEADER, 'pods:density', body);
}

async function main(): Promise<void> {
  const args = parseArgs();
  await withPodBenchEnv({ name: 'nlpb-density', env: args.nodeOptions ? { NODE_OPTIONS: args.nodeOptions } : undefined, entry: args.entry }, (env) => run(env, args));
}

await main();
