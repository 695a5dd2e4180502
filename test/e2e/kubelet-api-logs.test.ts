/**
 * e2e (issue 13): the kubelet API on the daemon's `--port`, reached the way operators reach it — `kubectl logs`
 * through the API server (which calls the node's InternalIP:daemonEndpoints port with its kubelet-client
 * certificate; the daemon verifies it with `--client-ca-file`) — and directly: anonymous → 401 `Unauthorized`, a
 * service account token without rights → 403 with upstream's body (TokenReview + SubjectAccessReview by the
 * daemon). Runs on Docker and on a private containerd (CRI log files), against the test API server and, with
 * $KUBECONFIG / $NODELET_E2E_KUBECONFIG, against the real control plane (node identities nl-api-1 / nl-api-2).
 */
import { request } from 'node:https';
import { readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CriRuntime } from '../../src/cri/containerd/index.js';
import { containerdMissing, startPrivateContainerd, type PrivateContainerd } from '../../src/cri/containerd/testing.js';
import { dumpOnFailure, runNodelet, spawnKubectl, startCluster, testPodLogsDir, waitFor, type Cluster, type NodeletProcess } from './harness/index.js';
import { createHostReader } from '../../src/kubelet/node/index.js';
import { fastKubeletConfig, startPrivateDockerd, tearDownDaemonScenario, tempDir, type PrivateDockerd } from './node-helpers.js';

const DENIED_SA = 'nl1-nobody';

interface Scenario {
  runtime: 'docker' | 'containerd';
  node: string;
  ns: string;
  port: number;
  healthzPort: number;
}

const SCENARIOS: Scenario[] = [
  { runtime: 'docker', node: 'nl-api-1', ns: 'nl1-api-logs-docker', port: 20110, healthzPort: 20111 },
  { runtime: 'containerd', node: 'nl-api-2', ns: 'nl1-api-logs-ctrd', port: 20112, healthzPort: 20113 },
];

/** A GET to the kubelet API on 127.0.0.1 (self-signed serving certificate: not verified). */
function kubeletGet(port: number, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers, rejectUnauthorized: false, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const pod = (s: Scenario, name: string, containers: unknown[], extra: Record<string, unknown> = {}): string =>
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: s.ns },
    spec: { nodeName: s.node, terminationGracePeriodSeconds: 1, containers, ...extra },
  });

const box = (name: string, script: string): Record<string, unknown> => ({ name, image: 'localhost/nodelet/testbox:1.0', imagePullPolicy: 'Never', command: ['sh', '-c', script] });

for (const s of SCENARIOS) {
  const missing = s.runtime === 'containerd' ? containerdMissing() : undefined;
  describe.skipIf(missing !== undefined)(`kubelet API on ${s.runtime} ${missing ?? ''}`, () => {
    let cluster: Cluster;
    let nodelet: NodeletProcess | undefined;
    let ctrd: PrivateContainerd | undefined;
    let engine: PrivateDockerd | undefined;
    let docker: Docker | undefined;
    let dir: ReturnType<typeof tempDir>;
    const kubectlOk = (args: string[], input?: string): Promise<string> => cluster.kubectlOk(args, input === undefined ? {} : { input });
    beforeEach(() => dumpOnFailure(cluster, () => (nodelet === undefined ? [] : [nodelet])));

    beforeAll(async () => {
      cluster = await startCluster({
        // The test API server's SubjectAccessReview stands in for RBAC: the service account without rights is denied.
        reviews: { subjectAccessReview: (spec) => ({ allowed: spec.user !== `system:serviceaccount:${s.ns}:${DENIED_SA}` }) },
      });
      dir = tempDir('nl1-api-');
      const clientCA = await cluster.kubeletClientCaFile(); // the CA of the cluster under test
      let endpoint: string[];
      if (s.runtime === 'containerd') {
        ctrd = await startPrivateContainerd({ bridge: 'nl1ctr0', subnet: '10.214.1.128/25' });
        endpoint = [`--container-runtime-endpoint=unix://${ctrd.socketPath}`];
      } else {
        engine = await startPrivateDockerd(dir.path, 'nl1dkr0', '10.214.1.1/25');
        docker = new Docker({ socketPath: engine.socket });
        endpoint = [`--container-runtime-endpoint=unix://${engine.socket}`];
      }
      // The API server calls the kubelet on the node's InternalIP; it refuses loopback for nodes/proxy, so this is
      // the machine's own default-route address (traffic stays on the machine).
      const nodeIP = createHostReader().defaultAddress() ?? '127.0.0.1';
      await cluster.freshNamespace(s.ns);
      nodelet = runNodelet(
        [
          `--kubeconfig=${await cluster.nodeKubeconfig(s.node)}`,
          `--config=${fastKubeletConfig(dir.path, 'syncFrequency: 10s\n')}`,
          '--roles=kubelet',
          `--hostname-override=${s.node}`,
          `--root-dir=${dir.path}/root`,
          `--node-ip=${nodeIP}`,
          `--port=${s.port}`,
          `--healthz-port=${s.healthzPort}`,
          `--client-ca-file=${clientCA}`,
          '--fail-swap-on=false',
          ...endpoint,
        ],
        { name: `nl1-api-${s.runtime}` },
      );
      await waitFor(async () => (await cluster.kubectl(['get', 'node', s.node, '-o', 'jsonpath={.status.daemonEndpoints.kubeletEndpoint.Port}'])).stdout === String(s.port), {
        timeoutMs: 60_000,
        description: `node ${s.node} reports kubelet port ${s.port}`,
      });
      await kubectlOk(['create', '-f', '-'], pod(s, 'counter', [box('main', 'for i in 1 2 3 4 5; do echo line $i; done; i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.3; done'), box('side', 'echo side says hi; echo side err >&2; exec sleep 3600')]));
      await kubectlOk(['create', '-f', '-'], pod(s, 'crasher', [{ ...box('c', 'n=$(cat /d/n 2>/dev/null || echo 0); n=$((n+1)); echo $n > /d/n; echo run $n; sleep 1; exit 1'), volumeMounts: [{ name: 'd', mountPath: '/d' }] }], { volumes: [{ name: 'd', emptyDir: {} }] }));
      await waitFor(async () => (await cluster.kubectl(['get', 'pod', 'counter', '-n', s.ns, '-o', 'jsonpath={.status.phase}'])).stdout === 'Running', { timeoutMs: 90_000, description: 'pod counter Running' });
    }, 240_000);

    afterAll(async () => {
      if (s.runtime === 'docker') {
        await tearDownDaemonScenario({ cluster, nodelet, engine, docker, namespace: s.ns, node: s.node, dir, podsGoneTimeoutMs: 30_000 });
        return;
      }
      await cluster?.kubectl(['delete', 'pods', '--all', '-n', s.ns, '--grace-period=0', '--force', '--wait=false']);
      const rt = ctrd === undefined ? undefined : new CriRuntime({ socketPath: ctrd.socketPath });
      await waitFor(async () => (await rt?.listPodSandboxes().catch(() => []))?.length === 0, { timeoutMs: 30_000, description: 'sandboxes removed' }).catch(() => undefined);
      await nodelet?.stop();
      if (rt !== undefined) {
        await Promise.all((await rt.listPodSandboxes().catch(() => [])).map((x) => rt.removePodSandbox(x.id).catch(() => undefined)));
        await rt.close();
      }
      await ctrd?.stop();
      await cluster?.kubectl(['delete', 'node', s.node, '--wait=false']);
      await cluster?.stop();
      dir?.remove();
    }, 120_000);

    it('kubectl logs: whole log, --tail, --timestamps, --since, -c, --limit-bytes', async () => {
      const all = await waitFor(async () => {
        const out = await kubectlOk(['logs', 'counter', '-n', s.ns, '-c', 'main']);
        return out.includes('tick 2') ? out : undefined;
      }, { timeoutMs: 30_000, description: 'logs of counter/main' });
      expect(all.split('\n').slice(0, 5)).toEqual(['line 1', 'line 2', 'line 3', 'line 4', 'line 5']);
      const tail = (await kubectlOk(['logs', 'counter', '-n', s.ns, '-c', 'main', '--tail=2'])).trimEnd().split('\n');
      expect(tail).toHaveLength(2);
      expect(tail.every((l) => /^tick \d+$/.test(l))).toBe(true);
      const stamped = (await kubectlOk(['logs', 'counter', '-n', s.ns, '-c', 'main', '--tail=1', '--timestamps'])).trimEnd();
      expect(stamped).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z tick \d+$/);
      expect(await kubectlOk(['logs', 'counter', '-n', s.ns, '-c', 'main', '--since=1h', '--limit-bytes=7'])).toBe('line 1\n');
      // --since=1s: only the last second (no "line 1", written long before). Polled instead of sleeping 2 s: a
      // --since that were ignored would always include "line 1", so the wait would time out.
      const recent = await waitFor(async () => {
        const out = await kubectlOk(['logs', 'counter', '-n', s.ns, '-c', 'main', '--since=1s']);
        return !out.includes('line 1') && /tick \d+/.test(out) ? out : undefined;
      }, { timeoutMs: 15_000, description: 'logs --since=1s without the first lines' });
      expect(recent).not.toContain('line 1');
      // stdout and stderr are separate pipes: both are in the log, in no guaranteed order.
      expect((await kubectlOk(['logs', 'counter', '-n', s.ns, '-c', 'side'])).split('\n').sort()).toEqual(['', 'side err', 'side says hi']);
      const both = await cluster.kubectl(['logs', 'counter', '-n', s.ns, '-c', 'nope']);
      expect(both.code).not.toBe(0);
    }, 60_000);

    it('the node\'s log files: the container log under the pod log directory and upstream\'s /var/log/containers link to it', async () => {
      const cid = (await kubectlOk(['get', 'pod', 'counter', '-n', s.ns, '-o', 'jsonpath={.status.containerStatuses[?(@.name=="main")].containerID}'])).replace(/^[a-z]+:\/\//, '');
      const uid = await kubectlOk(['get', 'pod', 'counter', '-n', s.ns, '-o', 'jsonpath={.metadata.uid}']);
      // The harness gives the agent its own directories for both (<root>/pod-logs, <root>/containers).
      const podLog = join(testPodLogsDir(`${dir.path}/root`), `${s.ns}_counter_${uid}`, 'main', '0.log');
      const link = join(`${dir.path}/root`, 'containers', `counter_${s.ns}_main-${cid}.log`);
      expect(readlinkSync(link)).toBe(podLog);
      expect(readFileSync(link, 'utf8')).toContain('line 1');
    });

    it('kubectl logs -f streams new lines and ends when kubectl is stopped', async () => {
      const stream = spawnKubectl(cluster.kubeconfigPath, ['logs', '-f', 'counter', '-n', s.ns, '-c', 'main', '--tail=1']);
      try {
        const first = await stream.waitForLine((l) => /^tick \d+$/.test(l), 20_000);
        const n = Number(first.split(' ')[1]);
        await stream.waitForLine((l) => l === `tick ${n + 3}`, 20_000);
      } finally {
        await stream.stop();
      }
    }, 60_000);

    it('kubectl logs --previous shows the last terminated run', async () => {
      await waitFor(async () => Number((await cluster.kubectl(['get', 'pod', 'crasher', '-n', s.ns, '-o', 'jsonpath={.status.containerStatuses[0].restartCount}'])).stdout) >= 1, {
        timeoutMs: 60_000,
        description: 'crasher restarted once',
      });
      const prev = await waitFor(async () => {
        const r = await cluster.kubectl(['logs', 'crasher', '-n', s.ns, '--previous']);
        return r.code === 0 && /^run \d+\n$/.test(r.stdout) ? r.stdout : undefined;
      }, { timeoutMs: 30_000, description: 'previous logs of crasher' });
      const restarts = Number((await kubectlOk(['get', 'pod', 'crasher', '-n', s.ns, '-o', 'jsonpath={.status.containerStatuses[0].restartCount}'])));
      // While the container waits in CrashLoopBackOff the last run is run restarts+1 (it has not been restarted yet).
      expect([restarts, restarts + 1]).toContain(Number(prev.trim().split(' ')[1]));
      const counter = await cluster.kubectl(['logs', 'counter', '-n', s.ns, '-c', 'main', '--previous']);
      expect(counter.code).not.toBe(0);
      expect(counter.stderr).toContain('previous terminated container "main" in pod "counter" not found');
    }, 90_000);

    it('refuses anonymous requests (401) and users without rights (403); unknown pods are 404 Status', async () => {
      expect(await kubeletGet(s.port, '/pods')).toEqual({ status: 401, body: 'Unauthorized' });
      await kubectlOk(['create', 'serviceaccount', DENIED_SA, '-n', s.ns]);
      const token = (await kubectlOk(['create', 'token', DENIED_SA, '-n', s.ns])).trim();
      const denied = await kubeletGet(s.port, '/pods', { authorization: `Bearer ${token}` });
      expect(denied).toEqual({ status: 403, body: `Forbidden (user=system:serviceaccount:${s.ns}:${DENIED_SA}, verb=get, resource=nodes, subresource(s)=[pods proxy])\n` });
      const deniedLogs = await kubeletGet(s.port, `/containerLogs/${s.ns}/counter/main`, { authorization: `Bearer ${token}` });
      expect(deniedLogs.status).toBe(403);
      expect(deniedLogs.body).toContain('subresource(s)=[proxy]');
      const missing = await cluster.kubectl(['get', '--raw', `/api/v1/nodes/${s.node}/proxy/containerLogs/${s.ns}/nope/main`]);
      expect(missing.code).not.toBe(0);
      expect(missing.stderr).toMatch(/NotFound|not found/);
      const pods = JSON.parse(await kubectlOk(['get', '--raw', `/api/v1/nodes/${s.node}/proxy/pods`])) as { kind: string; items: { metadata: { name: string } }[] };
      expect(pods.kind).toBe('PodList');
      expect(pods.items.map((p) => p.metadata.name).sort()).toEqual(['counter', 'crasher']);
    }, 60_000);
  });
}
