/**
 * Pod sandbox network cost on the Docker backend (issue 15; not part of the test suite): runPodSandbox until the
 * sandbox runs with its IP (podSandboxStatus), then stop + remove, for the Docker bridge and for CNI (loopback +
 * bridge + host-local + portmap, the real plugins, bridge nl8cni0 on 10.214.8.128/26), alternating the modes so load
 * drift hits both. Runs on the shared Docker engine with its own labelled sandboxes (removed afterwards).
 *
 * Usage: tsx bench/cni-sandbox.ts [--n 20] [--no-doc]   Writes the `network:cni-sandbox` block of docs/benchmarks.md.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { CniPodNetwork, ExecCniPlugin } from '../src/cni/index.js';
import { sandboxConfig } from '../src/cri/contract-fixtures.js';
import { DockerRuntime } from '../src/cri/index.js';
import { writeSubsection } from './lib/docs.js';
import { machineFacts, machineLine } from './lib/machine.js';
import { quartet, summarize } from './lib/stats.js';

const ROOT = '/tmp/nl8-bench-cni';
const LABEL = { 'io.nodelet.test': 'nl8-bench-cni' };

function args(): { n: number; doc: boolean } {
  const a = { n: 20, doc: true };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--no-doc') a.doc = false;
    else if (argv[i] === '--n') a.n = Number(argv[++i]);
    else throw new Error(`unknown argument ${String(argv[i])} (usage: tsx bench/cni-sandbox.ts [--n 20] [--no-doc])`);
  }
  return a;
}

async function cycle(rt: DockerRuntime, i: number): Promise<{ up: number; down: number }> {
  const cfg = sandboxConfig(`nl8-bench-${i}`, LABEL, { portMappings: [{ protocol: 'TCP', containerPort: 80, hostPort: 20890 }] });
  const t0 = performance.now();
  const id = await rt.runPodSandbox(cfg);
  const st = await rt.podSandboxStatus(id);
  if (st.ip === '') throw new Error(`sandbox ${id} has no IP`);
  const t1 = performance.now();
  await rt.stopPodSandbox(id);
  await rt.removePodSandbox(id);
  return { up: t1 - t0, down: performance.now() - t1 };
}

async function main(): Promise<void> {
  const a = args();
  const facts = machineFacts();
  rmSync(ROOT, { recursive: true, force: true });
  mkdirSync(`${ROOT}/net.d`, { recursive: true });
  writeFileSync(
    `${ROOT}/net.d/10-nl8bench.conflist`,
    JSON.stringify({
      cniVersion: '1.0.0',
      name: 'nl8bench',
      plugins: [
        { type: 'bridge', bridge: 'nl8cni0', isGateway: true, ipMasq: false, ipam: { type: 'host-local', dataDir: `${ROOT}/ipam`, ranges: [[{ subnet: '10.214.8.128/26' }]] } },
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    }),
  );
  const bridge = new DockerRuntime({});
  const cni = new DockerRuntime({ podNetwork: new CniPodNetwork({ plugin: new ExecCniPlugin({ binDirs: ['/opt/cni/bin', '/usr/lib/cni'], cacheDir: `${ROOT}/cache` }), confDir: `${ROOT}/net.d` }) });
  const res = { bridge: { up: [] as number[], down: [] as number[] }, cni: { up: [] as number[], down: [] as number[] } };
  try {
    await cycle(bridge, 1000); // warm-up of both paths
    await cycle(cni, 1001);
    for (let i = 0; i < a.n; i++) {
      for (const [mode, rt] of [['bridge', bridge], ['cni', cni]] as const) {
        const r = await cycle(rt, i * 2 + (mode === 'cni' ? 1 : 0));
        res[mode].up.push(r.up);
        res[mode].down.push(r.down);
      }
    }
  } finally {
    await bridge.close();
    await cni.close();
    try {
      execFileSync('ip', ['link', 'del', 'nl8cni0'], { stdio: 'ignore' });
    } catch {
      // not there
    }
    rmSync(ROOT, { recursive: true, force: true });
  }
  const rows = (['bridge', 'cni'] as const).map((m) => `| ${m === 'cni' ? 'CNI (loopback + bridge + host-local + portmap)' : 'Docker bridge'} | ${a.n} | ${quartet(summarize(res[m].up))} | ${quartet(summarize(res[m].down))} |`);
  const body = [
    `Sandbox with network (one hostPort): runPodSandbox until podSandboxStatus has the IP, then stop + remove (DEL). ${machineLine(facts)}.`,
    '',
    '| network | n | up p50 / p90 / p99 / max | down p50 / p90 / p99 / max |',
    '| --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
  console.log(body);
  if (a.doc) writeSubsection('network', '## Pod network (issue 15)', 'network:cni-sandbox', body);
}

await main();
