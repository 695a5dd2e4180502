/**
 * The pod lifecycle against the real Docker engine (DockerRuntime), with an in-memory API (FakePodApi): a
 * two-container pod in a pause sandbox, crash-loop timing on a real container, termination with preStop and grace,
 * and adoption without restarts after recreating the lifecycle. Every container carries io.nodelet.test=pods and the
 * node label of this run; everything is removed afterwards.
 */
import { rmSync } from 'node:fs';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DockerRuntime, PAUSE_IMAGE, TESTBOX_IMAGE } from '../../src/cri/index.js';
import type { PodEnvironment } from '../../src/kubelet/podenv/types.js';
import { createPodLifecycle, minimalPodEnvironment, type PodLifecycle } from '../../src/kubelet/pods/index.js';
import { FakePodApi, MemoryRecorder } from '../../src/kubelet/pods/testing.js';
import { silentLogger } from '../../src/util/logger.js';
import { dockerClient, DOCKER_SOCKET, removeLabelled } from '../support/docker.js';

const TEST_LABEL = 'pods';
const NODE = `nlpods-${process.pid}`;
const docker = dockerClient();
const runtime = new DockerRuntime({ socketPath: DOCKER_SOCKET, logger: silentLogger() });
const api = new FakePodApi();
const recorder = new MemoryRecorder();

/** The minimal environment plus the test label on every sandbox and container. */
function labelled(env: PodEnvironment): PodEnvironment {
  return {
    prepareVolumes: (p, s) => env.prepareVolumes(p, s),
    cleanupPod: (uid) => env.cleanupPod(uid),
    async sandboxConfig(p, attempt) {
      const c = await env.sandboxConfig(p, attempt);
      c.labels = { ...c.labels, 'io.nodelet.test': TEST_LABEL };
      return c;
    },
    async containerConfig(p, c, ctx) {
      const cfg = await env.containerConfig(p, c, ctx);
      cfg.labels = { ...cfg.labels, 'io.nodelet.test': TEST_LABEL };
      return cfg;
    },
  };
}

function newLifecycle(): PodLifecycle {
  return createPodLifecycle({
    nodeName: NODE,
    podInfraImage: PAUSE_IMAGE,
    podLogsDir: `/tmp/${NODE}-logs`,
    runtime,
    podEnvironment: labelled(minimalPodEnvironment(PAUSE_IMAGE)),
    podApi: api,
    podInformer: api,
    recorder,
    logger: silentLogger(),
    hostIPs: ['127.0.0.1'],
    relistPeriodMs: 2000,
  });
}

let lc = newLifecycle();

const ctr = (name: string, script: string, extra: Partial<V1Container> = {}): V1Container => ({ name, image: TESTBOX_IMAGE, command: ['sh', '-c', script], ...extra });
const mk = (name: string, spec: Partial<NonNullable<V1Pod['spec']>> & { containers: V1Container[] }): V1Pod => ({
  metadata: { name, namespace: 'default' },
  spec: { nodeName: NODE, ...spec },
});
const status = (name: string) => api.pods.get(`default/${name}`)?.status;

async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> {
  await vi.waitFor(
    async () => {
      if (!(await cond())) throw new Error(`timed out waiting for ${what}`);
    },
    { timeout: ms, interval: 100 },
  );
}

beforeAll(async () => {
  await removeLabelled(docker, 'io.nodelet.test', TEST_LABEL);
  await lc.start();
});

afterAll(async () => {
  await lc.stop();
  await removeLabelled(docker, 'io.nodelet.test', TEST_LABEL);
  await runtime.close();
  rmSync(`/tmp/${NODE}-logs`, { recursive: true, force: true });
});

describe('pod lifecycle on Docker', () => {
  it('runs a two-container pod in a pause sandbox, Ready with a pod IP', async () => {
    api.apply(mk('two', { containers: [ctr('web', 'httpd -f -p 8080'), ctr('side', 'exec sleep 3600')] }));
    await until('two Ready', () => status('two')?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true);
    const st = status('two');
    expect(st?.phase).toBe('Running');
    expect(st?.podIP).toMatch(/^172\.17\./);
    expect(st?.containerStatuses?.map((c) => c.containerID?.slice(0, 9))).toEqual(['docker://', 'docker://']);
    const list = await docker.listContainers({ filters: { label: [`io.kubernetes.pod.name=two`, `io.nodelet.node=${NODE}`] } });
    const pause = list.find((c) => c.Image === PAUSE_IMAGE);
    expect(pause).toBeDefined();
    for (const c of list.filter((x) => x !== pause)) {
      const info = await docker.getContainer(c.Id).inspect();
      expect(info.HostConfig.NetworkMode).toBe(`container:${pause?.Id}`);
    }
    // the side container reaches web over the shared localhost
    const side = st?.containerStatuses?.find((c) => c.name === 'side')?.containerID?.replace('docker://', '') as string;
    const r = await runtime.execSync(side, ['sh', '-c', 'wget -q -O /dev/null http://127.0.0.1:8080/ ; echo $?'], 10);
    expect(r.stdout.trim()).toMatch(/^[01]$/);
  });

  it('adopts running containers after the lifecycle is recreated, restarting nothing', async () => {
    const before = (await docker.listContainers({ filters: { label: [`io.kubernetes.pod.name=two`] } })).map((c) => c.Id).sort();
    await lc.stop();
    lc = newLifecycle();
    await lc.start();
    // Event-driven instead of a 3 s sleep: once the new lifecycle computed the pod ready and no worker step or status
    // write is in flight, its first sync is done (a restart would have happened inside that sync).
    const uid = api.pods.get('default/two')?.metadata?.uid ?? '';
    await until('two synced by the new lifecycle', () => lc.podStatus(uid)?.containerStatuses?.every((c) => c.ready) === true);
    await lc.settled();
    const after = (await docker.listContainers({ filters: { label: [`io.kubernetes.pod.name=two`] } })).map((c) => c.Id).sort();
    expect(after).toEqual(before);
    expect(status('two')?.containerStatuses?.every((c) => c.restartCount === 0 && c.ready)).toBe(true);
  });

  it('terminates with preStop before SIGTERM and honours the grace period, then deletes the pod', async () => {
    api.apply(mk('term', {
      terminationGracePeriodSeconds: 3,
      containers: [
        ctr('polite', "trap 'if [ -f /tmp/prestop ]; then exit 0; else exit 7; fi' TERM; while true; do sleep 0.2; done", {
          lifecycle: { preStop: { exec: { command: ['sh', '-c', 'touch /tmp/prestop'] } } },
        }),
        ctr('stubborn', "trap '' TERM; while true; do sleep 0.2; done"),
      ],
    }));
    await until('term Running', () => status('term')?.phase === 'Running');
    const uid = api.pods.get('default/term')?.metadata?.uid;
    const t0 = Date.now();
    api.markDeleted('default', 'term', 3, Date.now());
    await until('term deleted', () => api.deletes.some((d) => d.key === 'default/term'), 20_000);
    const elapsed = Date.now() - t0;
    expect(api.deletes.find((d) => d.key === 'default/term')?.uid).toBe(uid);
    // The stubborn container ignores SIGTERM, so the delete cannot finish before the 3 s grace period: a lower bound
    // only (load can only make it later; the 20 s wait above bounds it from above).
    expect(elapsed).toBeGreaterThanOrEqual(2_500);
    const killing = recorder.of('Killing').filter((e) => e.ref.name === 'term').map((e) => e.message).sort();
    expect(killing).toEqual(['Stopping container polite', 'Stopping container stubborn']);
    const last = api.patches.filter((p) => p.key === 'default/term').at(-1)?.patch.status as V1Pod['status'];
    const code = (n: string) => last?.containerStatuses?.find((c) => c.name === n)?.state?.terminated?.exitCode;
    expect(code('polite')).toBe(0);
    expect(code('stubborn')).toBe(137);
    await until('term containers removed', async () =>
      (await docker.listContainers({ all: true, filters: { label: [`io.kubernetes.pod.uid=${uid}`] } })).length === 0);
  });

  it('crash-loops a failing container with backoff 10s then 20s', async () => {
    api.apply(mk('crash', { containers: [ctr('c', 'exit 1')] }));
    // Instances are garbage-collected (only the newest dead one is kept), so remember each attempt while visible.
    // The back-off is what the agent controls: from one instance's exit to the creation of the next.
    const seen = new Map<number, { createdAt: number; finishedAt: number }>();
    await until('attempt 3 created', async () => {
      for (const c of await runtime.listContainers({ labelSelector: { 'io.kubernetes.pod.name': 'crash', 'io.nodelet.node': NODE } })) {
        const st = await runtime.containerStatus(c.id).catch(() => undefined);
        if (st !== undefined) seen.set(c.metadata.attempt, { createdAt: st.createdAt, finishedAt: st.finishedAt });
      }
      return seen.has(3) && (seen.get(2)?.finishedAt ?? 0) > 0;
    }, 60_000);
    const gap = (n: number): number => ((seen.get(n)?.createdAt ?? 0) - (seen.get(n - 1)?.finishedAt ?? 0)) / 1000;
    // attempt 1 was created at once after the first exit; then 10 s, then 20 s of back-off. The lower bounds are the
    // contract (a back-off never ends early; 1 s for timestamp rounding); the upper bounds are generous on purpose
    // (a loaded machine only makes restarts later) and still tell 10 s from 20 s from 40 s. The exact steps are
    // unit-tested on a FakeClock.
    expect(gap(2)).toBeGreaterThanOrEqual(9);
    expect(gap(2)).toBeLessThan(20);
    expect(gap(3)).toBeGreaterThanOrEqual(19);
    expect(gap(3)).toBeLessThan(40);
    const c = status('crash')?.containerStatuses?.[0];
    expect(c?.restartCount).toBeGreaterThanOrEqual(2);
    expect(recorder.of('BackOff').some((e) => e.ref.name === 'crash')).toBe(true);
  }, 90_000);
});
