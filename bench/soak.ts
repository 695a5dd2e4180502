/**
 * Soak (issue 14; not part of the test suite): runs nodelet with both roles against a cluster for a configurable time
 * (default 24 h; `--minutes 60` is the short form) with continuous churn while faults are injected on a schedule.
 *
 * - Kubelet role: a nodelet process on the host with a PRIVATE dockerd (`--live-restore`, so an engine restart does
 *   not kill containers; bridge `<prefix>-soak0`, pods on `<net>.0/25`).
 * - Proxy role: a second nodelet process (`--roles=proxy`, the cluster's kube-proxy identity) inside its own network
 *   namespace `<prefix>-soakns`, whose only link is a veth to the host (`<net>.253/30` ↔ `<net>.254/30`) and which
 *   has no default route: its iptables rules live in that namespace only, and nothing it does can reach another host.
 *   It reaches the API server on the host end of the veth (TLS server name `localhost`, which is in up.sh's cert).
 * - Churn (every 10 s): a plain pod created (ConfigMap volume) and the one 10 ticks older deleted; the ConfigMap
 *   updated; a selector-less Service with its own EndpointSlice created and the one 10 ticks older deleted; a stable
 *   Service's EndpointSlice rewritten; every 3rd tick a crash-looping or probe-failing pod created and the one of its
 *   kind 2 rounds older deleted. Five healthy pods (and a Service selecting them) live for the whole run.
 * - Faults (each `kind=everyMin@firstMin`, `--faults` overrides; times are from the start, not ticks, so a slow
 *   machine does not thin them out): `kill` the kubelet agent SIGKILLed and restarted; `dockerd` the private engine
 *   restarted; `watch` every TCP connection of both agents to the API server reset (`ss -K`, so every watch drops);
 *   `api` the API server stopped, kept down 60 s and restarted; `etcd` etcd restarted. `api`/`etcd` need
 *   `--control-plane DIR`, a control plane of ../shared/k8s/up.sh that this run may restart (NEVER the shared one);
 *   it is restarted with `bash up.sh DIR` and this process's environment (give the same K8S_PORT… as at start).
 *   On the in-process test API server (no KUBECONFIG) `api` and `watch` use its fault hooks instead.
 *   Before every `api` fault a victim pod (restartPolicy Never) is started; while the server is down its container
 *   is killed in the engine; the status convergence time is from the API server being ready again until the pod's
 *   status shows the container terminated. A pod created right after the outage gives the time to Running too.
 * - Every minute (JSON line): per agent RSS, V8 heap used/total, open fds, active handles, active timers, event-loop
 *   delay p99 (from each process's /metrics: prom-client defaults), iptables rules and KUBE-SVC chains in the proxy
 *   namespace vs Services with ready endpoints, pods vs running app containers (and containers without a pod), pods
 *   created so far vs pods seen with a `Started` event.
 * - At the end (JSON line `summary` + stdout): pods created, faults with their outcome, orphan and duplicate
 *   containers, restarts of healthy containers, convergence after each API outage, RSS/heap slope after warm-up.
 *
 * Usage (see docs/reliability.md):
 *   K8S_NODES=h5-a K8S_PORT=21400 ETCD_PORT=21401 ETCD_PEER_PORT=21402 KCM_PORT=21403 SCHED_PORT=21404 \
 *   KUBECONFIG=/tmp/h5-k8s/admin.kubeconfig NODELET_ENTRY=/tmp/h5/nodelet.mjs \
 *     tsx bench/soak.ts --minutes 60 --node h5-a --control-plane /tmp/h5-k8s --prefix h5 --net 10.231.5 \
 *       --port-base 21410 --out /tmp/h5-soak/soak.jsonl
 */
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { REPO_ROOT, runNodelet, startCluster, waitFor, type Cluster, type NodeletProcess } from '../test/e2e/harness/index.js';
import { fastKubeletConfig, startPrivateDockerd, tempDir, type PrivateDockerd } from '../test/e2e/node-helpers.js';
import { statusMB } from './lib/proc.js';

interface Fault {
  kind: 'kill' | 'dockerd' | 'watch' | 'api' | 'etcd';
  everyMin: number;
  firstMin: number;
}

interface Args {
  minutes: number;
  node: string;
  ns: string;
  out: string;
  logDir: string;
  prefix: string;
  net: string;
  portBase: number;
  controlPlane: string | undefined;
  faults: Fault[];
  warmupMin: number;
}

function args(argv: string[]): Args {
  const get = (name: string, def: string): string => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : def;
  };
  const faults = get('faults', 'kill=5@5,watch=10@4,etcd=20@8,api=20@12,dockerd=20@17')
    .split(',')
    .filter((s) => s !== '')
    .map((s) => {
      const m = /^(kill|dockerd|watch|api|etcd)=(\d+(?:\.\d+)?)@(\d+(?:\.\d+)?)$/.exec(s);
      if (!m) throw new Error(`--faults: bad entry ${s} (want kind=everyMin@firstMin)`);
      return { kind: m[1] as Fault['kind'], everyMin: Number(m[2]), firstMin: Number(m[3]) };
    });
  const out = resolve(get('out', 'soak.jsonl'));
  return {
    minutes: Number(get('minutes', '1440')),
    node: get('node', 'nl-fix-2'),
    ns: get('ns', 'soak'),
    out,
    logDir: resolve(get('log-dir', join(out, '..', 'logs'))),
    prefix: get('prefix', 'nl6'),
    net: get('net', '10.214.6'),
    portBase: Number(get('port-base', '20640')),
    controlPlane: argv.includes('--control-plane') ? resolve(get('control-plane', '')) : undefined,
    faults,
    warmupMin: Number(get('warmup-min', '10')),
  };
}

const IMAGE = 'localhost/nodelet/testbox:1.0';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const now = (): string => new Date().toISOString();

interface PodLike {
  metadata: { name: string; uid: string; labels?: Record<string, string> };
  status?: {
    phase?: string;
    containerStatuses?: { name: string; restartCount: number; ready: boolean; state?: { terminated?: unknown; running?: unknown } }[];
  };
}

type PodKind = 'plain' | 'crash' | 'probe' | 'healthy' | 'victim';

function pod(ns: string, node: string, name: string, kind: PodKind): string {
  const c: Record<string, unknown> = { name: 'c', image: IMAGE, command: ['sleep', '100000'] };
  if (kind === 'crash') c.command = ['sh', '-c', 'sleep 2; exit 1'];
  if (kind === 'probe') c.livenessProbe = { exec: { command: ['false'] }, periodSeconds: 5, failureThreshold: 2 };
  const withCfg = kind === 'plain' || kind === 'healthy';
  if (withCfg) c.volumeMounts = [{ name: 'cfg', mountPath: '/cfg' }];
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns, labels: { soak: kind } },
    spec: {
      nodeName: node,
      terminationGracePeriodSeconds: 1,
      restartPolicy: kind === 'victim' ? 'Never' : 'Always',
      containers: [c],
      volumes: withCfg ? [{ name: 'cfg', configMap: { name: 'soak-cfg' } }] : undefined,
    },
  });
}

/** A selector-less Service and its EndpointSlice (two endpoints on the pod subnet; nothing is ever sent to them). */
function serviceWithSlice(ns: string, name: string, net: string, n: number): string {
  const ip = (k: number): string => `${net}.${2 + ((n + k) % 100)}`;
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'List',
    items: [
      { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns }, spec: { ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] } },
      {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { name: `${name}-1`, namespace: ns, labels: { 'kubernetes.io/service-name': name, 'endpointslice.kubernetes.io/managed-by': 'soak' } },
        addressType: 'IPv4',
        ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
        endpoints: [
          { addresses: [ip(0)], conditions: { ready: true } },
          { addresses: [ip(1)], conditions: { ready: true } },
        ],
      },
    ],
  });
}

/** Parses one unlabelled (or first matching labelled) sample of a Prometheus text exposition. */
function metric(text: string, name: string, labels = ''): number | null {
  const re = new RegExp(`^${name}${labels === '' ? '' : `\\{[^}]*${labels}[^}]*\\}`} (\\S+)`, 'm');
  const m = re.exec(text);
  return m ? Number(m[1]) : null;
}

interface ProcSample {
  rssMB: number | null;
  heapUsedMB: number | null;
  heapTotalMB: number | null;
  fds: number | null;
  handles: number | null;
  timers: number | null;
  loopP99ms: number | null;
  /** The proxy's full/partial rule syncs so far (kubeproxy_sync_proxy_rules_duration_seconds_count). */
  proxySyncs: number | null;
}

async function procSample(pid: number | undefined, metricsUrl: string): Promise<ProcSample> {
  let rssMB: number | null = null;
  let fds: number | null = null;
  if (pid !== undefined) {
    try {
      rssMB = Math.round(statusMB(pid, 'VmRSS') * 10) / 10;
      fds = readdirSync(`/proc/${pid}/fd`).length;
    } catch {
      // the process is restarting
    }
  }
  const text = await fetch(metricsUrl, { signal: AbortSignal.timeout(5000) }).then((r) => r.text()).catch(() => '');
  const mb = (v: number | null): number | null => (v === null ? null : Math.round((v / 2 ** 20) * 10) / 10);
  const lag = metric(text, 'nodejs_eventloop_lag_p99_seconds');
  return {
    rssMB,
    heapUsedMB: mb(metric(text, 'nodejs_heap_size_used_bytes')),
    heapTotalMB: mb(metric(text, 'nodejs_heap_size_total_bytes')),
    fds,
    handles: metric(text, 'nodejs_active_handles_total'),
    timers: metric(text, 'nodejs_active_resources', 'type="Timeout"'),
    loopP99ms: lag === null ? null : Math.round(lag * 1e5) / 100,
    proxySyncs: metric(text, 'kubeproxy_sync_proxy_rules_duration_seconds_count'),
  };
}

/** Least-squares slope of y over x (x in minutes) → per hour; null with fewer than 3 points. */
function slopePerHour(points: [number, number][]): number | null {
  if (points.length < 3) return null;
  const n = points.length;
  const mx = points.reduce((s, p) => s + p[0], 0) / n;
  const my = points.reduce((s, p) => s + p[1], 0) / n;
  const num = points.reduce((s, p) => s + (p[0] - mx) * (p[1] - my), 0);
  const den = points.reduce((s, p) => s + (p[0] - mx) ** 2, 0);
  return den === 0 ? null : Math.round((num / den) * 60 * 100) / 100;
}

function sh(cmd: string, argv: string[], timeout = 30_000): { code: number; out: string } {
  const r = spawnSync(cmd, argv, { encoding: 'utf8', timeout });
  return { code: r.status ?? -1, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

/** The netns, with a veth to the host and no default route. */
function setupNetns(prefix: string, net: string): { ns: string; hostIp: string; nsIp: string; remove: () => void } {
  const ns = `${prefix}-soakns`;
  const [h, p] = [`${prefix}sv0`, `${prefix}sv1`];
  const hostIp = `${net}.253`;
  const nsIp = `${net}.254`;
  const steps: [string, string[]][] = [
    ['ip', ['netns', 'add', ns]],
    ['ip', ['link', 'add', h, 'type', 'veth', 'peer', 'name', p]],
    ['ip', ['link', 'set', p, 'netns', ns]],
    ['ip', ['addr', 'add', `${hostIp}/30`, 'dev', h]],
    ['ip', ['link', 'set', h, 'up']],
    ['ip', ['netns', 'exec', ns, 'ip', 'addr', 'add', `${nsIp}/30`, 'dev', p]],
    ['ip', ['netns', 'exec', ns, 'ip', 'link', 'set', p, 'up']],
    ['ip', ['netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up']],
  ];
  for (const [c, a] of steps) {
    const r = sh(c, a);
    if (r.code !== 0) throw new Error(`${c} ${a.join(' ')}: ${r.out}`);
  }
  return {
    ns,
    hostIp,
    nsIp,
    remove: () => {
      sh('ip', ['link', 'del', h]);
      sh('ip', ['netns', 'del', ns]);
    },
  };
}

/** The proxy identity's kubeconfig, pointed at the host end of the veth (TLS name `localhost`). */
function proxyKubeconfigFor(src: string, hostIp: string, dir: string): string {
  const text = readFileSync(src, 'utf8');
  const out = text.replace(/server: "?https:\/\/(?:127\.0\.0\.1|localhost):(\d+)"?/, `server: "https://${hostIp}:$1", tls-server-name: "localhost"`);
  if (out === text) throw new Error(`cannot point ${src} at ${hostIp}: no loopback server URL in it`);
  const path = join(dir, 'proxy.kubeconfig');
  writeFileSync(path, out, { mode: 0o600 });
  return path;
}

/** A process in the proxy netns (`ip netns exec` execs into node: the pid is node's). */
function runInNetns(ns: string, flags: string[], logDir: string, name: string): { pid: number; exited: Promise<void>; stop: () => Promise<void> } {
  const node = join(REPO_ROOT, 'node_modules', '.bin', 'node');
  const entry = process.env.NODELET_ENTRY ?? join(REPO_ROOT, 'dist', 'nodelet.mjs');
  const child = spawn('ip', ['netns', 'exec', ns, node, entry, ...flags], { stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error('cannot start the proxy');
  const log = createWriteStream(join(logDir, `${name}-${Date.now()}.log`));
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  process.on('exit', () => child.kill('SIGKILL'));
  return {
    pid: child.pid,
    exited,
    stop: async () => {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    },
  };
}

const ss = (a: string[], netns?: string): string => (netns === undefined ? sh('ss', a) : sh('ip', ['netns', 'exec', netns, 'ss', ...a])).out;

/** Local ports of the established TCP connections of `pid` to `port`. */
function connections(pid: number, port: number, netns?: string): string[] {
  return ss(['-tnp', 'state', 'established', `( dport = :${port} )`], netns)
    .split('\n')
    .filter((l) => l.includes(`pid=${pid},`))
    .map((l) => /:(\d+)\s+\S+:\d+\s/.exec(l)?.[1])
    .filter((p): p is string => p !== undefined);
}

/** Resets every TCP connection of `pid` to `port` (client side) with `ss -K`; returns how many. */
function dropConnections(pid: number, port: number, netns?: string): number {
  const ports = connections(pid, port, netns);
  for (const p of ports) ss(['-K', 'state', 'established', `( sport = :${p} and dport = :${port} )`], netns);
  return ports.length;
}

function pidOf(controlPlane: string, name: 'apiserver' | 'etcd'): number | undefined {
  try {
    return Number(readFileSync(join(controlPlane, 'run', `${name}.pid`), 'utf8').trim()) || undefined;
  } catch {
    return undefined;
  }
}

async function killAndWait(pid: number): Promise<void> {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  for (let i = 0; i < 150; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await sleep(100);
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone
  }
}

function upSh(controlPlane: string): { code: number; out: string } {
  return sh('bash', [join(REPO_ROOT, '..', 'shared', 'k8s', 'up.sh'), controlPlane], 180_000);
}

interface FaultRecord {
  at: string;
  kind: string;
  ok: boolean;
  detail?: string;
  downMs?: number;
  statusConvergedMs?: number | null;
  newPodRunningMs?: number | null;
}

async function main(): Promise<void> {
  const a = args(process.argv.slice(2));
  mkdirSync(a.logDir, { recursive: true });
  const cluster: Cluster = await startCluster();
  if (cluster.external && a.controlPlane === undefined) {
    a.faults = a.faults.filter((f) => f.kind !== 'api' && f.kind !== 'etcd');
    console.error('soak: no --control-plane: the api and etcd faults are skipped (never restart a shared control plane)');
  }
  if (!cluster.external) a.faults = a.faults.filter((f) => f.kind !== 'etcd');
  const apiPort = Number(/https:\/\/[^:/"\s]+:(\d+)/.exec(readFileSync(cluster.kubeconfigPath, 'utf8'))?.[1] ?? '443');
  const dir = tempDir(`${a.prefix}-soak-`);
  const engine: PrivateDockerd = await startPrivateDockerd(dir.path, `${a.prefix}-soak0`, `${a.net}.1/25`, ['--live-restore']);
  const netns = setupNetns(a.prefix, a.net);
  const kubeletHealthz = a.portBase + 1;
  const proxyHealthz = a.portBase + 2;
  const proxyMetrics = a.portBase + 3;
  const proxyKubeletHealthz = a.portBase + 4;
  const kubeconfig = await cluster.nodeKubeconfig(a.node);
  const flags = [
    `--kubeconfig=${kubeconfig}`,
    `--config=${fastKubeletConfig(dir.path, 'enableServer: false\n')}`,
    '--roles=kubelet',
    `--hostname-override=${a.node}`,
    `--root-dir=${dir.path}/root`,
    `--container-runtime-endpoint=unix://${engine.socket}`,
    `--healthz-port=${kubeletHealthz}`,
    // Fixed, so a restarted agent finds its pods' cgroups (the harness would give each start a new root).
    `--cgroup-root=/${a.prefix}-soak`,
  ];
  const proxyFlags = [
    `--kubeconfig=${proxyKubeconfigFor(await cluster.proxyKubeconfig(), netns.hostIp, dir.path)}`,
    '--roles=proxy',
    // Its own root dir: the daemon takes the root-dir lock whatever the roles (default /var/lib/nodelet).
    `--root-dir=${dir.path}/proxy-root`,
    `--hostname-override=${a.node}`,
    `--node-ip=${netns.nsIp}`,
    `--cluster-cidr=${a.net}.0/25`,
    `--healthz-bind-address=${netns.nsIp}`,
    `--healthz-port=${proxyKubeletHealthz}`,
    `--proxy-healthz-bind-address=${netns.nsIp}:${proxyHealthz}`,
    `--metrics-bind-address=${netns.nsIp}:${proxyMetrics}`,
    // Global (not per-netns) conntrack settings are left alone.
    '--conntrack-max-per-core=0',
    '--conntrack-tcp-timeout-established=0',
    '--conntrack-tcp-timeout-close-wait=0',
  ];
  const startAgent = (): NodeletProcess => runNodelet(flags, { name: `${a.prefix}-soak-kubelet` });
  let agent: NodeletProcess = startAgent();
  const proxy = runInNetns(netns.ns, proxyFlags, a.logDir, `${a.prefix}-soak-proxy`);
  const faults: FaultRecord[] = [];
  const created: { name: string; uid: string; at: number; kind: PodKind }[] = [];
  const startedSeen = new Set<string>();
  writeFileSync(a.out, '');
  const record = (o: Record<string, unknown>): void => appendFileSync(a.out, `${JSON.stringify({ t: now(), ...o })}\n`);
  const t0 = Date.now();
  const stopAt = t0 + a.minutes * 60_000;
  const minute = (): number => Math.round(((Date.now() - t0) / 60_000) * 100) / 100;
  const nextDue = new Map(a.faults.map((f) => [f.kind, t0 + f.firstMin * 60_000]));
  let busy = false; // a fault in progress (the sampler still runs)

  const createPod = async (name: string, kind: PodKind): Promise<boolean> => {
    const r = await cluster.kubectl(['create', '-f', '-', '-o', 'jsonpath={.metadata.uid}'], { input: pod(a.ns, a.node, name, kind) });
    if (r.code === 0) created.push({ name, uid: r.stdout.trim(), at: Date.now(), kind });
    return r.code === 0;
  };
  const podStatus = async (name: string): Promise<PodLike | undefined> => {
    const r = await cluster.kubectl(['-n', a.ns, 'get', 'pod', name, '-o', 'json'], { timeoutMs: 5000 });
    return r.code === 0 ? (JSON.parse(r.stdout) as PodLike) : undefined;
  };
  const appContainers = (): { uid: string; name: string }[] =>
    engine
      .docker(['ps', '--filter', 'label=io.kubernetes.container.name', '--format', '{{.Label "io.kubernetes.pod.uid"}} {{.Label "io.kubernetes.container.name"}} {{.Label "io.kubernetes.docker.type"}}'])
      .split('\n')
      .filter((l) => l !== '' && !l.includes('podsandbox'))
      .map((l) => {
        const [uid = '', name = ''] = l.split(' ');
        return { uid, name };
      });

  const killPodContainers = (uid: string): void => {
    const ids = engine.docker(['ps', '-q', '--filter', `label=io.kubernetes.pod.uid=${uid}`, '--filter', 'label=io.kubernetes.container.name=c']).split('\n').filter((l) => l !== '');
    if (ids.length > 0) engine.docker(['kill', ...ids]);
  };
  // The per-minute sampler, independent of the churn loop (which a fault can block for a minute).
  let sampling = true;
  const sampler = (async () => {
    let next = Date.now();
    while (sampling) {
      next += 60_000;
      try {
        const kubelet = await procSample(agent.running() ? agent.pid : undefined, `http://127.0.0.1:${kubeletHealthz}/metrics`);
        // The proxy-only process serves no nodejs_*/process_* metrics (only kubeproxy_*): RSS and fds come from /proc.
        const proxyS = await procSample(proxy.pid, `http://${netns.nsIp}:${proxyMetrics}/metrics`);
        const save = sh('ip', ['netns', 'exec', netns.ns, 'iptables-save']).out;
        const rules = save.split('\n').filter((l) => l.startsWith('-A ')).length;
        const svcChains = save.split('\n').filter((l) => l.startsWith(':KUBE-SVC-')).length;
        const podsR = await cluster.kubectl(['-n', a.ns, 'get', 'pods', '-o', 'json']);
        const pods = podsR.code === 0 ? (JSON.parse(podsR.stdout) as { items: PodLike[] }).items : undefined;
        const slicesR = await cluster.kubectl(['get', 'endpointslices', '-A', '-o', 'json']);
        let svcWithEndpoints: number | null = null;
        if (slicesR.code === 0) {
          const slices = (JSON.parse(slicesR.stdout) as { items: { metadata: { namespace: string; labels?: Record<string, string> }; endpoints?: { conditions?: { ready?: boolean } }[] }[] }).items;
          const s = new Set<string>();
          for (const sl of slices) if ((sl.endpoints ?? []).some((e) => e.conditions?.ready !== false)) s.add(`${sl.metadata.namespace}/${sl.metadata.labels?.['kubernetes.io/service-name'] ?? ''}`);
          svcWithEndpoints = s.size;
        }
        const ev = await cluster.kubectl(['-n', a.ns, 'get', 'events', '--field-selector', 'reason=Started', '-o', 'jsonpath={range .items[*]}{.involvedObject.uid}{"\\n"}{end}']);
        if (ev.code === 0) for (const u of ev.stdout.split('\n')) if (u !== '') startedSeen.add(u);
        const ctrs = appContainers();
        const uids = pods === undefined ? undefined : new Set(pods.map((p) => p.metadata.uid));
        const expectStarted = created.filter((c) => Date.now() - c.at > 60_000);
        record({
          minute: minute(),
          kubelet,
          proxy: proxyS,
          kubeletApiConns: agent.running() ? connections(agent.pid, apiPort).length : null,
          proxyApiConns: connections(proxy.pid, apiPort, netns.ns).length,
          iptablesRules: rules,
          svcChains,
          svcWithEndpoints,
          pods: pods?.length ?? null,
          podsRunning: pods?.filter((p) => p.status?.phase === 'Running').length ?? null,
          containers: ctrs.length,
          containersWithoutPod: uids === undefined ? null : ctrs.filter((c) => !uids.has(c.uid)).length,
          podsCreated: created.length,
          startedExpected: expectStarted.length,
          startedSeen: expectStarted.filter((c) => startedSeen.has(c.uid)).length,
          faultBusy: busy,
        });
      } catch (err) {
        record({ minute: minute(), samplerError: String(err) });
      }
      while (sampling && Date.now() < next) await sleep(1000);
    }
  })();

  const runFault = async (kind: Fault['kind']): Promise<void> => {
    const at = now();
    busy = true;
    try {
      if (kind === 'kill') {
        process.kill(agent.pid, 'SIGKILL');
        await agent.exited.catch(() => undefined);
        agent = startAgent();
        faults.push({ at, kind: 'agent SIGKILL', ok: true });
      } else if (kind === 'dockerd') {
        await engine.stop();
        await engine.start();
        faults.push({ at, kind: 'dockerd restart', ok: engine.answers() });
      } else if (kind === 'watch') {
        if (cluster.faults !== undefined) {
          cluster.faults.dropWatches();
          faults.push({ at, kind: 'watches dropped', ok: true, detail: 'test API server hook' });
        } else {
          const k = dropConnections(agent.pid, apiPort);
          const p = dropConnections(proxy.pid, apiPort, netns.ns);
          faults.push({ at, kind: 'watches dropped', ok: k + p > 0, detail: `ss -K: kubelet ${k}, proxy ${p} connections reset` });
        }
      } else if (kind === 'etcd' && a.controlPlane !== undefined) {
        const pid = pidOf(a.controlPlane, 'etcd');
        const t = Date.now();
        if (pid !== undefined) await killAndWait(pid);
        const r = upSh(a.controlPlane);
        faults.push({ at, kind: 'etcd restart', ok: r.code === 0, downMs: Date.now() - t, detail: r.code === 0 ? undefined : r.out.slice(-300) });
      } else if (kind === 'api') {
        // Victim: running before the outage, its container killed during it.
        const victim = `victim-${Date.now()}`;
        const vOk = await createPod(victim, 'victim');
        await waitFor(async () => (await podStatus(victim))?.status?.phase === 'Running', { timeoutMs: 60_000, description: 'victim running' }).catch(() => undefined);
        const vUid = (await podStatus(victim))?.metadata.uid;
        const tDown = Date.now();
        if (cluster.server !== undefined) {
          const restart = cluster.server.restart(60_000);
          await sleep(5000);
          if (vUid !== undefined) killPodContainers(vUid);
          await restart;
        } else if (a.controlPlane !== undefined) {
          const pid = pidOf(a.controlPlane, 'apiserver');
          if (pid !== undefined) await killAndWait(pid);
          await sleep(5000);
          if (vUid !== undefined) killPodContainers(vUid);
          await sleep(Math.max(0, tDown + 60_000 - Date.now()));
          const r = upSh(a.controlPlane);
          if (r.code !== 0) throw new Error(`up.sh failed: ${r.out.slice(-300)}`);
        }
        const tUp = Date.now();
        let statusConvergedMs: number | null = null;
        if (vOk && vUid !== undefined) {
          await waitFor(async () => (await podStatus(victim))?.status?.containerStatuses?.[0]?.state?.terminated !== undefined, { timeoutMs: 120_000, intervalMs: 250, description: 'victim status' })
            .then(() => (statusConvergedMs = Date.now() - tUp))
            .catch(() => undefined);
        }
        const fresh = `after-outage-${Date.now()}`;
        const tc = Date.now();
        let newPodRunningMs: number | null = null;
        if (await createPod(fresh, 'plain')) {
          await waitFor(async () => (await podStatus(fresh))?.status?.phase === 'Running', { timeoutMs: 120_000, intervalMs: 250, description: 'converged' })
            .then(() => (newPodRunningMs = Date.now() - tc))
            .catch(() => undefined);
        }
        await cluster.kubectl(['-n', a.ns, 'delete', 'pod', victim, fresh, '--wait=false']);
        faults.push({ at, kind: 'API server down 60 s', ok: statusConvergedMs !== null, downMs: tUp - tDown, statusConvergedMs, newPodRunningMs });
      }
    } catch (err) {
      faults.push({ at, kind, ok: false, detail: String(err) });
    } finally {
      busy = false;
      record({ minute: minute(), fault: faults.at(-1) });
    }
  };

  try {
    await cluster.freshNamespace(a.ns);
    await waitFor(async () => (await cluster.kubectl(['get', 'node', a.node])).code === 0, { timeoutMs: 60_000, description: 'node registered' });
    await cluster.kubectlOk(['-n', a.ns, 'create', 'configmap', 'soak-cfg', '--from-literal=v=0']);
    for (let i = 0; i < 5; i++) await createPod(`healthy-${i}`, 'healthy');
    await cluster.kubectlOk(['-n', a.ns, 'create', 'service', 'clusterip', 'healthy', '--tcp=80:8080']);
    await cluster.kubectlOk(['-n', a.ns, 'set', 'selector', 'service', 'healthy', 'soak=healthy']);
    await cluster.kubectlOk(['apply', '-f', '-'], { input: serviceWithSlice(a.ns, 'stable', a.net, 0) });
    let tick = 0;
    while (Date.now() < stopAt) {
      const tickStart = Date.now();
      tick++;
      await createPod(`plain-${tick}`, 'plain');
      await cluster.kubectl(['apply', '-f', '-'], { input: serviceWithSlice(a.ns, `svc-${tick}`, a.net, tick) });
      const del = tick > 10 ? [`pod/plain-${tick - 10}`, `service/svc-${tick - 10}`, `endpointslice/svc-${tick - 10}-1`] : [];
      if (tick % 3 === 0) {
        const kind = tick % 6 === 0 ? 'crash' : 'probe';
        await createPod(`${kind}-${tick}`, kind);
        if (tick > 12) del.push(`pod/${kind}-${tick - 12}`);
      }
      if (del.length > 0) await cluster.kubectl(['-n', a.ns, 'delete', ...del, '--wait=false', '--ignore-not-found']);
      await cluster.kubectl(['-n', a.ns, 'create', 'configmap', 'soak-cfg', `--from-literal=v=${tick}`, '--dry-run=client', '-o', 'yaml'])
        .then((r) => cluster.kubectl(['apply', '-f', '-'], { input: r.stdout }));
      await cluster.kubectl(['apply', '-f', '-'], { input: serviceWithSlice(a.ns, 'stable', a.net, tick) });
      for (const f of a.faults) {
        const due = nextDue.get(f.kind)!;
        if (Date.now() >= due && Date.now() < stopAt) {
          nextDue.set(f.kind, due + f.everyMin * 60_000);
          await runFault(f.kind);
        }
      }
      await sleep(Math.max(0, tickStart + 10_000 - Date.now()));
    }
    // Final accounting after a quiet minute: every pod has at most one running app container, no container lacks a pod.
    await sleep(60_000);
    const pods = JSON.parse((await cluster.kubectlOk(['-n', a.ns, 'get', 'pods', '-o', 'json']))) as { items: PodLike[] };
    const uids = new Set(pods.items.map((p) => p.metadata.uid));
    const running = appContainers();
    const orphans = running.filter((c) => !uids.has(c.uid)).length;
    const perPod = new Map<string, number>();
    for (const c of running) perPod.set(`${c.uid}/${c.name}`, (perPod.get(`${c.uid}/${c.name}`) ?? 0) + 1);
    const duplicates = [...perPod.values()].filter((n) => n > 1).length;
    const sandboxes = engine.docker(['ps', '--filter', 'label=io.kubernetes.docker.type=podsandbox', '--format', '{{.Label "io.kubernetes.pod.uid"}}']).split('\n').filter((l) => l !== '');
    const perPodSandbox = new Map<string, number>();
    for (const u of sandboxes) perPodSandbox.set(u, (perPodSandbox.get(u) ?? 0) + 1);
    const duplicateSandboxes = [...perPodSandbox.values()].filter((n) => n > 1).length;
    const orphanSandboxes = sandboxes.filter((u) => !uids.has(u)).length;
    const healthy = pods.items.filter((p) => p.metadata.labels?.soak === 'healthy');
    const healthyRestarts = healthy.reduce((n, p) => n + (p.status?.containerStatuses?.[0]?.restartCount ?? 0), 0);
    const healthyIds = new Set(healthy.map((p) => p.metadata.uid));
    const samples = readFileSync(a.out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { minute?: number; kubelet?: ProcSample; proxy?: ProcSample; svcChains?: number; svcWithEndpoints?: number | null });
    const series = (f: (s: { minute?: number; kubelet?: ProcSample; proxy?: ProcSample }) => number | null | undefined, fromMin: number): [number, number][] =>
      samples.flatMap((s) => {
        const v = f(s);
        return s.minute !== undefined && s.minute >= fromMin && typeof v === 'number' ? [[s.minute, v] as [number, number]] : [];
      });
    const rss = series((s) => s.kubelet?.rssMB, 0).map((p) => p[1]);
    const summary = {
      minutes: a.minutes,
      podsCreated: created.length,
      podsByKind: Object.fromEntries(['plain', 'crash', 'probe', 'healthy', 'victim'].map((k) => [k, created.filter((c) => c.kind === k).length])),
      faultsInjected: faults.length,
      faultsSurvived: faults.filter((f) => f.ok).length,
      faults,
      orphans,
      duplicates,
      orphanSandboxes,
      duplicateSandboxes,
      proxySamplesChainsNeEndpoints: samples.filter((x) => typeof x.svcChains === 'number' && typeof x.svcWithEndpoints === 'number' && x.svcChains !== x.svcWithEndpoints).length,
      healthyRestarts,
      healthyRunning: running.filter((c) => healthyIds.has(c.uid)).length,
      statusConvergedMs: faults.filter((f) => f.statusConvergedMs !== undefined).map((f) => f.statusConvergedMs),
      kubeletRss: { firstMB: rss[0], lastMB: rss.at(-1), maxMB: Math.max(...rss) },
      slopesAfterWarmupPerHour: {
        warmupMin: a.warmupMin,
        kubeletRssMB: slopePerHour(series((s) => s.kubelet?.rssMB, a.warmupMin)),
        kubeletHeapMB: slopePerHour(series((s) => s.kubelet?.heapUsedMB, a.warmupMin)),
        proxyRssMB: slopePerHour(series((s) => s.proxy?.rssMB, a.warmupMin)),
        proxyHeapMB: slopePerHour(series((s) => s.proxy?.heapUsedMB, a.warmupMin)),
      },
      startedExpected: created.length,
      startedSeen: created.filter((c) => startedSeen.has(c.uid)).length,
      proxyAlive: existsSync(`/proc/${proxy.pid}`),
    };
    record({ summary });
    console.log(JSON.stringify(summary, null, 2));
  } finally {
    sampling = false;
    await sampler.catch(() => undefined);
    await cluster.kubectl(['delete', 'namespace', a.ns, '--wait=false']);
    await waitFor(() => engine.docker(['ps', '-q']).trim() === '', { timeoutMs: 60_000, description: 'pods gone' }).catch(() => undefined);
    await agent.stop();
    await proxy.stop();
    const left = engine.docker(['ps', '-aq']).split('\n').filter((l) => l !== '');
    if (left.length > 0) engine.docker(['rm', '-f', ...left]);
    await engine.destroy();
    netns.remove();
    sh('sh', ['-c', `for d in $(find /sys/fs/cgroup/*/${a.prefix}-soak /sys/fs/cgroup/${a.prefix}-soak -depth -type d 2>/dev/null); do rmdir "$d" 2>/dev/null; done; true`]);
    await cluster.kubectl(['delete', 'node', a.node, '--wait=false']);
    await cluster.stop();
    dir.remove();
  }
}

void main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
