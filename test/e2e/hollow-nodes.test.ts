/**
 * e2e (issue 15 item 4): `nodelet hollow` — the bundled daemon runs two simulated nodes (fake runtime) in one process,
 * each with its own node identity: both register Ready, a pod pinned to one of them reaches Running with a pod IP from
 * the fake, the metrics server serves both nodes' `rest_client_*` series, and SIGTERM stops the process with exit 0.
 * Works on the test API server and on a real control plane (node identities from the harness).
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runNodelet, startCluster, waitFor, type Cluster, type NodeletProcess } from './harness/index.js';
import { freePort, tempDir } from './node-helpers.js';

/** True when the IPv4 address is inside the CIDR. */
function inIPv4Cidr(ip: string, cidr: string): boolean {
  const num = (a: string): number => a.split('.').reduce((n, o) => n * 256 + Number(o), 0);
  const [base = '', bits = '32'] = cidr.split('/');
  const size = 2 ** (32 - Number(bits));
  return Math.floor(num(ip) / size) === Math.floor(num(base) / size);
}

const PREFIX = `hl${process.pid % 100000}-`;
const NODES = [`${PREFIX}001`, `${PREFIX}002`];
const NS = `${PREFIX}ns`;
let cluster: Cluster;
let dir: ReturnType<typeof tempDir>;
let hollow: NodeletProcess;
let port: number;

beforeAll(async () => {
  cluster = await startCluster();
  dir = tempDir('nl-hollow-e2e-');
  const kcDir = join(dir.path, 'identities');
  mkdirSync(kcDir);
  for (const n of NODES) copyFileSync(await cluster.nodeKubeconfig(n), join(kcDir, `node-${n}.kubeconfig`));
  await cluster.freshNamespace(NS);
  port = await freePort();
  hollow = runNodelet(
    ['hollow', '--count=2', `--name-prefix=${PREFIX}`, `--kubeconfig-dir=${kcDir}`, `--metrics-port=${port}`, `--root-dir=${join(dir.path, 'roots')}`, '--', '--fail-swap-on=false'],
    { name: 'hollow-e2e' },
  );
}, 120_000);

afterAll(async () => {
  await hollow?.stop();
  await cluster?.kubectl(['delete', 'namespace', NS, '--wait=false']);
  await cluster?.kubectl(['delete', 'node', ...NODES, '--wait=false']);
  await cluster?.stop();
  dir?.remove();
});

describe('nodelet hollow (bundle)', () => {
  it('registers both nodes, runs a pod on the fake runtime, serves both nodes’ client metrics, stops on SIGTERM', async () => {
    for (const n of NODES) {
      await waitFor(async () => (await cluster.kubectl(['get', 'node', n, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'])).stdout === 'True', {
        timeoutMs: 60_000,
        description: `${n} Ready (log ${hollow.logPath})`,
      });
    }
    const pod = `apiVersion: v1
kind: Pod
metadata: {name: p, namespace: ${NS}}
spec:
  nodeName: ${NODES[1] ?? ''}
  automountServiceAccountToken: false
  containers: [{name: c, image: registry.invalid/made-up:1, command: [sleep, infinity]}]
`;
    expect((await cluster.kubectl(['apply', '-f', '-'], { input: pod })).code).toBe(0);
    const ip = await waitFor(
      async () => {
        const r = await cluster.kubectl(['-n', NS, 'get', 'pod', 'p', '-o', 'jsonpath={.status.phase} {.status.podIP}']);
        const [phase, podIP] = r.stdout.split(' ');
        return phase === 'Running' && podIP !== undefined && podIP !== '' ? podIP : undefined;
      },
      { timeoutMs: 60_000, description: 'the pod Running on the hollow node' },
    );
    // The fake runtime hands out IPs from the Node's podCIDR once it has one (real control plane), before that (and on
    // the test API server, which allocates none) from node i's /24 of --pod-ip-range (default 100.64.0.0/10).
    const podCIDR = (await cluster.kubectl(['get', 'node', NODES[1] ?? '', '-o', 'jsonpath={.spec.podCIDR}'])).stdout.trim();
    expect(inIPv4Cidr(ip, '100.64.0.0/10') || (podCIDR !== '' && inIPv4Cidr(ip, podCIDR))).toBe(true);
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    for (const n of NODES) {
      expect(text).toMatch(new RegExp(`rest_client_requests_total\\{code="20\\d",host="[^"]+",method="(PUT|PATCH|POST)",hollow_node="${n}"\\} [1-9]`));
      expect(text).toMatch(new RegExp(`nodelet_rest_client_watches\\{host="[^"]+",hollow_node="${n}"\\} 1`));
    }
    const exit = await hollow.stop(20_000);
    expect(exit.code).toBe(0);
  }, 180_000);
});
