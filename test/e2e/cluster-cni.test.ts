/**
 * e2e (issue 15): a 3-node nodelet cluster on this machine (scripts/cluster.sh: node containers with containerd or
 * dockerd, the CNI plugins and --pod-network=host-gw) joined to the REAL control plane, once per node runtime (the
 * containerd and the docker cluster run side by side).
 * Checks the acceptance list: a Deployment spreads over the nodes, every pod reaches every other pod across nodes, a
 * ClusterIP answers from every node and from pods on every node, a NodePort on every node IP, hostPort (these four
 * independent checks run concurrently on one cluster), kill -9 of one agent during churn leaks no IP (host-local's
 * allocations = the running pods), drain moves pods, deleting a Node removes its routes, and a node without a pod
 * network reports NetworkPluginNotReady.
 * Traffic stays on this machine: pods and nodes are on Docker networks of their own (10.214.8.0/24 and 10.214.9.0/24
 * by default) and the service CIDR is routed into a sink on the host.
 * Timing: NODELET_E2E_TIMING=1 prints the phases with their offsets on stderr.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, beforeEach, describe, it } from 'vitest';
import { externalKubeconfig, installServiceCidrSink, REPO_ROOT, startCluster, waitFor, type Cluster } from './harness/index.js';

// scripts/test.sh creates the identities of NODE and of the names in NODES (K8S_NODES for up.sh), else the suite skips.
// Each runtime's cluster has three of them: containerd nl-cni-1..3, docker nl-cni-4..6.
const NODE = 'nl-cni-1';
const NODES = [NODE, 'nl-cni-2', 'nl-cni-3', 'nl-cni-4', 'nl-cni-5', 'nl-cni-6'];
// Overridable so that a developer's run does not clash with the suite's (container names, Docker networks, host port).
const PREFIX = process.env.NODELET_E2E_CNI_PREFIX ?? 'nl8';
const NET_BASE = process.env.NODELET_E2E_CNI_NET ?? '10.214.8'; // runtime i's nodes are on the Docker network NET_BASE+i.0/24
const HOST_PORT = Number(process.env.NODELET_E2E_CNI_HOST_PORT ?? 20810);
const T0 = Date.now();
const phase = (what: string): void => {
  if (process.env.NODELET_E2E_TIMING) process.stderr.write(`[cni-e2e +${((Date.now() - T0) / 1000).toFixed(1)}s] ${what}\n`);
};
const kdir = (): string => dirname(externalKubeconfig() ?? '/nonexistent/x');
const skipReason =
  process.getuid?.() !== 0
    ? 'needs root (Docker, network namespaces)'
    : externalKubeconfig() === undefined
      ? 'needs the real control plane (KUBECONFIG): the test API server allocates no pod CIDRs and node containers cannot reach its loopback address'
      : NODES.some((n) => !existsSync(join(kdir(), `node-${n}.kubeconfig`)))
        ? `needs node identities node-{${NODES.join(',')}}.kubeconfig beside the admin kubeconfig (K8S_NODES for up.sh)`
        : '';

/** One runtime's cluster: its nodes, names and network. The two clusters share the control plane and nothing else. */
interface Site {
  runtime: string;
  nodes: [string, string, string];
  prefix: string;
  ns: string;
  netBase: string;
}

function site(runtime: string, i: number): Site {
  const [a, b, c] = NODES.slice(3 * i, 3 * i + 3);
  if (a === undefined || b === undefined || c === undefined) throw new Error(`no node names for cluster ${i}`);
  const octets = NET_BASE.split('.');
  const netBase = [...octets.slice(0, 2), String(Number(octets[2]) + i)].join('.');
  return { runtime, nodes: [a, b, c], prefix: `${PREFIX}-${runtime.slice(0, 1)}`, ns: `${PREFIX}-${runtime}`, netBase };
}

const container = (s: Site, node: string): string => `${s.prefix}-${node}`;
const nodeIp = (s: Site, node: string): string => `${s.netBase}.${11 + s.nodes.indexOf(node)}`;
const execFileP = promisify(execFile);

/** Runs a command in the repository (async: the two clusters' steps must not block each other). */
async function sh(cmd: string, args: string[], timeoutMs = 300_000): Promise<string> {
  try {
    const r = await execFileP(cmd, args, { encoding: 'utf8', timeout: timeoutMs, cwd: REPO_ROOT, maxBuffer: 16 << 20, env: { ...process.env, NODELET_BUNDLE: process.env.NODELET_ENTRY ?? join(REPO_ROOT, 'dist/nodelet.mjs') } });
    return r.stdout;
  } catch (err) {
    const e = err as { code?: unknown; stderr?: string; stdout?: string };
    throw new Error(`${cmd} ${args.join(' ')} failed (${String(e.code)}): ${e.stderr ?? ''}${e.stdout ?? ''}`, { cause: err });
  }
}

/**
 * The node image (built once per machine: images/node/build.sh skips the build when its input hash matches) and the
 * Docker options of the nodes, probed once per machine: `cluster.sh prepare`, shared by both clusters.
 */
let nodeImage: Promise<string> | undefined;
function image(): Promise<string> {
  nodeImage ??= sh('bash', ['scripts/cluster.sh', 'prepare'], 600_000).then((out) => out.trim().split('\n').pop() ?? '');
  return nodeImage;
}

// Node status computed every second (written only when it changed), so Ready and NotReady show without the default
// 10 s lag (which also sets the runtime status check to 5 s).
const NODELET_ARGS = '--node-status-update-frequency=1s';

async function clusterUp(s: Site, ...extra: string[]): Promise<void> {
  const args = ['up', '3', '--kubeconfig-dir', kdir(), '--names', s.nodes.join(','), '--prefix', s.prefix, '--subnet', `${s.netBase}.0/24`];
  await sh('bash', ['scripts/cluster.sh', ...args, '--runtime', s.runtime, '--image', await image(), '--nodelet-args', NODELET_ARGS, ...extra], 600_000);
}

/** Runs a bash script in a node container. */
async function inNode(s: Site, node: string, script: string, timeoutMs = 30_000): Promise<string> {
  return (await execFileP('docker', ['exec', container(s, node), 'bash', '-c', script], { encoding: 'utf8', timeout: timeoutMs })).stdout;
}

/**
 * HTTP GETs `targets` ("ip:port") one after the other in one `docker exec` on `node`, from the node itself or from
 * inside the network namespace of pod IP `fromPod` (its pause process's, with containerd and dockerd alike). Returns
 * target → the last line of the answer (or the error text, for the assertion message).
 */
async function getAll(s: Site, node: string, targets: string[], fromPod?: string): Promise<Map<string, string>> {
  const find =
    fromPod === undefined
      ? ''
      : `pid=; for p in $(pgrep -x pause); do if nsenter -t $p -n ip -o -4 addr show | grep -q " ${fromPod}/"; then pid=$p; break; fi; done\n` +
        `[ -n "$pid" ] || { echo "no pause process with ${fromPod}" >&2; exit 99; }\n`;
  const enter = fromPod === undefined ? '' : 'nsenter -t $pid -n ';
  const script =
    find +
    `for t in ${targets.join(' ')}; do\n` +
    `  body=$(${enter}timeout 3 bash -c 'exec 3<>/dev/tcp/'"\${t%:*}/\${t##*:}"'; printf "GET / HTTP/1.0\\r\\n\\r\\n" >&3; tail -n 1 <&3' 2>&1 | tr '\\n' ' ')\n` +
    `  echo "$t $body"\n` +
    `done`;
  const answers = new Map<string, string>();
  for (const line of (await inNode(s, node, script)).split('\n')) {
    const at = line.indexOf(' ');
    if (at > 0) answers.set(line.slice(0, at), line.slice(at + 1).trim());
  }
  return answers;
}

/** Polls `getAll` until `ok` holds for every answer (endpoints and rules settle after the pods run); the last answers. */
async function answersOnce(s: Site, node: string, targets: string[], ok: (target: string, body: string) => boolean, fromPod?: string): Promise<Map<string, string>> {
  let last = new Map<string, string>();
  try {
    await waitFor(
      async () => {
        last = await getAll(s, node, targets, fromPod);
        return targets.every((t) => ok(t, last.get(t) ?? '')) || undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250, description: `answers on ${node}${fromPod === undefined ? '' : ` from ${fromPod}`}` },
    );
  } catch {
    // The caller's assertions name what is wrong.
  }
  return last;
}

/** kill -9 of the node's agent (waiting for one to run: the entrypoint restarts a killed agent after 1 s). */
async function killAgent(s: Site, node: string): Promise<void> {
  // '[n]odelet.mjs' does not match this script's own command line.
  await inNode(s, node, "for i in $(seq 100); do pkill -9 -f '[n]odelet.mjs' && exit 0; sleep 0.1; done; echo 'no nodelet process' >&2; exit 1");
}

interface PodInfo {
  name: string;
  node: string;
  ip: string;
  phase: string;
  deleting: boolean;
}

// Both node runtimes by default: containerd (its CRI plugin runs CNI) and docker (nodelet's Docker backend runs CNI).
// The two clusters run concurrently (their own nodes, networks and namespaces on the one control plane).
const RUNTIMES = (process.env.NODELET_E2E_CLUSTER_RUNTIMES ?? 'containerd,docker').split(',').filter((r) => r !== '');

describe.skipIf(skipReason !== '').concurrent.each(RUNTIMES.map((r, i) => site(r, i)))(`3-node cluster on $runtime with host-gw pod network ${skipReason}`, (s) => {
  const { runtime, ns: NS } = s;
  const [n1, n2, n3] = s.nodes;
  let cluster: Cluster;
  let removeSink: (() => void) | undefined;

  async function pods(selector = 'app=web'): Promise<PodInfo[]> {
    const out = JSON.parse(await cluster.kubectlOk(['-n', NS, 'get', 'pods', '-l', selector, '-o', 'json'])) as {
      items: { metadata: { name: string; deletionTimestamp?: string }; spec: { nodeName?: string }; status: { podIP?: string; phase?: string } }[];
    };
    return out.items.map((p) => ({ name: p.metadata.name, node: p.spec.nodeName ?? '', ip: p.status.podIP ?? '', phase: p.status.phase ?? '', deleting: p.metadata.deletionTimestamp !== undefined }));
  }

  async function runningPods(n: number): Promise<PodInfo[]> {
    return waitFor(
      async () => {
        const ps = (await pods()).filter((p) => !p.deleting);
        return ps.length === n && ps.every((p) => p.phase === 'Running' && p.ip !== '') ? ps : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 500, description: `${n} running web pods` },
    );
  }

  async function podCIDR(node: string): Promise<string> {
    return (await cluster.kubectlOk(['get', 'node', node, '-o', 'jsonpath={.spec.podCIDR}'])).trim();
  }

  beforeAll(async () => {
    phase(`${runtime}: beforeAll`);
    cluster = await startCluster();
    // The control plane's own service CIDR (its ServiceCIDR object): up.sh routes it into its sink already, and then
    // this is a no-op; a route of another run for the harness's default CIDR is never touched.
    const serviceCidr = (await cluster.kubectlOk(['get', 'servicecidr', 'kubernetes', '-o', 'jsonpath={.spec.cidrs[0]}'])).trim();
    removeSink = installServiceCidrSink(serviceCidr);
    await sh('bash', ['scripts/cluster.sh', 'down', '--prefix', s.prefix]);
    // Nodes registered anew: a Node left by an earlier run (Ready for up to 40 s after its agent stopped, maybe
    // cordoned by a drain) would make the Ready wait below meaningless.
    await cluster.kubectlOk(['delete', 'node', ...s.nodes, '--ignore-not-found']);
    phase(`${runtime}: node image`);
    await image();
    phase(`${runtime}: cluster.sh up`);
    await clusterUp(s);
    phase(`${runtime}: nodes started; waiting for Ready`);
    const ready = Promise.all(
      s.nodes.map((n) =>
        waitFor(async () => (await cluster.kubectl(['get', 'node', n, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'])).stdout === 'True', {
          timeoutMs: 120_000,
          intervalMs: 250,
          description: `node ${n} Ready`,
        }),
      ),
    );
    await Promise.all([ready, cluster.freshNamespace(NS)]);
    phase(`${runtime}: nodes Ready`);
    const deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: NS },
      spec: {
        replicas: 6,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            terminationGracePeriodSeconds: 1,
            affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: s.nodes }] }] } } },
            topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'DoNotSchedule', nodeTaintsPolicy: 'Honor', labelSelector: { matchLabels: { app: 'web' } } }],
            containers: [{ name: 'web', image: 'localhost/nodelet/testbox:1.0', imagePullPolicy: 'Never', command: ['sh', '-c', 'mkdir -p /w && hostname > /w/index.html && exec httpd -f -p 8080 -h /w'], ports: [{ containerPort: 8080 }] }],
          },
        },
      },
    };
    const service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: NS }, spec: { type: 'NodePort', selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] } };
    await cluster.kubectlOk(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [deployment, service] }) });
    phase(`${runtime}: applied`);
  }, 900_000);
  beforeEach((ctx) => phase(`${runtime}: start ${ctx.task.name}`));
  afterEach((ctx) => phase(`${runtime}: end ${ctx.task.name}`));

  afterAll(async () => {
    phase(`${runtime}: afterAll`);
    try {
      // Pods of stopped nodes would stay Terminating: delete the Deployment (no replacements), force the pods out.
      await cluster?.kubectl(['-n', NS, 'delete', 'deployment', 'web', '--wait=true', '--timeout=30s']);
      await cluster?.kubectl(['-n', NS, 'delete', 'pods', '--all', '--force', '--grace-period=0', '--wait=false']);
      await cluster?.kubectl(['delete', 'namespace', NS, '--wait=false']);
      phase(`${runtime}: cluster.sh down`);
      await sh('bash', ['scripts/cluster.sh', 'down', '--prefix', s.prefix]);
      // Their Nodes would look Ready for 40 s more and draw the pods of the e2e files that run next.
      await cluster?.kubectl(['delete', 'node', ...s.nodes, '--ignore-not-found', '--wait=false']);
    } finally {
      removeSink?.();
      await cluster?.stop();
      phase(`${runtime}: done`);
    }
  }, 300_000);

  // The first four checks are independent of each other: they run concurrently on the one cluster; the rest after
  // them, one by one (each changes the cluster).
  it.concurrent("spreads a Deployment of 6 over the 3 nodes, each pod IP from its node's podCIDR", async ({ expect }) => {
    const ps = await runningPods(6);
    for (const n of s.nodes) {
      const mine = ps.filter((p) => p.node === n);
      expect(mine.length, `pods on ${n}`).toBe(2);
      const prefix = (await podCIDR(n)).replace(/\.0\/24$/, '.');
      for (const p of mine) expect(p.ip.startsWith(prefix), `${p.ip} in ${prefix}0/24`).toBe(true);
    }
  });

  it.concurrent('every pod reaches every other pod by pod IP across nodes', async ({ expect }) => {
    const ps = await runningPods(6);
    const nameOf = new Map(ps.map((p) => [`${p.ip}:8080`, p.name]));
    const results = await Promise.all(
      ps.map(async (from) => {
        const targets = ps.filter((to) => to.name !== from.name).map((to) => `${to.ip}:8080`);
        return { from, answers: await answersOnce(s, from.node, targets, (t, body) => body === nameOf.get(t), from.ip) };
      }),
    );
    for (const { from, answers } of results) {
      for (const to of ps) {
        if (to.name === from.name) continue;
        expect(answers.get(`${to.ip}:8080`), `${from.name} (${from.node}) -> ${to.name} (${to.node})`).toBe(to.name);
      }
    }
  });

  it.concurrent('a ClusterIP answers from every node and from pods on every node; a NodePort on every node IP', async ({ expect }) => {
    const ps = await runningPods(6);
    const svc = JSON.parse(await cluster.kubectlOk(['-n', NS, 'get', 'service', 'web', '-o', 'json'])) as { spec: { clusterIP: string; ports: { nodePort: number }[] } };
    const names = new Set(ps.map((p) => p.name));
    const clusterIp = `${svc.spec.clusterIP}:80`;
    const nodePort = svc.spec.ports[0]?.nodePort ?? 0;
    const nodePorts = s.nodes.map((target) => `${nodeIp(s, target)}:${nodePort}`);
    const isPod = (_t: string, body: string): boolean => names.has(body);
    const results = await Promise.all(
      s.nodes.map(async (n) => {
        const pod = ps.find((p) => p.node === n);
        const [fromNode, fromPod] = await Promise.all([
          answersOnce(s, n, [clusterIp, ...nodePorts], isPod),
          pod === undefined ? Promise.resolve(new Map<string, string>()) : answersOnce(s, n, [clusterIp], isPod, pod.ip),
        ]);
        return { n, pod, fromNode, fromPod };
      }),
    );
    for (const { n, pod, fromNode, fromPod } of results) {
      expect(names.has(fromNode.get(clusterIp) ?? ''), `ClusterIP from node ${n}: ${fromNode.get(clusterIp)}`).toBe(true);
      expect(pod).toBeDefined();
      expect(names.has(fromPod.get(clusterIp) ?? ''), `ClusterIP from pod on ${n}: ${fromPod.get(clusterIp)}`).toBe(true);
      for (const target of nodePorts) expect(names.has(fromNode.get(target) ?? ''), `NodePort ${target} from ${n}: ${fromNode.get(target)}`).toBe(true);
    }
  });

  it.concurrent('hostPort works through the portmap plugin', async ({ expect }) => {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'hostport', namespace: NS, labels: { app: 'hostport' } },
      spec: {
        nodeName: n2,
        terminationGracePeriodSeconds: 1,
        containers: [{ name: 'web', image: 'localhost/nodelet/testbox:1.0', imagePullPolicy: 'Never', command: ['sh', '-c', 'mkdir -p /w && echo hostport-ok > /w/index.html && exec httpd -f -p 8080 -h /w'], ports: [{ containerPort: 8080, hostPort: HOST_PORT }] }],
      },
    };
    await cluster.kubectlOk(['apply', '-f', '-'], { input: JSON.stringify(pod) });
    const target = `${nodeIp(s, n2)}:${HOST_PORT}`;
    const answers = await answersOnce(s, n1, [target], (_t, body) => body === 'hostport-ok');
    expect(answers.get(target)).toBe('hostport-ok');
    // Not waited for: the allocation check below waits until its IP is released.
    await cluster.kubectlOk(['-n', NS, 'delete', 'pod', 'hostport', '--wait=false']);
  });

  it.sequential('kill -9 of one agent during churn leaks no IP: host-local allocations match the running pods', async () => {
    const victim = n2;
    const onVictim = async (): Promise<number> => (await pods()).filter((p) => p.node === victim && !p.deleting).length;
    const before = await onVictim();
    // Killed as soon as new pods are bound to the node (their sandboxes being set up), then as soon as some of its
    // pods are being deleted (their teardown in flight).
    await cluster.kubectlOk(['-n', NS, 'scale', 'deployment', 'web', '--replicas=15']);
    await waitFor(async () => (await onVictim()) > before || undefined, { timeoutMs: 60_000, intervalMs: 100, description: `new pods bound to ${victim}` });
    await killAgent(s, victim);
    phase(`${runtime}: killed the agent on ${victim} (pods being added)`);
    const grown = await onVictim();
    await cluster.kubectlOk(['-n', NS, 'scale', 'deployment', 'web', '--replicas=3']);
    await waitFor(async () => (await onVictim()) < grown || undefined, { timeoutMs: 60_000, intervalMs: 100, description: `pods on ${victim} being deleted` });
    await killAgent(s, victim);
    phase(`${runtime}: killed the agent on ${victim} (pods being deleted)`);
    await cluster.kubectlOk(['-n', NS, 'scale', 'deployment', 'web', '--replicas=6']);
    const ps = await runningPods(6);
    phase(`${runtime}: 6 pods running again; comparing allocations`);
    await Promise.all(
      s.nodes.map(async (n) => {
        const want = ps.filter((p) => p.node === n).map((p) => p.ip).sort();
        await waitFor(
          async () => {
            const have = (await inNode(s, n, 'ls /var/lib/cni/networks/nodelet-host-gw/ 2>/dev/null | grep -E "^[0-9]+\\.[0-9]+\\.[0-9]+\\.[0-9]+$" || true')).trim().split('\n').filter((x) => x !== '').sort();
            return JSON.stringify(have) === JSON.stringify(want) ? true : undefined;
          },
          { timeoutMs: 90_000, intervalMs: 500, description: `allocations on ${n} = ${want.join(',')}` },
        );
      }),
    );
  });

  it.sequential('drain moves the pods off a node; deleting the Node removes its routes on the others', async ({ expect }) => {
    await cluster.kubectlOk(['drain', n3, '--ignore-daemonsets', '--delete-emptydir-data', '--force', '--timeout=120s'], { timeoutMs: 150_000 });
    const ps = await waitFor(
      async () => {
        const all = (await pods()).filter((p) => !p.deleting);
        return all.length === 6 && all.every((p) => p.phase === 'Running' && p.node !== n3) ? all : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 250, description: `pods moved off ${n3}` },
    );
    expect(ps.every((p) => p.node !== n3)).toBe(true);
    const cidr = await podCIDR(n3);
    expect(await inNode(s, n1, 'ip route show proto 158')).toContain(cidr);
    // Stop the node's agent first: a running kubelet would register its Node again.
    await sh('docker', ['stop', '-t', '20', container(s, n3)]);
    await cluster.kubectlOk(['delete', 'node', n3]);
    await Promise.all(
      [n1, n2].map((n) =>
        waitFor(async () => ((await inNode(s, n, 'ip route show proto 158')).includes(cidr) ? undefined : true), { timeoutMs: 60_000, intervalMs: 250, description: `route to ${cidr} gone on ${n}` }),
      ),
    );
  });

  it.sequential("without a pod network, the runtime's NetworkReady=false keeps the Node NotReady with NetworkPluginNotReady", async ({ expect }) => {
    // Only the stopped third node is created anew (up keeps running nodes), with no CNI config in it.
    await clusterUp(s, '--pod-network', 'none');
    const msg = await waitFor(
      async () => {
        const r = await cluster.kubectl(['get', 'node', n3, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}|{.status.conditions[?(@.type=="Ready")].message}']);
        const [status, message = ''] = r.stdout.split('|');
        return status === 'False' && message !== '' ? message : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 250, description: `${n3} registered NotReady` },
    );
    expect(msg).toMatch(/^container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:.*cni/);
  });
});
