/**
 * e2e (issue 16): graceful node shutdown through the daemon. A private D-Bus daemon and a fake logind
 * (test/e2e/fixtures/fake-logind.py: real file-descriptor inhibitor locks, the PrepareForShutdown signal) stand in
 * for systemd-logind; the daemon runs with shutdownGracePeriod 20s / shutdownGracePeriodCriticalPods 8s and
 * DBUS_SYSTEM_BUS_ADDRESS pointing at that bus. On PrepareForShutdown(true): the regular pod is terminated first,
 * the critical pod after it, both end Failed / Terminated with upstream's message, the node turns NotReady (`node is
 * shutting down`), a new pod is rejected (NodeShutdown), and the inhibitor lock is released within the budget.
 * Private dockerd (bridge nl0sd-br0).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { dumpOnFailure, REPO_ROOT, runNodelet, startCluster, waitFor, type Cluster, type NodeletProcess } from './harness/index.js';
import { fastKubeletConfig, freePort, startPrivateDockerd, tempDir, tearDownDaemonScenario, type PrivateDockerd } from './node-helpers.js';

const NODE = 'nl0-shutdown-node';
const NS = 'nl0-shutdown';
const IMAGE = 'localhost/nodelet/testbox:1.0';
let docker: Docker;
let engine: PrivateDockerd | undefined;
let cluster: Cluster;
let nodelet: NodeletProcess | undefined;
let dir: ReturnType<typeof tempDir>;
let busPid = 0;
let logind: ChildProcess | undefined;
let logindOut = '';
let busAddress = '';

interface PodLike {
  status?: {
    phase?: string;
    reason?: string;
    message?: string;
    containerStatuses?: { state?: { running?: unknown; terminated?: { finishedAt?: string } } }[];
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
  };
}
const trapper = { name: 'c', image: IMAGE, command: ['sh', '-c', "trap 'sleep 2; exit 0' TERM; while true; do sleep 1 & wait $!; done"] };
async function create(name: string, ns: string, spec: Record<string, unknown>): Promise<void> {
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: ns }, spec: { nodeName: NODE, terminationGracePeriodSeconds: 30, ...spec } };
  await cluster.kubectlOk(['create', '-f', '-'], { input: JSON.stringify(pod) });
}
async function getPod(name: string, ns: string): Promise<PodLike | undefined> {
  const r = await cluster.kubectl(['get', 'pod', name, '-n', ns, '-o', 'json']);
  return r.code === 0 ? (JSON.parse(r.stdout) as PodLike) : undefined;
}
const running = (p: PodLike | undefined): boolean => p?.status?.containerStatuses?.[0]?.state?.running !== undefined;

beforeAll(async () => {
  cluster = await startCluster();
  dir = tempDir('nl0-shutdown-');
  busAddress = `unix:path=${dir.path}/bus.sock`;
  writeFileSync(
    join(dir.path, 'bus.conf'),
    `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN" "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>system</type><listen>${busAddress}</listen><auth>EXTERNAL</auth>
<policy context="default"><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/><allow own="*"/><allow user="*"/></policy></busconfig>
`,
  );
  const bus = spawnSync('dbus-daemon', [`--config-file=${join(dir.path, 'bus.conf')}`, '--fork', '--print-pid'], { encoding: 'utf8' });
  busPid = Number(bus.stdout.trim());
  if (!busPid) throw new Error(`dbus-daemon did not start: ${bus.stderr}`);
  logind = spawn('/usr/bin/python3', [join(REPO_ROOT, 'test/e2e/fixtures/fake-logind.py'), '60'], { env: { ...process.env, DBUS_SYSTEM_BUS_ADDRESS: busAddress }, stdio: ['ignore', 'pipe', 'pipe'] });
  logind.stdout?.on('data', (d: Buffer) => (logindOut += d.toString()));
  logind.stderr?.on('data', (d: Buffer) => (logindOut += d.toString()));
  await waitFor(() => logindOut.includes('READY'), { timeoutMs: 15_000, description: 'fake logind ready' });
  engine = await startPrivateDockerd(dir.path, 'nl0sd-br0', '10.213.156.1/24');
  docker = new Docker({ socketPath: engine.socket });
  nodelet = runNodelet(
    [
      `--kubeconfig=${await cluster.nodeKubeconfig(NODE)}`,
      `--config=${fastKubeletConfig(dir.path, 'syncFrequency: 10s\nshutdownGracePeriod: 20s\nshutdownGracePeriodCriticalPods: 8s\n')}`,
      '--roles=kubelet',
      `--hostname-override=${NODE}`,
      `--root-dir=${dir.path}/root`,
      `--container-runtime-endpoint=unix://${engine.socket}`,
      `--healthz-port=${await freePort()}`,
    ],
    { name: 'nl0-shutdown', env: { DBUS_SYSTEM_BUS_ADDRESS: busAddress } },
  );
  await cluster.freshNamespace(NS);
  await waitFor(async () => (await cluster.kubectl(['get', 'node', NODE])).code === 0, { timeoutMs: 30_000, description: 'node registered' });
}, 90_000);

afterAll(async () => {
  await cluster?.kubectl(['delete', 'pod', 'critical', '-n', 'kube-system', '--grace-period=0', '--force', '--wait=false']);
  await tearDownDaemonScenario({ cluster, nodelet, engine, docker, namespace: NS, node: NODE, dir: undefined });
  logind?.kill();
  if (busPid) spawnSync('kill', [String(busPid)]);
  dir.remove();
}, 60_000);

beforeEach(() => dumpOnFailure(cluster, () => (nodelet ? [nodelet] : [])));

describe('graceful node shutdown', () => {
  it('holds a delay lock, then terminates regular pods before critical ones and releases the lock', async () => {
    await waitFor(() => logindOut.includes('INHIBIT shutdown kubelet delay'), { timeoutMs: 20_000, description: 'inhibitor lock taken' });
    await create('regular', NS, { containers: [trapper] });
    await create('critical', 'kube-system', { priorityClassName: 'system-node-critical', priority: 2000001000, containers: [trapper] });
    await waitFor(async () => running(await getPod('regular', NS)) && running(await getPod('critical', 'kube-system')), { timeoutMs: 40_000, description: 'pods running' });

    const t0 = Date.now();
    spawnSync('dbus-send', ['--system', '--print-reply', '--dest=org.freedesktop.login1', '/org/freedesktop/login1', 'io.nodelet.Test.Emit', 'boolean:true'], { env: { ...process.env, DBUS_SYSTEM_BUS_ADDRESS: busAddress } });
    await waitFor(async () => (await cluster.kubectlOk(['get', 'node', NODE, '-o', "jsonpath={.status.conditions[?(@.type=='Ready')].message}"])).includes('node is shutting down'), { timeoutMs: 15_000, description: 'node not ready' });
    const done = (p: PodLike | undefined): boolean => p?.status?.phase === 'Failed';
    const regular = await waitFor(async () => { const p = await getPod('regular', NS); return done(p) ? p : undefined; }, { timeoutMs: 30_000, description: 'regular pod terminated' });
    const critical = await waitFor(async () => { const p = await getPod('critical', 'kube-system'); return done(p) ? p : undefined; }, { timeoutMs: 30_000, description: 'critical pod terminated' });
    for (const p of [regular, critical]) {
      expect(p?.status?.reason).toBe('Terminated');
      expect(p?.status?.message).toBe('Pod was terminated in response to imminent node shutdown.');
      // Upstream sets DisruptionTarget with the terminal status.
      expect(p?.status?.conditions?.find((c) => c.type === 'DisruptionTarget')).toMatchObject({
        status: 'True',
        reason: 'TerminationByKubelet',
        message: 'Pod was terminated in response to imminent node shutdown.',
      });
    }
    const finished = (p: PodLike | undefined): number => new Date(p?.status?.containerStatuses?.[0]?.state?.terminated?.finishedAt ?? 0).getTime();
    expect(finished(regular)).toBeLessThanOrEqual(finished(critical));
    await waitFor(() => logindOut.includes('RELEASED\n', logindOut.indexOf('EMIT True')), { timeoutMs: 30_000, description: 'lock released' });
    expect(Date.now() - t0).toBeLessThan(30_000);

    await create('late', NS, { containers: [trapper] });
    const late = await waitFor(async () => { const p = await getPod('late', NS); return done(p) ? p : undefined; }, { timeoutMs: 20_000, description: 'late pod rejected' });
    expect(late?.status?.reason).toBe('NodeShutdown');
    expect(late?.status?.message).toBe('Pod was rejected: Pod was rejected as the node is shutting down.');
    expect(late?.status?.conditions?.some((c) => c.type === 'DisruptionTarget') ?? false).toBe(false);
    void readFileSync;
  });
});
