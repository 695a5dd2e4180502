/**
 * e2e (issue 12): a role whose identity the API server refuses (403) says so — once in its log, with the request and
 * the server's message naming the user and resource — and `/healthz` fails its `api-access` check while it lasts,
 * instead of retrying silently forever. The refusal is real on both servers: the kubelet role runs with the node
 * identity of one node (`system:node:nl4-ident-a`) but claims another name, which NodeRestriction forbids (the test
 * API server authorizes node identities as kube-apiserver v1.33 does).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runNodelet, startCluster, waitFor, type Cluster, type NodeletProcess } from './harness/index.js';
import { fastKubeletConfig, freePort, tempDir } from './node-helpers.js';

const IDENTITY = 'nl4-ident-a';
const NODE = 'nl4-ident-b';
let cluster: Cluster;
let nodelet: NodeletProcess;
let dir: ReturnType<typeof tempDir>;
let port: number;

beforeAll(async () => {
  cluster = await startCluster();
  dir = tempDir('nl4-ident-');
  port = await freePort();
  nodelet = runNodelet(
    [
      `--kubeconfig=${await cluster.nodeKubeconfig(IDENTITY)}`,
      `--config=${fastKubeletConfig(dir.path)}`,
      '--roles=kubelet',
      `--hostname-override=${NODE}`,
      // No container runtime is needed to be refused: registration comes first.
      `--container-runtime-endpoint=unix://${dir.path}/no-runtime.sock`,
      '--node-ip=127.0.0.1',
      `--root-dir=${dir.path}/root`,
      `--healthz-port=${port}`,
      '--fail-swap-on=false',
    ],
    { name: 'nl4-identity' },
  );
});

afterAll(async () => {
  await nodelet?.stop();
  if (cluster?.external) await cluster.kubectl(['delete', 'node', NODE, '--ignore-not-found', '--wait=false']);
  await cluster?.stop();
  dir?.remove();
});

describe('a role the API server refuses', () => {
  it('logs the 403 once with the request and the identity, and fails the api-access health check', async () => {
    const healthz = async (): Promise<string> => {
      const r = await fetch(`http://127.0.0.1:${port}/healthz?verbose`);
      return r.text();
    };
    const body = await waitFor(async () => {
      const t = await healthz();
      return t.includes('[-]api-access failed') ? t : undefined;
    }, { timeoutMs: 30_000, description: '/healthz reporting api-access failed' });
    // The check names the first refused request: the registration (POST) or the node's own read (GET), which start
    // together; each refusal is in the log (below).
    expect(body).toMatch(new RegExp(`\\[-\\]api-access failed: forbidden by the API server: (POST /api/v1/nodes|GET /api/v1/nodes/${NODE}): nodes "${NODE}" is forbidden`));
    // Registration keeps retrying (backoff 100 ms doubling to 7 s); the denial is still logged only once.
    await waitFor(() => nodelet.logs().split('\n').filter((l) => l.includes('unable to register node')).length >= 3, { timeoutMs: 20_000, description: 'three registration attempts' });
    const refusals = nodelet.logs().split('\n').filter((l) => l.includes("refused this role's identity") && l.includes('POST /api/v1/nodes'));
    expect(refusals).toHaveLength(1);
    expect(refusals[0]).toContain('"level":50');
    expect(refusals[0]).toContain(`system:node:${IDENTITY}`);
    expect(refusals[0]).toContain(`nodes \\"${NODE}\\" is forbidden: node \\"${IDENTITY}\\" is not allowed to modify node \\"${NODE}\\"`);
  });
});
