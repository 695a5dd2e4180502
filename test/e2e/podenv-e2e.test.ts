/**
 * e2e (issue 5): the pod environment through the real daemon and the test API server.
 * - a configMap reaches a container through env and a mounted file; an update changes the file in place while a
 *   subPath mount keeps the old content;
 * - a projected service account token is issued by the API server for that pod with the requested audience;
 * - the container sees the cluster resolv.conf (read, never queried) and the kubelet-managed /etc/hosts;
 * - a missing secret volume gives FailedMount and the pod does not start until the secret exists;
 * - a missing configMap in env gives CreateContainerConfigError, and the pod starts once it exists.
 * Containers are found through their io.kubernetes.* labels (the daemon creates them) and removed by namespace.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { unmountAllUnder } from '../../src/kubelet/volumes/fs-safe.js';
import { HostMounter } from '../../src/kubelet/volumes/mounter.js';
import { dockerClient } from '../support/docker.js';
import { dumpOnFailure, runNodelet, startCluster, waitFor, type Cluster, type NodeletProcess } from './harness/index.js';
import { fastKubeletConfig, freePort, tempDir } from './node-helpers.js';

const NODE = 'nlpe-e2e-node';
const NS = `pe-${randomBytes(3).toString('hex')}`;
const docker = dockerClient();
let cluster: Cluster;
let nodelet: NodeletProcess;
let dir: ReturnType<typeof tempDir>;

interface PodJson {
  status?: {
    phase?: string;
    containerStatuses?: { name: string; ready: boolean; state: { waiting?: { reason?: string; message?: string }; running?: object } }[];
  };
}

async function pod(name: string): Promise<PodJson | undefined> {
  const r = await cluster.kubectl(['-n', NS, 'get', 'pod', name, '-o', 'json']);
  return r.code === 0 ? (JSON.parse(r.stdout) as PodJson) : undefined;
}

async function waitingReason(name: string): Promise<string | undefined> {
  return (await pod(name))?.status?.containerStatuses?.[0]?.state.waiting?.reason;
}

async function running(name: string): Promise<boolean> {
  return (await pod(name))?.status?.containerStatuses?.[0]?.state.running !== undefined;
}

async function exec(podName: string, script: string): Promise<string> {
  const list = await docker.listContainers({
    filters: { label: [`io.kubernetes.pod.namespace=${NS}`, `io.kubernetes.pod.name=${podName}`, 'io.kubernetes.container.name=app'], status: ['running'] },
  });
  const id = list[0]?.Id;
  if (id === undefined) throw new Error(`no running container for ${podName}`);
  const e = await docker.getContainer(id).exec({ Cmd: ['sh', '-c', script], AttachStdout: true, AttachStderr: true });
  const stream = await e.start({});
  const chunks: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve());
    stream.on('error', reject);
  });
  // Docker multiplexes stdout/stderr with 8-byte frame headers.
  const buf = Buffer.concat(chunks);
  let out = '';
  for (let i = 0; i + 8 <= buf.length; ) {
    const len = buf.readUInt32BE(i + 4);
    if (buf[i] === 1) out += buf.subarray(i + 8, i + 8 + len).toString('utf8');
    i += 8 + len;
  }
  return out;
}

async function apply(yaml: string): Promise<void> {
  await cluster.kubectlOk(['-n', NS, 'apply', '-f', '-'], { input: yaml });
}

const podYaml = (name: string, extra: string, volumes = ''): string => `apiVersion: v1
kind: Pod
metadata: { name: ${name}, labels: { io.nodelet.test: podenv } }
spec:
  nodeName: ${NODE}
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: localhost/nodelet/testbox:1.0
    command: [sleep, "3600"]
${extra}
${volumes}`;

beforeAll(async () => {
  cluster = await startCluster();
  dir = tempDir('nlpe-e2e-');
  nodelet = runNodelet(
    [
      `--kubeconfig=${await cluster.nodeKubeconfig(NODE)}`, // a node identity on a real cluster
      `--config=${fastKubeletConfig(dir.path, 'syncFrequency: 3s\n')}`,
      '--roles=kubelet',
      `--hostname-override=${NODE}`,
      '--node-ip=127.0.0.1',
      `--root-dir=${dir.path}/root`,
      `--healthz-port=${await freePort()}`,
      '--cluster-dns=10.96.0.10',
      '--cluster-domain=cluster.local',
    ],
    { name: 'nlpe-podenv' },
  );
  await cluster.freshNamespace(NS); // a real cluster may still hold the namespace of an earlier run
  await waitFor(async () => (await cluster.kubectl(['-n', NS, 'get', 'sa', 'default'])).code === 0, { description: 'default service account' });
  // All pods start together; each test then waits for its own.
  await apply(`apiVersion: v1
kind: ConfigMap
metadata: { name: app-config }
data: { greeting: hello, app.conf: v1 }
`);
  await apply(
    podYaml(
      'cfg',
      `    env:
    - { name: GREETING, valueFrom: { configMapKeyRef: { name: app-config, key: greeting } } }
    volumeMounts:
    - { name: cfg, mountPath: /cfg }
    - { name: cfg, mountPath: /pinned.conf, subPath: app.conf }
    - { name: tok, mountPath: /var/run/secrets/tokens }`,
      `  volumes:
  - name: cfg
    configMap: { name: app-config }
  - name: tok
    projected:
      sources:
      - serviceAccountToken: { path: token, audience: vault, expirationSeconds: 3600 }`,
    ),
  );
  await apply(podYaml('sec', '    volumeMounts: [{ name: s, mountPath: /s }]', '  volumes: [{ name: s, secret: { secretName: late-secret } }]'));
  await apply(podYaml('envcm', '    env: [{ name: X, valueFrom: { configMapKeyRef: { name: late-cm, key: x } } }]'));
});

afterAll(async () => {
  await cluster?.kubectl(['-n', NS, 'delete', 'pods', '--all', '--grace-period=0', '--force', '--wait=false']);
  await waitFor(async () => (await docker.listContainers({ all: true, filters: { label: [`io.kubernetes.pod.namespace=${NS}`] } })).length === 0, {
    timeoutMs: 20_000,
    description: 'containers gone',
  }).catch(() => undefined);
  await nodelet?.stop();
  for (const c of await docker.listContainers({ all: true, filters: { label: [`io.kubernetes.pod.namespace=${NS}`] } })) {
    await docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => undefined);
  }
  if (dir !== undefined) await unmountAllUnder(dir.path, new HostMounter()).catch(() => undefined);
  await cluster?.stop();
  dir?.remove();
});

beforeEach(() => dumpOnFailure(cluster, () => [nodelet]));

describe('pod environment end to end', () => {
  it('configMap in env and files, updated in place (subPath kept); bound projected token; resolv.conf and /etc/hosts', async () => {
    await waitFor(() => running('cfg'), { timeoutMs: 60_000, description: 'pod cfg running' });
    expect(await exec('cfg', 'echo $GREETING; cat /cfg/app.conf /pinned.conf')).toBe('hello\nv1v1');
    const token = await exec('cfg', 'cat /var/run/secrets/tokens/token');
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
      aud: string[];
      'kubernetes.io': { namespace: string; pod?: { name: string; uid: string } };
    };
    const uid = (await cluster.kubectlOk(['-n', NS, 'get', 'pod', 'cfg', '-o', 'jsonpath={.metadata.uid}'])).trim();
    expect(claims.aud).toEqual(['vault']);
    expect(claims['kubernetes.io'].pod).toEqual({ name: 'cfg', uid });
    // DNS and /etc/hosts as the kubelet makes them (resolv.conf is only read, never queried).
    const resolv = await exec('cfg', 'cat /etc/resolv.conf');
    expect(resolv).toMatch(/^nameserver 10\.96\.0\.10$/m);
    expect(resolv).toMatch(new RegExp(`^search ${NS}\\.svc\\.cluster\\.local svc\\.cluster\\.local cluster\\.local( |$)`, 'm'));
    expect(resolv).toMatch(/^options ndots:5$/m);
    const podIP = (await cluster.kubectlOk(['-n', NS, 'get', 'pod', 'cfg', '-o', 'jsonpath={.status.podIP}'])).trim();
    expect(await exec('cfg', 'cat /etc/hosts')).toContain(`${podIP}\tcfg\n`);
    // The default kube-api-access volume (added by admission) is projected too.
    expect(await exec('cfg', 'cat /var/run/secrets/kubernetes.io/serviceaccount/namespace')).toBe(NS);

    await cluster.kubectlOk(['-n', NS, 'patch', 'configmap', 'app-config', '--type=merge', '-p', '{"data":{"app.conf":"v2"}}']);
    await waitFor(async () => (await exec('cfg', 'cat /cfg/app.conf')) === 'v2', { timeoutMs: 60_000, description: 'updated file' });
    expect(await exec('cfg', 'cat /pinned.conf')).toBe('v1');
  });

  it('missing secret volume: FailedMount and not started, starts once the secret exists', async () => {
    await waitFor(
      async () => {
        const ev = await cluster.kubectlOk(['-n', NS, 'get', 'events', '--field-selector', 'involvedObject.name=sec', '-o', 'json']);
        const items = (JSON.parse(ev) as { items: { reason: string; message: string }[] }).items;
        return items.some((e) => e.reason === 'FailedMount' && e.message === 'MountVolume.SetUp failed for volume "s" : secret "late-secret" not found');
      },
      { timeoutMs: 30_000, description: 'FailedMount event' },
    );
    // As upstream: status is written although the volumes cannot be set up (phase Pending, container waiting in
    // ContainerCreating). The status patch may land just after the event, so wait for it.
    const p = await waitFor(async () => {
      const cur = await pod('sec');
      return cur?.status?.containerStatuses?.[0]?.state.waiting?.reason === 'ContainerCreating' ? cur : undefined;
    }, { timeoutMs: 30_000, description: 'sec waiting in ContainerCreating' });
    expect(p.status?.phase).toBe('Pending');
    expect(p.status?.containerStatuses?.map((c) => c.name)).toEqual(['app']);
    expect(p.status?.containerStatuses?.[0]?.ready).toBe(false);
    expect(await running('sec')).toBe(false);
    await cluster.kubectlOk(['-n', NS, 'create', 'secret', 'generic', 'late-secret', '--from-literal=password=hunter2']);
    await waitFor(() => running('sec'), { timeoutMs: 60_000, description: 'pod sec running' });
    expect(await exec('sec', 'cat /s/password')).toBe('hunter2');
  });

  it('missing configMap in env: CreateContainerConfigError, starts once it exists', async () => {
    await waitFor(async () => (await waitingReason('envcm')) === 'CreateContainerConfigError', { timeoutMs: 30_000, description: 'CreateContainerConfigError' });
    const p = await pod('envcm');
    expect(p?.status?.containerStatuses?.[0]?.state.waiting?.message).toBe('configmap "late-cm" not found');
    await cluster.kubectlOk(['-n', NS, 'create', 'configmap', 'late-cm', '--from-literal=x=ok']);
    await waitFor(() => running('envcm'), { timeoutMs: 60_000, description: 'pod envcm running' });
    expect(await exec('envcm', 'echo $X')).toBe('ok\n');
  });
});
