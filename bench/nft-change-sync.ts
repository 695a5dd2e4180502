/**
 * Micro-benchmark of the nftables one-change sync (issue 17; not part of the test suite): NftProxier with the real
 * `nft` in a private network namespace (loopback only, no route anywhere), N services × 5 endpoints (10 % NodePort,
 * the pod CIDR known so service chains have their masquerade rule, as in bench/proxy-vs-kube-proxy.ts), one full
 * sync, then `--changes` syncs that each replace ONE endpoint of one service. Per change sync: wall ms, nodelet's
 * own CPU, and the user/sys CPU of its `nft` children (from /proc/self/stat cutime/cstime: the kernel's commit work,
 * validation included, is the children's sys time).
 *
 * `--dump DIR` also writes every transaction's input (full-prepare.nft, full.nft, change-1.nft, …) for experiments
 * with `nft -f` by hand; `--keep` leaves the namespace (and its table) behind for them.
 *
 * Usage: tsx bench/nft-change-sync.ts [--services 10000] [--changes 10] [--dump DIR] [--keep]
 * Environment: NFT_BENCH_NETNS (default `hn-nft`).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultProxyConfig, resolveProxyConfig } from '../src/proxy/config.js';
import { runCommand } from '../src/proxy/exec.js';
import { ExecNft, type Nft } from '../src/proxy/nft/exec.js';
import { NftProxier } from '../src/proxy/nft/proxier.js';
import { createNamespace } from '../test/support/netns.js';
import { benchService as service, benchSlice as slice, benchProxierBase } from './lib/proxy-objects.js';

const NS = process.env['NFT_BENCH_NETNS'] ?? 'hn-nft';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? def) : def;
}

/** CPU seconds: this process (user+sys), and its reaped children split into user and sys. */
function cpu(): { self: number; childUser: number; childSys: number } {
  const u = process.cpuUsage();
  const f = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]?.split(' ') ?? [];
  return { self: (u.user + u.system) / 1e6, childUser: Number(f[13]) / 100, childSys: Number(f[14]) / 100 };
}

/** Records every transaction's input when dumping. */
class RecordingNft implements Nft {
  readonly family;
  readonly #inner: Nft;
  readonly #dir: string | undefined;
  name = 'tx';
  #n = 0;
  constructor(inner: Nft, dir: string | undefined) {
    this.#inner = inner;
    this.family = inner.family;
    this.#dir = dir;
  }
  run(commands: readonly string[]): Promise<void> {
    if (this.#dir !== undefined) writeFileSync(join(this.#dir, `${this.name}-${++this.#n}.nft`), `${commands.join('\n')}\n`);
    return this.#inner.run(commands);
  }
  list(): Promise<string> {
    return this.#inner.list();
  }
  deleteTable(): Promise<void> {
    return this.#inner.deleteTable();
  }
  objects(): ReturnType<Nft['objects']> {
    return this.#inner.objects();
  }
}

async function main(): Promise<void> {
  const n = Number(arg('services', '10000'));
  const changes = Number(arg('changes', '10'));
  const dump = arg('dump', '');
  if (dump !== '') mkdirSync(dump, { recursive: true });
  await runCommand(['ip', 'netns', 'del', NS]);
  await createNamespace(NS);
  const cfg = defaultProxyConfig();
  cfg.mode = 'nftables';
  cfg.clusterCIDR = '10.128.0.0/9';
  const nft = new RecordingNft(new ExecNft({ family: 'IPv4', netns: NS }), dump === '' ? undefined : dump);
  const proxier = new NftProxier({ nft, ...benchProxierBase(resolveProxyConfig(cfg)) });
  for (let i = 0; i < n; i++) {
    const s = service(i);
    proxier.onService(`${s.metadata?.namespace}/${s.metadata?.name}`, s);
    proxier.onEndpointSlice(slice(i, 0), false);
  }
  proxier.onServicesSynced();
  proxier.onEndpointSlicesSynced();
  nft.name = 'full';
  const t0 = performance.now();
  const full = await proxier.sync();
  if (!full.ok) throw new Error('full sync failed');
  console.log(JSON.stringify({ services: n, fullMs: Math.round(performance.now() - t0), totals: proxier.totals() }));
  const rows: { ms: number; self: number; childUser: number; childSys: number }[] = [];
  for (let c = 0; c < changes; c++) {
    const i = Math.floor((c + 0.5) * (n / changes));
    nft.name = `change-${c + 1}`;
    const c0 = cpu();
    const w0 = performance.now();
    proxier.onEndpointSlice(slice(i, c + 1), false);
    const r = await proxier.sync();
    const ms = performance.now() - w0;
    const c1 = cpu();
    if (r.kind !== 'partial' || !r.ok) throw new Error(`change sync ${c + 1} was ${r.kind} ok=${r.ok}`);
    const row = { ms: Math.round(ms * 10) / 10, self: c1.self - c0.self, childUser: c1.childUser - c0.childUser, childSys: c1.childSys - c0.childSys };
    rows.push(row);
    console.log(JSON.stringify({ change: c + 1, service: i, ...row }));
  }
  const med = (a: number[]): number => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)] ?? 0;
  console.log(
    JSON.stringify({
      medianMs: med(rows.map((r) => r.ms)),
      medianSelfCpuMs: Math.round(med(rows.map((r) => r.self)) * 1000),
      meanChildUserMs: Math.round((rows.reduce((a, r) => a + r.childUser, 0) / rows.length) * 1000),
      meanChildSysMs: Math.round((rows.reduce((a, r) => a + r.childSys, 0) / rows.length) * 1000),
      load: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
    }),
  );
  if (!process.argv.includes('--keep')) await runCommand(['ip', 'netns', 'del', NS]);
}

await main();
