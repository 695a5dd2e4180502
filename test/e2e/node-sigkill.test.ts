/**
 * e2e (issue 3): killing the agent with SIGKILL leaves its pods' containers running (they belong to the runtime, as
 * upstream), and a restarted agent adopts them instead of recreating them. Standalone mode with one static pod on
 * a private Docker engine (removed with everything in it afterwards).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runNodelet, waitFor, type NodeletProcess } from './harness/index.js';
import { freePort, startPrivateDockerd, tempDir, type PrivateDockerd } from './node-helpers.js';

const NODE = 'nl3-sigkill-node';
const POD = `nl3-survivor-${NODE}`;
let dir: ReturnType<typeof tempDir>;
let manifests: string;
const procs: NodeletProcess[] = [];
let dockerd: PrivateDockerd | undefined;

function docker(args: string[]): string {
  return dockerd?.docker(args) ?? '';
}

/** id and running state of the pod's app container. */
function appContainer(): { id: string; running: boolean } | undefined {
  const id = docker(['ps', '-aq', '--no-trunc', '--filter', `label=io.kubernetes.pod.name=${POD}`, '--filter', 'label=io.kubernetes.container.name=app']);
  if (id === '' || id.includes('\n')) return undefined;
  return { id, running: docker(['inspect', '-f', '{{.State.Running}}', id]) === 'true' };
}

async function start(name: string): Promise<NodeletProcess & { healthzPort: number }> {
  const healthzPort = await freePort();
  const p = runNodelet(
    [`--container-runtime-endpoint=unix://${dockerd?.socket ?? ''}`, `--pod-manifest-path=${manifests}`, `--root-dir=${dir.path}/root`, `--hostname-override=${NODE}`, `--healthz-port=${healthzPort}`, '--file-check-frequency=1s', '--fail-swap-on=false'],
    { name },
  );
  procs.push(p);
  return Object.assign(p, { healthzPort });
}

/** Sum of a metric's samples (all label sets) on the agent's /metrics. */
async function metricSum(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) sum += Number(line.split(' ').at(-1));
  return sum;
}

/** Docker's lifecycle events of one container between two unix times (seconds). */
function containerEvents(id: string, since: number, until: number): string[] {
  const out = docker(['events', '--since', String(since), '--until', String(until), '--filter', `container=${id}`, '--format', '{{.Action}}']);
  return out.split('\n').filter((a) => a !== '' && !a.startsWith('exec_'));
}

/** Events that end a container's process. */
function stopEvents(actions: string[]): string[] {
  return actions.filter((a) => ['kill', 'die', 'stop', 'destroy', 'oom'].includes(a));
}

beforeAll(async () => {
  dir = tempDir('nl3-sigkill-');
  dockerd = await startPrivateDockerd(dir.path, 'nl3-br2', '10.213.79.1/24');
  manifests = join(dir.path, 'manifests');
  mkdirSync(manifests);
  writeFileSync(
    join(manifests, 'survivor.yaml'),
    `apiVersion: v1
kind: Pod
metadata:
  name: nl3-survivor
  namespace: default
  labels:
    io.nodelet.test: node-sigkill
spec:
  dnsPolicy: Default
  terminationGracePeriodSeconds: 2
  containers:
    - name: app
      image: localhost/nodelet/testbox:1.0
      imagePullPolicy: Never
      command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1 & wait $!; done"]
`,
  );
});

afterAll(async () => {
  for (const p of procs) await p.stop();
  const ids = docker(['ps', '-aq']).split('\n').filter((x) => x !== '');
  if (ids.length > 0) docker(['rm', '-f', ...ids]);
  await dockerd?.destroy();
  dir.remove();
});

describe('agent restarts', () => {
  it('SIGKILL leaves the containers running; a new agent adopts them without restarting', async () => {
    const first = await start('nl3-sigkill-1');
    const before = await waitFor(() => {
      const c = appContainer();
      return c?.running === true ? c : undefined;
    }, { timeoutMs: 30_000, description: 'static pod container running' });
    const killedAt = Math.floor(Date.now() / 1000) - 1;
    process.kill(first.pid, 'SIGKILL');
    const exit = await first.exited;
    expect(exit.signal).toBe('SIGKILL');
    expect(appContainer()).toEqual({ id: before.id, running: true });

    const second = await start('nl3-sigkill-2');
    await waitFor(() => second.logs().includes('nodelet started'), { timeoutMs: 15_000, description: 'second agent started' });
    // Event-driven instead of sleeping: wait until the new agent's pod worker finished sync steps (its first sync is
    // where it would recreate the container) and PLEG relisted after them.
    await waitFor(async () => (await metricSum(second.healthzPort, 'kubelet_pod_worker_duration_seconds_count')) >= 1, { timeoutMs: 30_000, description: 'second agent synced the pod' });
    const relists = await metricSum(second.healthzPort, 'kubelet_pleg_relist_duration_seconds_count');
    await waitFor(async () => (await metricSum(second.healthzPort, 'kubelet_pleg_relist_duration_seconds_count')) > relists, { timeoutMs: 30_000, description: 'a relist after the sync' });
    expect(appContainer()).toEqual({ id: before.id, running: true });
    // Docker's own record: the container never stopped, from before the SIGKILL until now.
    // (second granularity: the window may include the container's own create/start just before the kill).
    expect(stopEvents(containerEvents(before.id, killedAt, Math.floor(Date.now() / 1000) + 1))).toEqual([]);
    const { code } = await second.stop();
    expect(code).toBe(0);
    expect(appContainer()).toEqual({ id: before.id, running: true });
  });
});
