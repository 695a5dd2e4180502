/** The docs/benchmarks.md text of bench/pod-startup-cni.ts: pure, from the phases' results. */
import { spawnSync } from 'node:child_process';
import { conflist, type CniNetwork, type Target } from './startup-agents.js';
import { sec, summarize, type Summary } from './stats.js';

/** True when `ip` is an IPv4 address inside the IPv4 `cidr` (false for '' or IPv6: a pod without its IP fails the check). */
export function inCidr(ip: string, cidr: string): boolean {
  const n = (a: string): number => a.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
  const [base = '', bits = '32'] = cidr.split('/');
  const size = 2 ** (32 - Number(bits));
  return /^\d+\.\d+\.\d+\.\d+$/.test(ip) && Math.floor(n(ip) / size) === Math.floor(n(base) / size);
}

/** What one setup measured in one round. */
export interface PhaseResult {
  target: Target;
  round: number;
  node: string;
  /** create call → Ready=True seen on the watch, ms, one per counted pod. */
  ready: number[];
  /** create call → phase Running seen on the watch, ms. */
  running: number[];
  ips: string[];
  /** The range every IP had to be in. */
  range: string;
  distinctIps: number;
  /** Seconds from the first timed create to the last Ready. */
  window: number;
  /** CPU seconds (with reaped children) of the agent and the runtime daemon in that window. */
  agentCpu: number;
  runtimeCpu: number;
  /** Delete-collection → no pod listed, ms (NaN: timed out). */
  deleteMs: number;
  /** host-local allocations left after teardown. */
  leakedIps: number;
  loadStart: string;
  loadEnd: string;
  /** Share of the machine's CPU time (all processes, all cores) that was busy in the window, 0..1. */
  machineBusy: number;
}

/** Inputs of {@link report}. */
export interface ReportInput {
  machine: string;
  loadEnd: string;
  pods: number;
  intervalMs: number;
  rounds: number;
  order: readonly Target[];
  image: string;
  cni: CniNetwork;
  bridgeSubnet: string;
  results: readonly PhaseResult[];
}

const LABEL: Record<Target, string> = {
  'kubelet-containerd': '(a) upstream kubelet v1.33.3, containerd CRI + CNI',
  'nodelet-containerd': '(b) nodelet, containerd CRI + CNI',
  'nodelet-docker-cni': '(c) nodelet, Docker + CNI (`--network-plugin=cni`)',
  'nodelet-docker-bridge': '(d) nodelet, Docker bridge (`--network-plugin=docker`)',
};

const ratio = (a: number, b: number): string => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}×` : 'n/a');
const version = (cmd: string, args: string[], pick: (out: string) => string | undefined): string => {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return (r.status === 0 ? pick(r.stdout) : undefined) ?? '?';
};

function pooled(results: readonly PhaseResult[], t: Target): { ready: Summary; running: Summary; runs: PhaseResult[] } {
  const runs = results.filter((r) => r.target === t);
  const ok = (v: number[]): number[] => v.filter(Number.isFinite);
  return { ready: summarize(ok(runs.flatMap((r) => r.ready))), running: summarize(ok(runs.flatMap((r) => r.running))), runs };
}

/** The subsection text (markdown). */
export function report(i: ReportInput): string {
  const targets = i.order.filter((t, k) => i.order.indexOf(t) === k);
  const up = pooled(i.results, 'kubelet-containerd');
  const row = (t: Target): string => {
    const p = pooled(i.results, t);
    const cpu = p.runs.reduce((a, r) => ({ agent: a.agent + r.agentCpu, runtime: a.runtime + r.runtimeCpu }), { agent: 0, runtime: 0 });
    const n = p.ready.n;
    const vs = t === 'kubelet-containerd' || up.ready.n === 0 ? '—' : `${ratio(p.ready.p50, up.ready.p50)} / ${ratio(p.ready.p99, up.ready.p99)}`;
    const ips = `${p.runs.reduce((a, r) => a + r.distinctIps, 0)}/${p.runs.reduce((a, r) => a + r.ips.length, 0)} distinct within their run, all in ${[...new Set(p.runs.map((r) => r.range))].join(', ')}`;
    const del = p.runs.map((r) => sec(r.deleteMs)).join(', ');
    return `| ${LABEL[t]} | ${n} | ${sec(p.ready.p50)} / ${sec(p.ready.p99)} / ${sec(p.ready.max)} | ${vs} | ${sec(p.running.p50)} | ${ips} | ${(cpu.agent / n).toFixed(3)} / ${(cpu.runtime / n).toFixed(3)} | ${del} |`;
  };
  const phaseRow = (r: PhaseResult): string => {
    const s = summarize(r.ready.filter(Number.isFinite));
    return `| ${r.round} | ${r.target} | ${r.node} | ${sec(s.p50)} / ${sec(s.p99)} | ${r.window.toFixed(1)} s | ${r.leakedIps} | ${(r.machineBusy * 100).toFixed(0)} % | ${r.loadStart} → ${r.loadEnd} |`;
  };
  const containerd = version('containerd', ['--version'], (o) => o.trim().split(' ')[2]);
  const docker = version('dockerd', ['--version'], (o) => /version ([^,\s]+)/.exec(o)?.[1]);
  const plugins = version('dpkg-query', ['-W', '-f=${Version}', 'containernetworking-plugins'], (o) => o.trim() || undefined);
  return `### Pod startup with CNI, ${i.pods} pods per setup: nodelet vs the upstream kubelet (bench/pod-startup-cni.ts)

\`npx tsx bench/pod-startup-cni.ts --pods=${i.pods}${i.rounds > 1 ? ` --rounds=${i.rounds}` : ''}\` — one run: ${i.machine}; load at end ${i.loadEnd}.
The machine is shared (2 cores, other sessions' 100-pod benchmarks running at the same time): absolute numbers are
noisy, compare setups through the ratios and the per-setup load below. One real control plane v1.33.3
(../shared/k8s/up.sh); setups run one after another${i.rounds > 1 ? ` in ${i.rounds} rounds (${targets.join(' → ')}, every second round reversed so a load trend hits all alike; samples pooled per setup)` : ` (${targets.join(' → ')})`}, each
started from nothing (its own runtime daemon, agent, Node registration) and torn down before the next:
(a) the upstream kubelet v1.33.3 on a private containerd ${containerd} whose CRI plugin runs CNI; (b) nodelet on the same
kind of containerd with the same conflist; (c) nodelet on a private dockerd ${docker} with \`--network-plugin=cni\` and the
same conflist; (d) nodelet on a private dockerd in Docker bridge mode (bridge on ${i.bridgeSubnet}).
CNI plugins: Debian containernetworking-plugins ${plugins}. The conflist (\`${i.cni.name}\`): bridge \`${i.cni.bridge}\`
(gateway, no masquerade, hairpin) + host-local (${i.cni.subnet}, its own dataDir, no routes: pods reach only the
bridge and this host) + portmap; loopback on \`lo\` is attached by the runtime itself before it (containerd's CRI plugin
and nodelet's CNI network both do, as libcni users do). Pods declare no hostPort, so portmap passes through.

Per setup: the node Ready, one warm-up pod (not counted), then ${i.pods} pods created at a fixed rate, one every
${i.intervalMs} ms without waiting for earlier ones (earlier pods keep running), each pinned by \`spec.nodeName\`:
one container \`${i.image}\` (\`sleep\`), imagePullPolicy IfNotPresent, the service-account token volume from
admission. Startup = the create call → the first WATCH event showing phase Running / condition Ready=True. CPU: utime +
stime plus reaped children (the CNI plugins the runtime or nodelet execs) of the agent and of the runtime daemon
(containerd / dockerd; shims not counted) from the first timed create to the last Ready, per pod.

| setup | n | create → Ready p50 / p99 / max | vs upstream (p50 / p99) | create → Running p50 | pod IPs | CPU per pod, agent / runtime (s) | delete-collection → gone |
| --- | --- | --- | --- | --- | --- | --- | --- |
${targets.map(row).join('\n')}

Per setup run (Ready p50 / p99; window = first timed create → last Ready; IPs still allocated in host-local's dataDir
after the pods were deleted; machine CPU busy = all processes on both cores in the window, from /proc/stat; load
average 1/5/15 min at the setup's start → after its last pod was Ready):

| round | setup | node | Ready p50 / p99 | window | IPs left | machine CPU busy | load |
| --- | --- | --- | --- | --- | --- | --- | --- |
${i.results.map(phaseRow).join('\n')}

The conflist: \`${JSON.stringify(JSON.parse(conflist(i.cni))).replace(/"dataDir":"[^"]*"/, '"dataDir":"<run dir>/ipam"')}\`
`;
}
