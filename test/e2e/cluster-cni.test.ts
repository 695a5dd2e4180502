/**
 * e2e (issue 15): a 3-node nodelet cluster on this machine (scripts/cluster.sh: node containers with containerd or
 * dockerd, the CNI plugins and --pod-network=host-gw) joined to the REAL control plane, once per node runtime.
 * Checks the acceptance list: a
 * Deployment spreads over the nodes, every pod reaches every other pod across nodes, a ClusterIP answers from every
 * node and from pods on every node, a NodePort on every node IP, hostPort, kill -9 of one agent during churn leaks no
 * IP (host-local's allocations = the running pods), drain moves pods, and deleting a Node removes its routes.
 * Traffic stays on this machine: pods and nodes are on the Docker network nl8-net (10.214.8.0/24) and the service
 * CIDR is routed into the harness sink on the host.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { externalKubeconfig, installServiceCidrSink, REPO_ROOT, startCluster, waitFor, type Cluster } from './harness/index.js';

// scripts/test.sh creates the identity of NODE; nl-cni-2/3 must exist too (K8S_NODES for up.sh), else the suite skips.
const NODE = 'nl-cni-1';
const NODES = [NODE, 'nl-cni-2', 'nl-cni-3'];
const PREFIX = 'nl8';
const NS = 'nl8-e2e';
const HOST_PORT = 20810;
const kdir = (): string => dirname(externalKubeconfig() ?? '/nonexistent/x');
const skipReason =
  process.getuid?.() !== 0
    ? 'needs root (Docker, network namespaces)'
    : externalKubeconfig() === undefined
      ? 'needs the real control plane (KUBECONFIG): the test API server allocates no pod CIDRs and node containers cannot reach its loopback address'
      : NODES.some((n) => !existsSync(join(kdir(), `node-${n}.kubeconfig`)))
        ? `needs node identities node-{${NODES.join(',')}}.kubeconfig beside the admin kubeconfig (K8S_NODES for up.sh)`
        : '';

const container = (node: string): string => `${PREFIX}-${node}`;
const nodeIp = (node: string): string => `10.214.8.${11 + NODES.indexOf(node)}`;

function sh(cmd: string, args: string[], timeoutMs = 300_000): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: timeoutMs, cwd: REPO_ROOT, env: { ...process.env, NODELET_BUNDLE: process.env.NODELET_ENTRY ?? join(REPO_ROOT, 'dist/nodelet.mjs') } });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}${r.stdout}`);
  return r.stdout;
}

function inNode(node: string, script: string): string {
  return execFileSync('docker', ['exec', container(node), 'bash', '-c', script], { encoding: 'utf8', timeout: 30_000 });
}

/** HTTP GET body (last line) with bash's /dev/tcp, from the node or from inside the network namespace of pod IP `fromPod`. */
function get(node: string, ip: string, port: number, fromPod?: string): string {
  const req = `timeout 3 bash -c 'exec 3<>/dev/tcp/${ip}/${port}; printf "GET / HTTP/1.0\\r\\n\\r\\n" >&3; tail -n 1 <&3'`;
  if (fromPod === undefined) return inNode(node, req).trim();
  // The pod's network namespace is its pause process's (containerd and dockerd alike).
  const script = `for p in $(pgrep -x pause); do if nsenter -t $p -n ip -o -4 addr show | grep -q " ${fromPod}/"; then exec nsenter -t $p -n ${req}; fi; done; echo "no pause process with ${fromPod}" >&2; exit 99`;
  return inNode(node, script).trim();
}

interface PodInfo {
  name: string;
  node: string;
  ip: string;
  phase: string;
  deleting: boolean;
}

// Both node runtimes by default: containerd (its CRI plugin runs CNI) and docker (nodelet's Docker backend runs CNI).
const RUNTIMES = (process.env.NODELET_E2E_CLUSTER_RUNTIMES ?? 'containerd,docker').split(',').filter((r) => r !== '');

describe.skipIf(skipReason !== '').each(RUNTIMES)(`3-node cluster on %s with host-gw pod network ${skipReason}`, (runtime) => {
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
      { timeoutMs: 120_000, intervalMs: 1000, description: `${n} running web pods` },
    );
  }

  async function podCIDR(node: string): Promise<string> {
    return (await cluster.kubectlOk(['get', 'node', node, '-o', 'jsonpath={.spec.podCIDR}'])).trim();
  }

  beforeAll(async () => {
    cluster = await startCluster();
    removeSink = installServiceCidrSink();
    sh('bash', ['scripts/cluster.sh', 'down', '--prefix', PREFIX]);
    sh('bash', ['scripts/cluster.sh', 'up', '3', '--kubeconfig-dir', kdir(), '--names', NODES.join(','), '--prefix', PREFIX, '--subnet', '10.214.8.0/24', '--runtime', runtime], 600_000);
    for (const n of NODES) {
      await waitFor(async () => (await cluster.kubectl(['get', 'node', n, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'])).stdout === 'True', {
        timeoutMs: 120_000,
        intervalMs: 1000,
        description: `node ${n} Ready`,
      });
    }
    // A Node left cordoned by an earlier run (drain) keeps spec.unschedulable when its agent registers again.
    for (const n of NODES) await cluster.kubectl(['uncordon', n]);
    await cluster.freshNamespace(NS);
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
            affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: NODES }] }] } } },
            topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'DoNotSchedule', nodeTaintsPolicy: 'Honor', labelSelector: { matchLabels: { app: 'web' } } }],
            containers: [{ name: 'web', image: 'localhost/nodelet/testbox:1.0', imagePullPolicy: 'Never', command: ['sh', '-c', 'mkdir -p /w && hostname > /w/index.html && exec httpd -f -p 8080 -h /w'], ports: [{ containerPort: 8080 }] }],
          },
        },
      },
    };
    const service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: NS }, spec: { type: 'NodePort', selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] } };
    await cluster.kubectlOk(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [deployment, service] }) });
  }, 900_000);

  afterAll(async () => {
    try {
      // Pods of stopped nodes would stay Terminating: delete the Deployment (no replacements), force the pods out.
      await cluster?.kubectl(['-n', NS, 'delete', 'deployment', 'web', '--wait=true', '--timeout=30s']);
      await cluster?.kubectl(['-n', NS, 'delete', 'pods', '--all', '--force', '--grace-period=0', '--wait=false']);
      await cluster?.kubectl(['delete', 'namespace', NS, '--wait=false']);
      sh('bash', ['scripts/cluster.sh', 'down', '--prefix', PREFIX]);
    } finally {
      removeSink?.();
      await cluster?.stop();
    }
  }, 300_000);

  it('spreads a Deployment of 6 over the 3 nodes, each pod IP from its node\'s podCIDR', async () => {
    const ps = await runningPods(6);
    for (const n of NODES) {
      const mine = ps.filter((p) => p.node === n);
      expect(mine.length, `pods on ${n}`).toBe(2);
      const prefix = (await podCIDR(n)).replace(/\.0\/24$/, '.');
      for (const p of mine) expect(p.ip.startsWith(prefix), `${p.ip} in ${prefix}0/24`).toBe(true);
    }
  });

  it('every pod reaches every other pod by pod IP across nodes', async () => {
    const ps = await runningPods(6);
    for (const from of ps) {
      for (const to of ps) {
        if (to.name === from.name) continue;
        expect(get(from.node, to.ip, 8080, from.ip), `${from.name} (${from.node}) -> ${to.name} (${to.node})`).toBe(to.name);
      }
    }
  });

  it('a ClusterIP answers from every node and from pods on every node; a NodePort on every node IP', async () => {
    const ps = await runningPods(6);
    const svc = JSON.parse(await cluster.kubectlOk(['-n', NS, 'get', 'service', 'web', '-o', 'json'])) as { spec: { clusterIP: string; ports: { nodePort: number }[] } };
    const names = new Set(ps.map((p) => p.name));
    for (const n of NODES) {
      expect(names.has(get(n, svc.spec.clusterIP, 80)), `ClusterIP from node ${n}`).toBe(true);
      const pod = ps.find((p) => p.node === n);
      expect(pod).toBeDefined();
      if (pod !== undefined) expect(names.has(get(n, svc.spec.clusterIP, 80, pod.ip)), `ClusterIP from pod on ${n}`).toBe(true);
      const nodePort = svc.spec.ports[0]?.nodePort ?? 0;
      for (const target of NODES) expect(names.has(get(n, nodeIp(target), nodePort)), `NodePort ${nodeIp(target)}:${nodePort} from ${n}`).toBe(true);
    }
  });

  it('hostPort works through the portmap plugin', async () => {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'hostport', namespace: NS, labels: { app: 'hostport' } },
      spec: {
        nodeName: 'nl-cni-2',
        terminationGracePeriodSeconds: 1,
        containers: [{ name: 'web', image: 'localhost/nodelet/testbox:1.0', imagePullPolicy: 'Never', command: ['sh', '-c', 'mkdir -p /w && echo hostport-ok > /w/index.html && exec httpd -f -p 8080 -h /w'], ports: [{ containerPort: 8080, hostPort: HOST_PORT }] }],
      },
    };
    await cluster.kubectlOk(['apply', '-f', '-'], { input: JSON.stringify(pod) });
    const body = await waitFor(() => {
      try {
        return get('nl-cni-1', nodeIp('nl-cni-2'), HOST_PORT) || undefined;
      } catch {
        return undefined;
      }
    }, { timeoutMs: 60_000, intervalMs: 1000, description: 'hostPort answer' });
    expect(body).toBe('hostport-ok');
    await cluster.kubectlOk(['-n', NS, 'delete', 'pod', 'hostport', '--wait=true', '--timeout=60s']);
  });

  it('kill -9 of one agent during churn leaks no IP: host-local allocations match the running pods', async () => {
    await cluster.kubectlOk(['-n', NS, 'scale', 'deployment', 'web', '--replicas=15']);
    await new Promise((r) => setTimeout(r, 1500));
    inNode('nl-cni-2', 'pkill -9 -f nodelet.mjs');
    await cluster.kubectlOk(['-n', NS, 'scale', 'deployment', 'web', '--replicas=3']);
    await new Promise((r) => setTimeout(r, 1500));
    inNode('nl-cni-2', 'pkill -9 -f nodelet.mjs');
    await cluster.kubectlOk(['-n', NS, 'scale', 'deployment', 'web', '--replicas=6']);
    const ps = await runningPods(6);
    for (const n of NODES) {
      const want = ps.filter((p) => p.node === n).map((p) => p.ip).sort();
      await waitFor(
        () => {
          const have = inNode(n, 'ls /var/lib/cni/networks/nodelet-host-gw/ 2>/dev/null | grep -E "^[0-9]+\\.[0-9]+\\.[0-9]+\\.[0-9]+$" || true').trim().split('\n').filter((x) => x !== '').sort();
          return JSON.stringify(have) === JSON.stringify(want) ? true : undefined;
        },
        { timeoutMs: 90_000, intervalMs: 2000, description: `allocations on ${n} = ${want.join(',')}` },
      );
    }
  });

  it('drain moves the pods off a node; deleting the Node removes its routes on the others', async () => {
    await cluster.kubectlOk(['drain', 'nl-cni-3', '--ignore-daemonsets', '--delete-emptydir-data', '--force', '--timeout=120s'], { timeoutMs: 150_000 });
    const ps = await waitFor(
      async () => {
        const all = (await pods()).filter((p) => !p.deleting);
        return all.length === 6 && all.every((p) => p.phase === 'Running' && p.node !== 'nl-cni-3') ? all : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 1000, description: 'pods moved off nl-cni-3' },
    );
    expect(ps.every((p) => p.node !== 'nl-cni-3')).toBe(true);
    const cidr = await podCIDR('nl-cni-3');
    expect(inNode('nl-cni-1', 'ip route show proto 158')).toContain(cidr);
    // Stop the node's agent first: a running kubelet would register its Node again.
    sh('docker', ['stop', '-t', '20', container('nl-cni-3')]);
    await cluster.kubectlOk(['delete', 'node', 'nl-cni-3']);
    for (const n of ['nl-cni-1', 'nl-cni-2']) {
      await waitFor(() => (inNode(n, 'ip route show proto 158').includes(cidr) ? undefined : true), { timeoutMs: 60_000, description: `route to ${cidr} gone on ${n}` });
    }
  });

  it('without a pod network, the runtime\'s NetworkReady=false keeps the Node NotReady with NetworkPluginNotReady', async () => {
    // Only the stopped nl-cni-3 is created anew (up keeps running nodes), with no CNI config in it.
    sh('bash', ['scripts/cluster.sh', 'up', '3', '--kubeconfig-dir', kdir(), '--names', NODES.join(','), '--prefix', PREFIX, '--subnet', '10.214.8.0/24', '--runtime', runtime, '--pod-network', 'none'], 600_000);
    const msg = await waitFor(async () => {
      const r = await cluster.kubectl(['get', 'node', 'nl-cni-3', '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}|{.status.conditions[?(@.type=="Ready")].message}']);
      const [status, message = ''] = r.stdout.split('|');
      return status === 'False' && message !== '' ? message : undefined;
    }, { timeoutMs: 90_000, intervalMs: 1000, description: 'nl-cni-3 registered NotReady' });
    expect(msg).toMatch(/^container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:.*cni/);
  });
});
