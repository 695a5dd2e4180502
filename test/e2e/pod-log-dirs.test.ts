/**
 * e2e: the daemon on a PRIVATE containerd (bridge lg1 on 10.214.77.0/24, started by scripts/ensure-containerd.sh and
 * stopped by PID) with its own podLogsDir (the harness gives `<root-dir>/pod-logs`): containerd writes the pods' logs
 * there; after a pod is deleted its directory goes with the container garbage collection (upstream
 * evictPodLogsDirectories), as does a leftover directory of an unknown pod, while the directory of a running pod and
 * entries that are not pod log directories stay.
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CriRuntime } from '../../src/cri/containerd/index.js';
import { containerdMissing, startPrivateContainerd, type PrivateContainerd } from '../../src/cri/containerd/testing.js';
import { runNodelet, startCluster, testPodLogsDir, waitFor, type Cluster, type NodeletProcess } from './harness/index.js';
import { fastKubeletConfig, freePort, tempDir, unmountUnder } from './node-helpers.js';

const NODE = 'lg-podlogs-node';
const NS = 'lg-podlogs';
const missing = containerdMissing();

describe.skipIf(missing !== undefined)(`pod log directories of deleted pods ${missing === undefined ? '' : `(skipped: ${missing})`}`, () => {
  let cluster: Cluster | undefined;
  let ctrd: PrivateContainerd | undefined;
  let nodelet: NodeletProcess | undefined;
  let dir: ReturnType<typeof tempDir> | undefined;
  let logs = '';

  const kubectlOk = (args: string[], input?: string): Promise<string> => (cluster as Cluster).kubectlOk(args, input === undefined ? {} : { input });
  const uidOf = async (name: string): Promise<string | undefined> => {
    const r = await (cluster as Cluster).kubectl(['get', 'pod', name, '-n', NS, '-o', 'jsonpath={.metadata.uid}']);
    return r.code === 0 && r.stdout !== '' ? r.stdout : undefined;
  };
  const runningPod = async (name: string): Promise<string> => {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: NS },
      spec: {
        nodeName: NODE,
        terminationGracePeriodSeconds: 1,
        containers: [{ name: 'c', image: 'localhost/nodelet/testbox:1.0', imagePullPolicy: 'Never', command: ['sh', '-c', 'echo hello; exec sleep 3600'] }],
      },
    };
    await kubectlOk(['create', '-f', '-'], JSON.stringify(pod));
    const uid = await waitFor(() => uidOf(name), { description: `pod ${name} created` });
    await waitFor(() => (existsSync(`${logs}/${NS}_${name}_${uid}/c`) ? true : undefined), { timeoutMs: 60_000, description: `log directory of ${name}` });
    return uid;
  };

  beforeAll(async () => {
    cluster = await startCluster();
    dir = tempDir('lg-podlogs-e2e-');
    logs = testPodLogsDir(`${dir.path}/root`);
    ctrd = await startPrivateContainerd({ bridge: 'lg1', subnet: '10.214.77.0/24' });
    nodelet = runNodelet(
      [
        `--kubeconfig=${await cluster.nodeKubeconfig(NODE)}`,
        `--config=${fastKubeletConfig(dir.path, 'syncFrequency: 10s\n')}`,
        '--roles=kubelet',
        `--hostname-override=${NODE}`,
        `--root-dir=${dir.path}/root`,
        `--container-runtime-endpoint=unix://${ctrd.socketPath}`,
        `--healthz-port=${await freePort()}`,
        '--fail-swap-on=false',
      ],
      { name: 'lg-podlogs' },
    );
    await cluster.freshNamespace(NS);
    await waitFor(async () => (await cluster?.kubectl(['get', 'node', NODE]))?.code === 0, { timeoutMs: 30_000, description: 'node registered' });
  }, 150_000);

  afterAll(async () => {
    // Deleted while the agent runs, so it unmounts the pods' volumes; a force delete only if that does not finish.
    const graceful = await cluster?.kubectl(['delete', 'pods', '--all', '-n', NS, '--grace-period=1', '--timeout=60s']);
    if (graceful?.code !== 0) await cluster?.kubectl(['delete', 'pods', '--all', '-n', NS, '--grace-period=0', '--force', '--wait=false']);
    await nodelet?.stop();
    // Mounts left under our own temp dir only (a killed agent): deepest first.
    if (dir !== undefined) unmountUnder(dir.path);
    if (ctrd !== undefined) {
      const rt = new CriRuntime({ socketPath: ctrd.socketPath });
      await Promise.all((await rt.listPodSandboxes().catch(() => [])).map((s) => rt.removePodSandbox(s.id).catch(() => undefined)));
      await rt.close();
      await ctrd.stop();
    }
    await cluster?.kubectl(['delete', 'node', NODE, '--wait=false']);
    await cluster?.stop();
    dir?.remove();
  }, 90_000);

  it('removes the log directory of a deleted pod and of an unknown pod, keeps a running pod\'s and foreign entries', async () => {
    const keeper = await runningPod('keeper');
    const gone = await runningPod('gone');
    const ghost = `${NS}_ghost_${randomUUID()}`;
    mkdirSync(`${logs}/${ghost}/c`, { recursive: true });
    mkdirSync(`${logs}/notes`);
    writeFileSync(`${logs}/notes/keep.txt`, 'not a pod log directory\n');
    writeFileSync(`${logs}/a_b_c`, 'a file, not a directory\n');

    await kubectlOk(['delete', 'pod', 'gone', '-n', NS, '--wait=false']);
    // Container GC runs every minute: the directory goes in the run after the pod's sandbox was removed.
    await waitFor(() => (existsSync(`${logs}/${NS}_gone_${gone}`) ? undefined : true), { timeoutMs: 150_000, intervalMs: 1000, description: 'log directory of the deleted pod removed' });
    await waitFor(() => (existsSync(`${logs}/${ghost}`) ? undefined : true), { timeoutMs: 90_000, intervalMs: 1000, description: 'log directory of the unknown pod removed' });

    expect(readdirSync(logs).sort()).toEqual([`${NS}_keeper_${keeper}`, 'a_b_c', 'notes'].sort());
    expect(readdirSync(`${logs}/notes`)).toEqual(['keep.txt']);
    expect(readdirSync(`${logs}/${NS}_keeper_${keeper}/c`)).toContain('0.log');
    expect(nodelet?.logs()).toContain('removed log directory of a pod that is gone');
  }, 300_000);
});
