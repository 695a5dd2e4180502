import type { V1Pod } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { PAUSE_IMAGE } from '../../cri/index.js';
import { NodeletError } from '../../util/errors.js';
import type { PodEnvironment } from '../podenv/types.js';
import { minimalPodEnvironment } from './default-env.js';
import { apiPod, ctr, mkPod, world, type World } from './harness.test-util.js';

let w: World | undefined;
afterEach(async () => {
  await w?.lc.stop();
  w = undefined;
});

const MOUNT_MSG = 'MountVolume.SetUp failed for volume "s" : secret "late-secret" not found';

/** The minimal environment whose volumes fail while `broken()` is true (a missing secret). */
function failingVolumes(broken: () => boolean): PodEnvironment & { prepared: number } {
  const base = minimalPodEnvironment(PAUSE_IMAGE);
  const env = {
    ...base,
    prepared: 0,
    async prepareVolumes(pod: V1Pod): Promise<void> {
      env.prepared++;
      if (broken()) throw new NodeletError('MOUNT_FAILED', MOUNT_MSG, { object: `pod ${pod.metadata?.name}` });
    },
  };
  return env;
}

describe('pod lifecycle: volumes that cannot be set up', () => {
  it('reports Pending with ContainerCreating containers, emits FailedMount and retries until the volume works', async () => {
    let broken = true;
    const env = failingVolumes(() => broken);
    w = await world({ podEnvironment: env });
    w.api.apply(mkPod('sec', { containers: [ctr('a'), ctr('b')] }));
    await w.settle();
    const s = apiPod(w, 'sec')?.status;
    expect(s?.phase).toBe('Pending');
    expect(s?.containerStatuses?.map((c) => [c.name, c.state?.waiting?.reason])).toEqual([
      ['a', 'ContainerCreating'],
      ['b', 'ContainerCreating'],
    ]);
    expect(s?.containerStatuses?.every((c) => c.ready === false && c.restartCount === 0)).toBe(true);
    expect(s?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('False');
    expect(w.recorder.of('FailedMount').map((e) => e.message)).toContain(MOUNT_MSG);
    expect(w.runtime.callsTo('runPodSandbox')).toHaveLength(0);
    const tries = env.prepared;
    await w.advance(10_000);
    expect(env.prepared).toBeGreaterThan(tries);
    broken = false;
    await w.advance(10_000);
    expect(apiPod(w, 'sec')?.status?.phase).toBe('Running');
  });

  it('shows PodInitializing for init and app containers of a pod with init containers', async () => {
    w = await world({ podEnvironment: failingVolumes(() => true) });
    w.api.apply(mkPod('init', { initContainers: [ctr('i', 'true')], containers: [ctr('a')] }));
    await w.settle();
    const s = apiPod(w, 'init')?.status;
    expect(s?.phase).toBe('Pending');
    expect(s?.initContainerStatuses?.map((c) => [c.name, c.state?.waiting?.reason])).toEqual([['i', 'PodInitializing']]);
    expect(s?.containerStatuses?.map((c) => [c.name, c.state?.waiting?.reason])).toEqual([['a', 'PodInitializing']]);
  });

  it('CreateContainerConfigError: waiting reason and message in the status, Failed event, started once it works', async () => {
    let missing = true;
    const base = minimalPodEnvironment(PAUSE_IMAGE);
    const env: PodEnvironment = {
      ...base,
      async containerConfig(pod, c, ctx) {
        if (missing && c.name === 'a') throw new NodeletError('CREATE_CONTAINER_CONFIG', 'configmap "late-cm" not found');
        return base.containerConfig(pod, c, ctx);
      },
    };
    w = await world({ podEnvironment: env });
    w.api.apply(mkPod('cfg', { containers: [ctr('a'), ctr('b')] }));
    await w.settle();
    const s = apiPod(w, 'cfg')?.status;
    expect(s?.phase).toBe('Pending');
    expect(s?.containerStatuses?.find((c) => c.name === 'a')?.state?.waiting).toEqual({ reason: 'CreateContainerConfigError', message: 'configmap "late-cm" not found' });
    expect(s?.containerStatuses?.find((c) => c.name === 'b')?.state?.running).toBeDefined();
    expect(w.recorder.of('Failed').map((e) => `${e.ref.fieldPath}: ${e.message}`)).toContain('spec.containers{a}: Error: configmap "late-cm" not found');
    missing = false;
    await w.advance(10_000);
    expect(apiPod(w, 'cfg')?.status?.phase).toBe('Running');
    expect(apiPod(w, 'cfg')?.status?.containerStatuses?.find((c) => c.name === 'a')?.state?.running).toBeDefined();
  });
});
