/**
 * Head-to-head proxy benchmark (issue 17; not part of the test suite): nodelet (the daemon bundle, proxy role only)
 * in iptables and nftables mode against upstream kube-proxy v1.33.3 in iptables and nftables mode, in one run, on
 * the same objects served by one test API server (test/apiserver): N services × 5 endpoints (10 % NodePort).
 * Each proxy runs alone (one after another) in its own network namespace, joined to the host only by a bridge
 * (default 10.214.7.32/27; NLPX_BENCH_NAME / NLPX_BENCH_NET / NLPX_BENCH_BASE / NLPX_BENCH_PORT / NLPX_BENCH_TMP
 * choose names, subnet, ports and temp dir) on which the API server listens; no namespace has any other route. Every figure comes from the
 * same place for all four: sync durations from the proxy's own kubeproxy_sync_proxy_rules_duration_seconds
 * histogram, CPU (user+sys of the process and its reaped children: iptables-restore / nft) and peak RSS (VmHWM) from
 * /proc, rules and elements from the kernel (iptables-save / nft -j list) afterwards.
 *
 * Usage: tsx bench/proxy-vs-kube-proxy.ts [--sizes 1000,5000,10000] [--changes 3]
 *        [--kube-proxy /tmp/h7/bin/kube-proxy] [--nodelet /tmp/h7/nodelet.mjs] [--only nodelet-nftables,…]
 *        [--include earlier-results.jsonl] (document another run's sizes, its JSON lines, with this run's)
 *        [--doc-only] (with --include: only write the docs section)
 * NL7_BENCH_FIRST_SYNC_LIMIT_MS (240 s) / NL7_BENCH_CHANGE_SYNC_LIMIT_MS (120 s): how long a proxy may take.
 * (build the bundle with NODELET_BUILD_OUT=… node scripts/build.mjs; get kube-proxy with ../shared/k8s/extract.sh).
 * Writes its section of docs/benchmarks.md.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCommand } from '../src/proxy/exec.js';
import { renderKubeconfig, startTestApiServer, type TestApiServer } from '../test/apiserver/index.js';
import { findResource } from '../test/apiserver/resources.js';
import { createNamespace, deleteNamespaces, inNs, sh } from '../test/support/netns.js';
import { writeSubsection } from './lib/docs.js';
import { benchService, benchSlice } from './lib/proxy-objects.js';
import { machineFacts, machineLine } from './lib/machine.js';

// Resources (override per session: NLPX_BENCH_NAME=h4 NLPX_BENCH_NET=10.231.4 NLPX_BENCH_PORT=21310 NLPX_BENCH_TMP=/tmp/h4/bench).
const NAME = process.env['NLPX_BENCH_NAME'] ?? 'nl7';
const NET = process.env['NLPX_BENCH_NET'] ?? '10.214.7';
const PREFIX = `${NAME}-b`;
const BRIDGE = `${NAME}bbr0`;
/** The /27 the bridge uses inside NET (its first address is the host's; the proxies follow). */
const BASE = Number(process.env['NLPX_BENCH_BASE'] ?? 32);
const HOST_IP = `${NET}.${BASE + 1}`;
const TMP = process.env['NLPX_BENCH_TMP'] ?? '/tmp/h7/bench';
const HEALTHZ_PORT = Number(process.env['NLPX_BENCH_PORT'] ?? 20710);
const METRICS_PORT = HEALTHZ_PORT + 1;
const NODE_FLAGS = (process.env['NLPX_BENCH_NODE_FLAGS'] ?? '--max-semi-space-size=1 --max-old-space-size=512').split(' ').filter(Boolean);

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? def) : def;
}

type Impl = 'nodelet' | 'kube-proxy';
type Mode = 'iptables' | 'nftables';
interface Contender {
  impl: Impl;
  mode: Mode;
}
const CONTENDERS: Contender[] = [
  { impl: 'nodelet', mode: 'nftables' },
  { impl: 'kube-proxy', mode: 'nftables' },
  { impl: 'nodelet', mode: 'iptables' },
  { impl: 'kube-proxy', mode: 'iptables' },
];

const def = (plural: string, group = '', version = 'v1') => {
  const d = findResource(group, version, plural);
  if (d === undefined) throw new Error(`no resource ${plural}`);
  return d;
};

function service(i: number): Record<string, unknown> {
  return { apiVersion: 'v1', kind: 'Service', ...benchService(i) };
}

function slice(i: number, gen: number): Record<string, unknown> {
  return { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', ...benchSlice(i, gen) };
}

interface Metrics {
  sum: number;
  count: number;
}

async function metrics(ip: string): Promise<Metrics | undefined> {
  try {
    const text = await (await fetch(`http://${ip}:${METRICS_PORT}/metrics`, { signal: AbortSignal.timeout(2000) })).text();
    const num = (re: RegExp): number => Number(re.exec(text)?.[1] ?? 'NaN');
    return { sum: num(/^kubeproxy_sync_proxy_rules_duration_seconds_sum(?:\{ip_family="IPv4"\})? (\S+)/m), count: num(/^kubeproxy_sync_proxy_rules_duration_seconds_count(?:\{ip_family="IPv4"\})? (\S+)/m) };
  } catch {
    return undefined;
  }
}

/** user+sys CPU seconds of `pid` including its reaped children; peak RSS in MiB. */
function procStats(pid: number): { cpu: number; hwmMiB: number } {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  const ticks = Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return { cpu: ticks / 100, hwmMiB: Number(hwm ?? 0) / 1024 };
}

async function until<T>(fn: () => Promise<T | undefined>, timeoutMs: number, what: string, intervalMs = 25): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Waits for the next sync after `m0`; returns the duration of the syncs seen until the proxy is quiet for `quietMs`. */
async function nextSyncs(ip: string, m0: Metrics, quietMs: number): Promise<{ ms: number; syncs: number }> {
  let last = await until(async () => {
    const m = await metrics(ip);
    return m !== undefined && m.count > m0.count ? m : undefined;
  }, CHANGE_SYNC_LIMIT_MS, 'a sync');
  let quietSince = Date.now();
  while (Date.now() - quietSince < quietMs) {
    await new Promise((r) => setTimeout(r, 25));
    const m = await metrics(ip);
    if (m !== undefined && m.count > last.count) {
      last = m;
      quietSince = Date.now();
    }
  }
  return { ms: (last.sum - m0.sum) * 1000, syncs: last.count - m0.count };
}

async function kernelCounts(ns: string, mode: Mode): Promise<string> {
  if (mode === 'nftables') {
    const j = JSON.parse(await inNs(ns, 'nft', '-j', 'list', 'table', 'ip', 'kube-proxy')) as { nftables: Record<string, { elem?: unknown[] }>[] };
    let rules = 0;
    let chains = 0;
    let elements = 0;
    for (const o of j.nftables) {
      if ('rule' in o) rules++;
      if ('chain' in o) chains++;
      for (const k of ['set', 'map']) elements += o[k]?.elem?.length ?? 0;
    }
    return `${chains} chains, ${rules} rules, ${elements} elements`;
  }
  const save = await inNs(ns, 'iptables-save');
  const rules = save.split('\n').filter((l) => l.startsWith('-A ')).length;
  const chains = save.split('\n').filter((l) => l.startsWith(':KUBE-')).length;
  return `${chains} chains, ${rules} rules`;
}

interface Result {
  c: Contender;
  n: number;
  firstSyncMs: number;
  startToSyncedMs: number;
  epChangeMs: number[];
  addSvcMs: number[];
  addSvcSyncs: number;
  cpuFirst: number;
  cpuTotal: number;
  hwmMiB: number;
  kernel: string;
  /** The first sync did not finish within FIRST_SYNC_LIMIT_MS (the proxy was stopped; no change figures). */
  timedOut?: boolean;
}

const FIRST_SYNC_LIMIT_MS = Number(process.env['NL7_BENCH_FIRST_SYNC_LIMIT_MS'] ?? 240_000);
/** How long to wait for the sync after one change (a slower proxy gets NaN for the rest of its changes). */
const CHANGE_SYNC_LIMIT_MS = Number(process.env['NL7_BENCH_CHANGE_SYNC_LIMIT_MS'] ?? 120_000);

function startProxy(c: Contender, ns: string, ip: string, node: string, kubeconfig: string, nodelet: string, kubeProxy: string): ChildProcess {
  const dir = join(TMP, ns);
  mkdirSync(dir, { recursive: true });
  const log = join(dir, 'proxy.log');
  let argv: string[];
  if (c.impl === 'nodelet') {
    argv = [
      process.execPath, ...NODE_FLAGS, nodelet, '--roles=proxy', `--kubeconfig=${kubeconfig}`, `--hostname-override=${node}`, `--node-ip=${ip}`,
      `--root-dir=${join(dir, 'root')}`, `--proxy-mode=${c.mode}`, '--cluster-cidr=10.128.0.0/9', `--proxy-healthz-bind-address=${ip}:${HEALTHZ_PORT}`,
      `--metrics-bind-address=${ip}:${METRICS_PORT}`, '--conntrack-max-per-core=0', '--conntrack-tcp-timeout-established=0s', '--conntrack-tcp-timeout-close-wait=0s',
    ];
  } else {
    const cfg = join(dir, 'kube-proxy.yaml');
    writeFileSync(cfg, [
      'apiVersion: kubeproxy.config.k8s.io/v1alpha1',
      'kind: KubeProxyConfiguration',
      `mode: ${c.mode}`,
      'clusterCIDR: 10.128.0.0/9',
      `hostnameOverride: ${node}`,
      `bindAddress: ${ip}`,
      `clientConnection: {kubeconfig: ${kubeconfig}, contentType: application/json, acceptContentTypes: application/json}`,
      `healthzBindAddress: ${ip}:${HEALTHZ_PORT}`,
      `metricsBindAddress: ${ip}:${METRICS_PORT}`,
      'conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s, udpTimeout: 0s, udpStreamTimeout: 0s}',
      '',
    ].join('\n'));
    argv = [kubeProxy, `--config=${cfg}`, '--v=0'];
  }
  const out = openSync(log, 'w');
  return spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['ignore', out, out] });
}

async function runOne(api: TestApiServer, c: Contender, idx: number, n: number, changes: number, kubeconfig: string, paths: { nodelet: string; kubeProxy: string }): Promise<Result> {
  const ns = `${PREFIX}${idx}`;
  const ip = `${NET}.${BASE + 2 + idx}`;
  const node = `${NAME}-bench-${idx}`;
  await runCommand(['ip', 'netns', 'del', ns]);
  await createNamespace(ns);
  await sh('ip', 'link', 'add', `${NAME}bv${idx}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
  await sh('ip', 'link', 'set', `${NAME}bv${idx}`, 'master', BRIDGE, 'up');
  await inNs(ns, 'ip', 'addr', 'add', `${ip}/27`, 'dev', 'eth0');
  await inNs(ns, 'ip', 'link', 'set', 'eth0', 'up');
  const t0 = Date.now();
  const child = startProxy(c, ns, ip, node, kubeconfig, paths.nodelet, paths.kubeProxy);
  const pid = child.pid ?? 0;
  try {
    let first: Metrics;
    try {
      first = await until(async () => {
        const m = await metrics(ip);
        return m !== undefined && m.count >= 1 ? m : undefined;
      }, FIRST_SYNC_LIMIT_MS, `${c.impl} ${c.mode}: first sync`);
    } catch {
      const st = procStats(pid);
      return { c, n, firstSyncMs: NaN, startToSyncedMs: NaN, epChangeMs: [], addSvcMs: [], addSvcSyncs: 0, cpuFirst: st.cpu, cpuTotal: st.cpu, hwmMiB: st.hwmMiB, kernel: 'first sync unfinished', timedOut: true };
    }
    const startToSyncedMs = Date.now() - t0;
    const firstSyncMs = (first.sum / first.count) * 1000;
    const cpuFirst = procStats(pid).cpu;
    // Let start-up follow-ups (node informer, health) settle.
    let m0 = (await nextSyncsOrQuiet(ip, first, 2500)) ?? first;
    const epChangeMs: number[] = [];
    const addSvcMs: number[] = [];
    let addSvcSyncs = 0;
    let stalled = false;
    for (let k = 0; k < changes && !stalled; k++) {
      const sl = slice(k * 97 + 1, idx * 100 + k + 1);
      const meta = sl['metadata'] as { namespace: string; name: string };
      const cur = api.registry.get(def('endpointslices', 'discovery.k8s.io'), meta.namespace, meta.name) as { metadata: { resourceVersion: string } };
      (sl['metadata'] as Record<string, unknown>)['resourceVersion'] = cur.metadata.resourceVersion;
      api.registry.update(def('endpointslices', 'discovery.k8s.io'), meta.namespace, meta.name, sl as never);
      const r = await nextSyncs(ip, m0, 1500).catch(() => undefined);
      if (r === undefined) {
        stalled = true;
        break;
      }
      epChangeMs.push(r.ms / r.syncs);
      m0 = (await metrics(ip)) ?? m0;
    }
    for (let k = 0; k < changes && !stalled; k++) {
      const i = n + idx * 100 + k;
      const s = service(i);
      api.registry.create(def('endpointslices', 'discovery.k8s.io'), `ns${i % 50}`, slice(i, 0) as never);
      api.registry.create(def('services'), `ns${i % 50}`, s as never);
      const r = await nextSyncs(ip, m0, 1500).catch(() => undefined);
      if (r === undefined) {
        stalled = true;
        break;
      }
      addSvcMs.push(r.ms);
      addSvcSyncs += r.syncs;
      m0 = (await metrics(ip)) ?? m0;
    }
    const st = procStats(pid);
    const kernel = await kernelCounts(ns, c.mode);
    return { c, n, firstSyncMs, startToSyncedMs, epChangeMs, addSvcMs, addSvcSyncs, cpuFirst, cpuTotal: st.cpu, hwmMiB: st.hwmMiB, kernel };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    if (child.exitCode === null) child.kill('SIGKILL');
    // Remove the objects this contender added, so every contender sees the same N services.
    for (let k = 0; k < changes; k++) {
      const i = n + idx * 100 + k;
      for (const [d, name] of [[def('services'), `svc${i}`], [def('endpointslices', 'discovery.k8s.io'), `svc${i}-abc`]] as const) {
        try {
          api.registry.delete(d, `ns${i % 50}`, name, {});
        } catch {
          // not created
        }
      }
    }
    await runCommand(['ip', 'netns', 'del', ns]);
  }
}

async function nextSyncsOrQuiet(ip: string, m0: Metrics, quietMs: number): Promise<Metrics | undefined> {
  let last = m0;
  let quietSince = Date.now();
  while (Date.now() - quietSince < quietMs) {
    await new Promise((r) => setTimeout(r, 50));
    const m = await metrics(ip);
    if (m !== undefined && m.count > last.count) {
      last = m;
      quietSince = Date.now();
    }
  }
  return last;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : (s[(s.length - 1) >> 1]! + s[s.length >> 1]!) / 2;
};
const f0 = (x: number): string => (Number.isFinite(x) ? x.toFixed(0) : '–');
const f1 = (x: number): string => (Number.isFinite(x) ? x.toFixed(1) : '–');

async function main(): Promise<void> {
  const sizes = arg('sizes', '1000,5000,10000').split(',').map(Number);
  const changes = Number(arg('changes', '3'));
  // e.g. --only nodelet-nftables,kube-proxy-nftables (default: all four); a partial run does not write the docs.
  const only = process.argv.includes('--only') ? arg('only', '').split(',') : undefined;
  const paths = { nodelet: arg('nodelet', '/tmp/h7/nodelet.mjs'), kubeProxy: arg('kube-proxy', '/tmp/h7/bin/kube-proxy') };
  for (const p of [paths.nodelet, paths.kubeProxy]) if (!existsSync(p)) throw new Error(`missing ${p} (see the usage in the file comment)`);
  const machine = machineFacts();
  // --include FILE: JSON lines printed by an earlier run (other sizes) to document together with this run's.
  const results: Result[] = process.argv.includes('--include')
    ? readFileSync(arg('include', ''), 'utf8').split('\n').filter((l) => l.startsWith('{')).map((l) => {
        const r = JSON.parse(l) as Omit<Result, 'c'> & { c: string };
        const [impl, mode] = r.c.split(' ') as [Impl, Mode];
        return { ...r, c: { impl, mode } };
      })
    : [];
  const docSizes = [...new Set([...results.map((r) => r.n), ...sizes])].sort((a, b) => a - b);
  // --doc-only: write the section from --include alone (results gathered by several runs).
  if (process.argv.includes('--doc-only')) {
    writeDoc(results, [...new Set(results.map((r) => r.n))].sort((a, b) => a - b), changes, machine);
    return;
  }
  await deleteNamespaces(PREFIX);
  await runCommand(['ip', 'link', 'del', BRIDGE]);
  await sh('ip', 'link', 'add', BRIDGE, 'type', 'bridge');
  await sh('ip', 'addr', 'add', `${HOST_IP}/27`, 'dev', BRIDGE);
  await sh('ip', 'link', 'set', BRIDGE, 'up');
  rmSync(TMP, { recursive: true, force: true });
  mkdirSync(TMP, { recursive: true });
  try {
    for (const n of sizes) {
      const api = await startTestApiServer({ listenHost: HOST_IP, endpointSliceController: false, scheduler: false, historySize: 50_000 });
      try {
        const kubeconfig = join(TMP, `kubeconfig-${n}`);
        writeFileSync(kubeconfig, renderKubeconfig({ server: api.url, caCertPem: api.caCertPem, token: api.token }).replace(/(    server: .*\n)/, '$1    tls-server-name: 127.0.0.1\n'));
        for (let i = 0; i < 50; i++) api.registry.create(def('namespaces'), undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: `ns${i}` } } as never);
        for (const [idx] of CONTENDERS.entries()) {
          api.registry.create(def('nodes'), undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: `${NAME}-bench-${idx}` }, status: { addresses: [{ type: 'InternalIP', address: `${NET}.${BASE + 2 + idx}` }] } } as never);
        }
        for (let i = 0; i < n; i++) {
          api.registry.create(def('services'), `ns${i % 50}`, service(i) as never);
          api.registry.create(def('endpointslices', 'discovery.k8s.io'), `ns${i % 50}`, slice(i, 0) as never);
        }
        for (const [idx, c] of CONTENDERS.entries()) {
          if (only !== undefined && !only.includes(`${c.impl}-${c.mode}`)) continue;
          const r = await runOne(api, c, idx, n, changes, kubeconfig, paths);
          results.push(r);
          console.log(JSON.stringify({ ...r, c: `${c.impl} ${c.mode}` }));
        }
        // After every size, so an interrupted run still documents the sizes it finished.
        if (only === undefined) writeDoc(results, docSizes.filter((x) => results.some((r) => r.n === x)), changes, machine);
      } finally {
        await api.stop();
      }
    }
  } finally {
    await deleteNamespaces(PREFIX);
    await runCommand(['ip', 'link', 'del', BRIDGE]);
  }
}

function writeDoc(results: Result[], sizes: number[], changes: number, machine: ReturnType<typeof machineFacts>): void {
  const rows = results.map((r) =>
    `| ${r.n} | ${r.c.impl} ${r.c.mode} | ${r.timedOut === true ? `> ${FIRST_SYNC_LIMIT_MS / 1000} s (stopped)` : f0(r.firstSyncMs)} | ${f0(r.startToSyncedMs)} | ${f1(median(r.epChangeMs))} | ${f1(median(r.addSvcMs))} (${(r.addSvcSyncs / Math.max(1, r.addSvcMs.length)).toFixed(1)}) | ${f1(r.cpuFirst)} / ${f1(r.cpuTotal)} | ${f0(r.hwmMiB)} | ${r.kernel} |`,
  );
  const ratios: string[] = [];
  for (const n of sizes) {
    const at = results.filter((r) => r.n === n);
    const best = (f: (r: Result) => number, impl: Impl): number => Math.min(...at.filter((r) => r.c.impl === impl && r.timedOut !== true).map(f).filter(Number.isFinite));
    for (const [what, f] of [
      ['first full sync', (r: Result) => r.firstSyncMs],
      ['one EndpointSlice change', (r: Result) => median(r.epChangeMs)],
      ['one service added', (r: Result) => median(r.addSvcMs)],
      ['CPU total', (r: Result) => r.cpuTotal],
      ['peak RSS', (r: Result) => r.hwmMiB],
    ] as const) {
      const nl = best(f, 'nodelet');
      const kp = best(f, 'kube-proxy');
      ratios.push(`| ${n} | ${what} | ${f1(nl)} | ${f1(kp)} | ${(nl / kp).toFixed(2)} |`);
    }
  }
  const body = [
    `Measured ${machineLine(machine)}; sizes ${sizes.join(', ')}; ${changes} changes of each kind per proxy. nodelet = the daemon bundle (proxy role only, node ${NODE_FLAGS.join(' ')}); kube-proxy = upstream v1.33.3 binary. Each ran alone in its own network namespace, fed by the same test API server (JSON), one after another.`,
    '',
    'Sync times are from each proxy\'s own `kubeproxy_sync_proxy_rules_duration_seconds` (first sync; the median of the syncs after one EndpointSlice update; the sum of the syncs after adding one Service with its EndpointSlice, syncs per add in parentheses). "start→synced" is wall time from process start to the first sync done (includes the initial LIST). CPU is user+sys seconds of the proxy process and its iptables-restore/nft children (after the first sync / at the end); RSS is VmHWM.',
    '',
    '| services | proxy | first sync ms | start→synced ms | 1 slice change ms | 1 service added ms (syncs) | CPU s first / total | peak RSS MiB | kernel objects |',
    '|---:|---|---:|---:|---:|---:|---:|---:|---|',
    ...rows,
    '',
    'Best nodelet mode against best kube-proxy mode (ratio < 1: nodelet better):',
    '',
    '| services | figure | nodelet best | kube-proxy best | ratio |',
    '|---:|---|---:|---:|---:|',
    ...ratios,
  ].join('\n');
  writeSubsection('proxy-vs-kube-proxy', '## Proxy: nodelet vs upstream kube-proxy v1.33.3 (iptables and nftables)', 'proxy-vs-kube-proxy:table', body);
  console.log(body);
}

await main();
