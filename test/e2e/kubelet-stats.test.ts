/**
 * e2e (issue 13): the stats endpoints of the daemon's kubelet API, read the way metrics-server and operators read
 * them — `kubectl get --raw /api/v1/nodes/<node>/proxy/stats/summary`, `/metrics/resource` and `/metrics/cadvisor`
 * through the API server (which calls the node's InternalIP:daemonEndpoints port with its kubelet-client
 * certificate; the daemon verifies it with `--client-ca-file` and authorizes it with a SubjectAccessReview).
 * Docker runtime on a private engine; against the test API server and, with $KUBECONFIG / $NODELET_E2E_KUBECONFIG,
 * the real control plane (node identity nl-api-3).
 */
import Docker from 'dockerode';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHostReader } from '../../src/kubelet/node/index.js';
import { dumpOnFailure, runNodelet, spawnKubectl, startCluster, waitFor, type Cluster, type NodeletProcess } from './harness/index.js';
import { fastKubeletConfig, startPrivateDockerd, tearDownDaemonScenario, tempDir, type PrivateDockerd } from './node-helpers.js';

const NODE = 'nl-api-3';
const NS = 'nl3-stats';
const PORT = 20320;
const HEALTHZ = 20321;

// Upstream field names (k8s.io/kubelet/pkg/apis/stats/v1alpha1 JSON tags): anything else is a bug.
const FS = ['time', 'availableBytes', 'capacityBytes', 'usedBytes', 'inodesFree', 'inodes', 'inodesUsed'];
const CPU = ['time', 'usageNanoCores', 'usageCoreNanoSeconds'];
const MEM = ['time', 'availableBytes', 'usageBytes', 'workingSetBytes', 'rssBytes', 'pageFaults', 'majorPageFaults'];
const IFACE = ['name', 'rxBytes', 'rxErrors', 'txBytes', 'txErrors'];
const NET = ['time', ...IFACE, 'interfaces'];
const CONTAINER = ['name', 'startTime', 'cpu', 'memory', 'rootfs', 'logs'];

type J = Record<string, unknown>;
function keys(o: unknown, allowed: string[], where: string): J {
  expect(typeof o, where).toBe('object');
  for (const k of Object.keys(o as J)) expect(allowed, `${where}.${k}`).toContain(k);
  return o as J;
}
function checkContainer(c: unknown, where: string): void {
  const x = keys(c, CONTAINER, where);
  if (x.cpu) keys(x.cpu, CPU, `${where}.cpu`);
  if (x.memory) keys(x.memory, MEM, `${where}.memory`);
  if (x.rootfs) keys(x.rootfs, FS, `${where}.rootfs`);
  if (x.logs) keys(x.logs, FS, `${where}.logs`);
}

describe('kubelet stats endpoints through the API server (docker)', () => {
  let cluster: Cluster;
  let nodelet: NodeletProcess | undefined;
  let engine: PrivateDockerd | undefined;
  let docker: Docker | undefined;
  let dir: ReturnType<typeof tempDir>;
  let podUid = '';
  const raw = (path: string): Promise<string> => cluster.kubectlOk(['get', '--raw', `/api/v1/nodes/${NODE}/proxy${path}`]);
  beforeEach(() => dumpOnFailure(cluster, () => (nodelet === undefined ? [] : [nodelet])));

  beforeAll(async () => {
    cluster = await startCluster();
    dir = tempDir('nl3-stats-');
    engine = await startPrivateDockerd(dir.path, 'nl3dkr0', '10.214.3.1/25');
    docker = new Docker({ socketPath: engine.socket });
    // nodes/proxy refuses loopback kubelets (as the real API server does): the node reports the default-route address.
    const nodeIP = createHostReader().defaultAddress() ?? '127.0.0.1';
    await cluster.freshNamespace(NS);
    nodelet = runNodelet(
      [
        `--kubeconfig=${await cluster.nodeKubeconfig(NODE)}`,
        `--config=${fastKubeletConfig(dir.path, 'syncFrequency: 10s\n')}`,
        '--roles=kubelet',
        `--hostname-override=${NODE}`,
        `--root-dir=${dir.path}/root`,
        `--node-ip=${nodeIP}`,
        `--port=${PORT}`,
        `--healthz-port=${HEALTHZ}`,
        `--client-ca-file=${await cluster.kubeletClientCaFile()}`, // the CA of the cluster under test
        '--fail-swap-on=false',
        `--container-runtime-endpoint=unix://${engine.socket}`,
      ],
      { name: 'nl3-stats' },
    );
    await waitFor(async () => (await cluster.kubectl(['get', 'node', NODE, '-o', 'jsonpath={.status.daemonEndpoints.kubeletEndpoint.Port}'])).stdout === String(PORT), {
      timeoutMs: 60_000,
      description: `node ${NODE} reports kubelet port ${PORT}`,
    });
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'burner', namespace: NS },
      spec: {
        nodeName: NODE,
        terminationGracePeriodSeconds: 1,
        volumes: [{ name: 'cache', emptyDir: {} }],
        containers: [
          {
            name: 'main',
            image: 'localhost/nodelet/testbox:1.0',
            imagePullPolicy: 'Never',
            // a steady trickle of CPU, a file in the emptyDir, a log line
            command: ['sh', '-c', 'head -c 1048576 /dev/zero > /cache/blob; echo started; while true; do i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; sleep 0.2; done'],
            volumeMounts: [{ name: 'cache', mountPath: '/cache' }],
          },
          {
            name: 'web',
            image: 'localhost/nodelet/testbox:1.0',
            imagePullPolicy: 'Never',
            // bound on 127.0.0.1 inside the pod only: port-forward must enter the pod's network namespace
            command: ['sh', '-c', 'mkdir -p /www && echo hello-from-nl3 > /www/index.html && exec httpd -f -p 127.0.0.1:8080 -h /www'],
          },
        ],
      },
    };
    await cluster.kubectlOk(['create', '-f', '-'], { input: JSON.stringify(pod) });
    await waitFor(async () => (await cluster.kubectl(['get', 'pod', 'burner', '-n', NS, '-o', 'jsonpath={.status.phase}'])).stdout === 'Running', { timeoutMs: 90_000, description: 'pod burner Running' });
    podUid = await cluster.kubectlOk(['get', 'pod', 'burner', '-n', NS, '-o', 'jsonpath={.metadata.uid}']);
  }, 240_000);

  afterAll(async () => {
    await tearDownDaemonScenario({ cluster, nodelet, engine, docker, namespace: NS, node: NODE, dir, podsGoneTimeoutMs: 30_000 });
  }, 120_000);

  it('/stats/summary parses as statsapi.Summary with node, pod, container, network, volume and ephemeral-storage stats', async () => {
    // usageNanoCores needs two readings (housekeeping every 10 s).
    const summary = await waitFor(async () => {
      const s = JSON.parse(await raw('/stats/summary')) as { node: J; pods: J[] };
      const p = s.pods.find((x) => (x.podRef as J).name === 'burner');
      const c = (p?.containers as J[] | undefined)?.[0];
      return (c?.cpu as J | undefined)?.usageNanoCores !== undefined ? s : undefined;
    }, { timeoutMs: 40_000, description: 'summary with a CPU rate for burner/main' });
    const node = keys(summary.node, ['nodeName', 'systemContainers', 'startTime', 'cpu', 'memory', 'network', 'fs', 'runtime', 'rlimit'], 'node');
    expect(node.nodeName).toBe(NODE);
    expect(Number((keys(node.cpu, CPU, 'node.cpu')).usageCoreNanoSeconds)).toBeGreaterThan(0);
    expect(Number(keys(node.memory, MEM, 'node.memory').workingSetBytes)).toBeGreaterThan(0);
    expect(Number(keys(node.fs, FS, 'node.fs').capacityBytes)).toBeGreaterThan(0);
    keys(node.network, NET, 'node.network');
    const rt = keys(node.runtime, ['imageFs', 'containerFs'], 'node.runtime');
    expect(Number(keys(rt.imageFs, FS, 'imageFs').usedBytes)).toBeGreaterThan(0);
    keys(node.rlimit, ['time', 'maxpid', 'curproc'], 'node.rlimit');
    for (const sc of node.systemContainers as J[]) checkContainer(sc, `systemContainers.${String(sc.name)}`);
    const pod = summary.pods.find((x) => (x.podRef as J).name === 'burner')!;
    keys(pod, ['podRef', 'startTime', 'containers', 'cpu', 'memory', 'network', 'volume', 'ephemeral-storage', 'process_stats'], 'pod');
    expect(pod.podRef).toEqual({ name: 'burner', namespace: NS, uid: podUid });
    const main = (pod.containers as J[]).find((c) => c.name === 'main');
    checkContainer(main, 'pod.containers[0]');
    expect(main!.name).toBe('main');
    const cpu = main!.cpu as J;
    expect(Number(cpu.usageCoreNanoSeconds)).toBeGreaterThan(0);
    expect(Number(cpu.usageNanoCores)).toBeGreaterThan(1_000_000); // the loop burns well over 1 millicore
    expect(Number((main!.memory as J).workingSetBytes)).toBeGreaterThan(0);
    expect(Number((main!.logs as J).usedBytes)).toBeGreaterThan(0);
    const net = keys(pod.network, NET, 'pod.network');
    expect(net.name).toBe('eth0');
    expect((net.interfaces as J[]).map((i) => keys(i, IFACE, 'iface').name)).toContain('eth0');
    const vol = (pod.volume as J[]).find((v) => v.name === 'cache')!;
    keys(vol, [...FS, 'name', 'pvcRef'], 'volume');
    expect(Number(vol.usedBytes)).toBeGreaterThanOrEqual(1048576);
    expect(Number(keys(pod['ephemeral-storage'], FS, 'ephemeral-storage').usedBytes)).toBeGreaterThanOrEqual(1048576);
    expect(Number((pod.process_stats as J).process_count)).toBeGreaterThanOrEqual(1);
  }, 60_000);

  it('/metrics/resource carries the metrics-server families with upstream labels', async () => {
    const text = await raw('/metrics/resource');
    const samples = text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    for (const l of samples) expect(l).toMatch(/^[a-z_]+(\{[^}]*\})? [-+0-9.e]+( \d+)?$/);
    expect(text).toContain('# TYPE node_cpu_usage_seconds_total counter');
    expect(text).toMatch(/^node_memory_working_set_bytes [0-9.e+]+ \d{13}$/m);
    expect(text).toMatch(new RegExp(`^container_cpu_usage_seconds_total\\{container="main",namespace="${NS}",pod="burner"\\} [0-9.e+-]+ \\d{13}$`, 'm'));
    expect(text).toMatch(new RegExp(`^container_memory_working_set_bytes\\{container="main",namespace="${NS}",pod="burner"\\} `, 'm'));
    expect(text).toMatch(new RegExp(`^container_start_time_seconds\\{container="main",namespace="${NS}",pod="burner"\\} [0-9.e+]+$`, 'm'));
    expect(text).toMatch(new RegExp(`^pod_cpu_usage_seconds_total\\{namespace="${NS}",pod="burner"\\} `, 'm'));
    expect(text).toMatch(new RegExp(`^pod_memory_working_set_bytes\\{namespace="${NS}",pod="burner"\\} `, 'm'));
    expect(text).toContain('\nresource_scrape_error 0\n');
  }, 30_000);

  it('/metrics/cadvisor carries per-container series with cAdvisor labels', async () => {
    const text = await raw('/metrics/cadvisor');
    expect(text).toMatch(new RegExp(`^container_cpu_usage_seconds_total\\{container="main",cpu="total",id="[^"]*/[0-9a-f]{64}",image="localhost/nodelet/testbox:1.0",name="k8s_main_burner_${NS}_${podUid}_0",namespace="${NS}",pod="burner"\\} `, 'm'));
    expect(text).toMatch(new RegExp(`^container_memory_working_set_bytes\\{container="main",`, 'm'));
    expect(text).toMatch(new RegExp(`^container_network_receive_bytes_total\\{container="POD",id="[^"]*/[0-9a-f]{64}",image="",interface="eth0",name="k8s_POD_burner_${NS}_${podUid}_0",namespace="${NS}",pod="burner"\\} `, 'm'));
    expect(text).toMatch(/^container_cpu_usage_seconds_total\{container="",cpu="total",id="\/",image="",name="",namespace="",pod=""\} /m);
    // the pod's own cgroup (cgroupsPerQOS, on by default): kubepods/<qos>/pod<uid>
    expect(text).toMatch(new RegExp(`^container_memory_working_set_bytes\\{container="",id="[^"]*/kubepods/besteffort/pod${podUid}",image="",name="",namespace="${NS}",pod="burner"\\} `, 'm'));
  }, 30_000);

  // The test API server's proxying of exec and port-forward (kubectl's WebSocket attempt, its SPDY fallback, the
  // port-forward tunnel) against the daemon's own streaming server; on the real control plane the same commands.
  it('kubectl exec returns the command exit status and output through the API server', async () => {
    const ok = await cluster.kubectl(['exec', 'burner', '-n', NS, '-c', 'main', '--', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    if (cluster.server !== undefined) {
      // kubectl's WebSocket (v5.channel.k8s.io, a GET upgrade) was taken, as by the real API server (which
      // translates it to SPDY toward the kubelet); no SPDY fallback (a POST).
      const ex = cluster.server.requests.filter((r) => r.includes('/pods/burner/exec'));
      expect(ex.map((r) => r.split(' ')[0])).toEqual(['GET']);
    }
    expect(ok.code).toBe(3);
    expect(ok.stdout).toBe('out\n');
    expect(ok.stderr).toContain('err');
    const input = await cluster.kubectl(['exec', '-i', 'burner', '-n', NS, '-c', 'main', '--', 'cat'], { input: 'piped-through\n' });
    expect([input.code, input.stdout]).toEqual([0, 'piped-through\n']);
  }, 60_000);

  it('kubectl port-forward carries an HTTP request to a port bound on the pod\'s loopback', async () => {
    const local = 20322;
    const pf = spawnKubectl(cluster.kubeconfigPath, ['port-forward', '-n', NS, 'pod/burner', `${local}:8080`, '--address=127.0.0.1']);
    try {
      await pf.waitForLine((l) => l.includes(`Forwarding from 127.0.0.1:${local}`), 20_000);
      const body = await waitFor(async () => {
        const r = await fetch(`http://127.0.0.1:${local}/index.html`).catch(() => undefined);
        return r?.ok ? await r.text() : undefined;
      }, { timeoutMs: 20_000, description: 'HTTP through port-forward' });
      expect(body).toBe('hello-from-nl3\n');
      if (cluster.server !== undefined) {
        // kubectl's WebSocket tunnel was taken (a GET upgrade), not its SPDY fallback (a POST).
        const pfs = cluster.server.requests.filter((r) => r.includes('/pods/burner/portforward'));
        expect(pfs.map((r) => r.split(' ')[0])).toEqual(['GET']);
      }
    } finally {
      await pf.stop();
    }
  }, 60_000);
});
