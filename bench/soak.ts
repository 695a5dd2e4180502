/**
 * Soak (issue 14; not part of the test suite): runs nodelet (kubelet role) against a cluster — the real control plane
 * when $KUBECONFIG names its admin kubeconfig, else the in-process test API server — on a PRIVATE dockerd, for a
 * configurable time (default 24 h; `--minutes 60` is the short form), with continuous pod churn (plain pods created and
 * deleted, crash-looping pods, probe-failing pods, ConfigMap updates) and faults on a schedule (the agent killed with
 * SIGKILL and restarted; the private dockerd restarted; on the test API server also: watches dropped, the API
 * server down for 60 s). Every minute it records agent RSS, V8 heap used, open file descriptors, pods vs app
 * containers, and at the end: pods started, faults survived, orphan and duplicate containers, restarts of healthy
 * containers, status convergence after each API outage. Output: a JSON lines file and a summary (stdout).
 *
 * The proxy role is not part of this form: on a machine shared with other agents it would program the host's
 * iptables. Restarting the shared real API server or etcd is not done either (other users depend on them); use the
 * test API server for those faults.
 *
 * Usage: KUBECONFIG=/tmp/k8s-real/admin.kubeconfig NODELET_ENTRY=/tmp/x/nodelet.mjs \
 *          tsx bench/soak.ts [--minutes 1440] [--node nl-fix-2] [--ns nl6-soak] [--out soak.jsonl] [--healthz-port 20640]
 *          [--bridge nl6-soak0] [--subnet 10.214.6.129/25] [--kill-every-min 5] [--dockerd-every-min 15]
 */
import { appendFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { runNodelet, startCluster, waitFor, type Cluster, type NodeletProcess } from '../test/e2e/harness/index.js';
import { fastKubeletConfig, startPrivateDockerd, tempDir, type PrivateDockerd } from '../test/e2e/node-helpers.js';
import { statusMB } from './lib/proc.js';

interface Args {
  minutes: number;
  node: string;
  ns: string;
  out: string;
  healthzPort: number;
  bridge: string;
  subnet: string;
  /** Churn ticks (10 s) between agent SIGKILLs and between engine restarts. */
  killEvery: number;
  dockerdEvery: number;
}

function args(argv: string[]): Args {
  const get = (name: string, def: string): string => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : def;
  };
  return {
    minutes: Number(get('minutes', '1440')),
    node: get('node', 'nl-fix-2'),
    ns: get('ns', 'nl6-soak'),
    out: get('out', 'soak.jsonl'),
    healthzPort: Number(get('healthz-port', '20640')),
    bridge: get('bridge', 'nl6-soak0'),
    subnet: get('subnet', '10.214.6.129/25'),
    killEvery: Number(get('kill-every-min', '5')) * 6,
    dockerdEvery: Number(get('dockerd-every-min', '15')) * 6,
  };
}

const IMAGE = 'localhost/nodelet/testbox:1.0';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface PodLike {
  metadata: { name: string; uid: string; labels?: Record<string, string> };
  status?: { phase?: string; containerStatuses?: { name: string; restartCount: number; ready: boolean }[] };
}

function pod(ns: string, node: string, name: string, kind: 'plain' | 'crash' | 'probe' | 'healthy'): string {
  const c: Record<string, unknown> = { name: 'c', image: IMAGE, command: ['sleep', '100000'] };
  if (kind === 'crash') c.command = ['sh', '-c', 'sleep 2; exit 1'];
  if (kind === 'probe') c.livenessProbe = { exec: { command: ['false'] }, periodSeconds: 5, failureThreshold: 2 };
  if (kind === 'plain' || kind === 'healthy') {
    c.volumeMounts = [{ name: 'cfg', mountPath: '/cfg' }];
  }
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns, labels: { 'nl6-soak': kind } },
    spec: {
      nodeName: node,
      terminationGracePeriodSeconds: 1,
      containers: [c],
      volumes: kind === 'plain' || kind === 'healthy' ? [{ name: 'cfg', configMap: { name: 'soak-cfg' } }] : undefined,
    },
  });
}

async function main(): Promise<void> {
  const a = args(process.argv.slice(2));
  const cluster: Cluster = await startCluster();
  const dir = tempDir('nl6-soak-');
  const engine: PrivateDockerd = await startPrivateDockerd(dir.path, a.bridge, a.subnet);
  const kubeconfig = await cluster.nodeKubeconfig(a.node);
  const flags = [
    `--kubeconfig=${kubeconfig}`,
    `--config=${fastKubeletConfig(dir.path, 'enableServer: false\n')}`,
    '--roles=kubelet',
    `--hostname-override=${a.node}`,
    `--root-dir=${dir.path}/root`,
    `--container-runtime-endpoint=unix://${engine.socket}`,
    `--healthz-port=${a.healthzPort}`,
  ];
  let agent: NodeletProcess = runNodelet(flags, { name: 'nl6-soak' });
  const facts = { podsCreated: 0, faults: [] as { at: string; kind: string; convergedMs?: number }[], samples: 0 };
  writeFileSync(a.out, '');
  const record = (o: Record<string, unknown>): void => appendFileSync(a.out, `${JSON.stringify({ t: new Date().toISOString(), ...o })}\n`);
  const stopAt = Date.now() + a.minutes * 60_000;
  try {
    await cluster.freshNamespace(a.ns);
    await waitFor(async () => (await cluster.kubectl(['get', 'node', a.node])).code === 0, { timeoutMs: 60_000, description: 'node registered' });
    await cluster.kubectlOk(['-n', a.ns, 'create', 'configmap', 'soak-cfg', '--from-literal=v=0']);
    // Healthy pods that must never restart.
    for (let i = 0; i < 5; i++) {
      await cluster.kubectlOk(['create', '-f', '-'], { input: pod(a.ns, a.node, `healthy-${i}`, 'healthy') });
      facts.podsCreated++;
    }
    await cluster.kubectlOk(['create', '-f', '-'], { input: pod(a.ns, a.node, 'crash-0', 'crash') });
    await cluster.kubectlOk(['create', '-f', '-'], { input: pod(a.ns, a.node, 'probe-0', 'probe') });
    facts.podsCreated += 2;
    let tick = 0;
    let nextSample = Date.now();
    while (Date.now() < stopAt) {
      tick++;
      // Churn: every 10 s one plain pod created, the oldest beyond 10 deleted, the ConfigMap updated.
      const name = `plain-${tick}`;
      await cluster.kubectl(['create', '-f', '-'], { input: pod(a.ns, a.node, name, 'plain') });
      facts.podsCreated++;
      if (tick > 10) await cluster.kubectl(['-n', a.ns, 'delete', 'pod', `plain-${tick - 10}`, '--wait=false']);
      await cluster.kubectl(['-n', a.ns, 'create', 'configmap', 'soak-cfg', `--from-literal=v=${tick}`, '--dry-run=client', '-o', 'yaml'])
        .then((r) => cluster.kubectl(['apply', '-f', '-'], { input: r.stdout }));
      // Faults: every 5 min the agent is SIGKILLed and restarted; every 15 min the engine restarts; on the test API
      // server every 20 min watches drop and every 30 min the server is down for 60 s.
      if (tick % a.killEvery === 0) {
        process.kill(agent.pid, 'SIGKILL');
        await agent.exited.catch(() => undefined);
        agent = runNodelet(flags, { name: 'nl6-soak' });
        facts.faults.push({ at: new Date().toISOString(), kind: 'agent SIGKILL' });
      }
      if (tick % a.dockerdEvery === 0) {
        await engine.stop();
        await engine.start();
        facts.faults.push({ at: new Date().toISOString(), kind: 'dockerd restart' });
      }
      if (cluster.server !== undefined && tick % 120 === 0) {
        cluster.faults?.dropWatches();
        facts.faults.push({ at: new Date().toISOString(), kind: 'watches dropped' });
      }
      if (cluster.server !== undefined && tick % 180 === 0) {
        const t0 = Date.now();
        await cluster.server.restart(60_000);
        // Convergence: a change made right after the outage shows in the pod's status.
        await cluster.kubectl(['create', '-f', '-'], { input: pod(a.ns, a.node, `after-outage-${tick}`, 'plain') });
        await waitFor(async () => (await cluster.kubectl(['-n', a.ns, 'get', 'pod', `after-outage-${tick}`, '-o', 'jsonpath={.status.phase}'])).stdout === 'Running', { timeoutMs: 120_000, description: 'converged' }).catch(() => undefined);
        facts.faults.push({ at: new Date().toISOString(), kind: 'API server down 60 s', convergedMs: Date.now() - t0 - 60_000 });
      }
      if (Date.now() >= nextSample) {
        nextSample += 60_000;
        facts.samples++;
        let fds = -1;
        try {
          fds = readdirSync(`/proc/${agent.pid}/fd`).length;
        } catch {
          // the agent is restarting
        }
        const metrics = await fetch(`http://127.0.0.1:${a.healthzPort}/metrics`).then((r) => r.text()).catch(() => '');
        const heap = Number(/^nodejs_heap_size_used_bytes (\S+)/m.exec(metrics)?.[1] ?? Number.NaN) / 2 ** 20;
        const pods = JSON.parse((await cluster.kubectl(['-n', a.ns, 'get', 'pods', '-o', 'json'])).stdout || '{"items":[]}') as { items: PodLike[] };
        const containers = engine.docker(['ps', '--filter', 'label=io.kubernetes.container.name', '--format', '{{.Labels}}']).split('\n').filter((l) => l !== '' && !l.includes('io.kubernetes.docker.type=podsandbox'));
        record({ rssMB: statusMB(agent.pid, 'VmRSS'), heapMB: heap, fds, pods: pods.items.length, containers: containers.length });
      }
      await sleep(10_000);
    }
    // Final accounting: every pod object has at most one running app container, and no container lacks a pod.
    await sleep(30_000);
    const pods = JSON.parse((await cluster.kubectl(['-n', a.ns, 'get', 'pods', '-o', 'json'])).stdout) as { items: PodLike[] };
    const uids = new Set(pods.items.map((p) => p.metadata.uid));
    const running = engine.docker(['ps', '--filter', 'label=io.kubernetes.container.name=c', '--format', '{{.Label "io.kubernetes.pod.uid"}}']).split('\n').filter((l) => l !== '');
    const orphans = running.filter((u) => !uids.has(u)).length;
    const perPod = new Map<string, number>();
    for (const u of running) perPod.set(u, (perPod.get(u) ?? 0) + 1);
    const duplicates = [...perPod.values()].filter((n) => n > 1).length;
    const healthyRestarts = pods.items.filter((p) => p.metadata.labels?.['nl6-soak'] === 'healthy').reduce((n, p) => n + (p.status?.containerStatuses?.[0]?.restartCount ?? 0), 0);
    const rss = readFileSync(a.out, 'utf8').trim().split('\n').filter((l) => l !== '').map((l) => (JSON.parse(l) as { rssMB: number }).rssMB);
    const summary = { minutes: a.minutes, podsCreated: facts.podsCreated, faults: facts.faults, orphans, duplicates, healthyRestarts, rssFirstMB: rss[0], rssLastMB: rss.at(-1), rssMaxMB: Math.max(...rss) };
    record({ summary });
    console.log(JSON.stringify(summary, null, 2));
  } finally {
    await cluster.kubectl(['delete', 'namespace', a.ns, '--wait=false']);
    await waitFor(() => engine.docker(['ps', '-q']).trim() === '', { timeoutMs: 60_000, description: 'pods gone' }).catch(() => undefined);
    await agent.stop();
    await engine.destroy();
    await cluster.kubectl(['delete', 'node', a.node, '--wait=false']);
    await cluster.stop();
    dir.remove();
  }
}

void main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
