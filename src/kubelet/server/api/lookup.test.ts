import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { Container, PodSandbox } from '../../../cri/types.js';
import { createPodLookup, runtimeId } from './lookup.js';

const pod = (status: V1Pod['status']): V1Pod => ({
  metadata: { name: 'web', namespace: 'ns', uid: 'u1' },
  spec: { containers: [{ name: 'app' }], initContainers: [{ name: 'init' }] },
  status,
});

const runtime = (containers: Partial<Container>[], sandboxes: Partial<PodSandbox>[] = []) => ({
  listContainers: () => Promise.resolve(containers as Container[]),
  listPodSandboxes: () => Promise.resolve(sandboxes as PodSandbox[]),
});

describe('pod lookup', () => {
  it('resolves IDs from the computed status: running, waiting after a run (last run), and previous', async () => {
    const running = pod({ containerStatuses: [{ name: 'app', image: '', imageID: '', ready: true, restartCount: 1, containerID: 'docker://c2', state: { running: {} }, lastState: { terminated: { exitCode: 1, containerID: 'docker://c1' } } }] });
    const l = createPodLookup({ pods: () => [running], runtime: runtime([], [{ id: 's-old', state: 'notready', createdAt: 1 }, { id: 's1', state: 'ready', createdAt: 0 }]) });
    expect(await l.resolveContainer('ns', 'web', 'app')).toMatchObject({ containerName: 'app', containerId: 'c2', previousContainerId: 'c1', sandboxId: 's1' });
    expect(await l.resolveContainer('ns', 'web', '')).toMatchObject({ containerName: 'app' });
    expect(await l.resolveContainer('ns', 'web', 'init')).toMatchObject({ containerName: 'init', containerId: undefined });
    expect(await l.resolveContainer('ns', 'web', 'nope')).toBeUndefined();
    expect(await l.resolveContainer('ns', 'other', 'app')).toBeUndefined();
    expect(await l.resolveContainer('ns', 'web', 'app', 'wrong-uid')).toBeUndefined();
    const waiting = pod({ containerStatuses: [{ name: 'app', image: '', imageID: '', ready: false, restartCount: 1, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 1, containerID: 'containerd://c3' } } }] });
    const w = createPodLookup({ pods: () => [waiting], runtime: runtime([]) });
    expect(await w.resolveContainer('ns', 'web', 'app')).toMatchObject({ containerId: 'c3', previousContainerId: 'c3' });
  });

  it('does not list sandboxes when the caller needs none (exec, attach)', async () => {
    let listed = 0;
    const running = pod({ containerStatuses: [{ name: 'app', image: '', imageID: '', ready: true, restartCount: 0, containerID: 'containerd://c2', state: { running: {} } }] });
    const rt = { ...runtime([], [{ id: 's1', state: 'ready', createdAt: 0 }]), listPodSandboxes: () => (listed++, Promise.resolve([{ id: 's1', state: 'ready', createdAt: 0 }] as PodSandbox[])) };
    const l = createPodLookup({ pods: () => [running], runtime: rt });
    expect(await l.resolveContainer('ns', 'web', 'app', undefined, { sandbox: false })).toMatchObject({ containerId: 'c2', sandboxId: undefined });
    expect(listed).toBe(0);
    expect(await l.resolveContainer('ns', 'web', 'app')).toMatchObject({ containerId: 'c2', sandboxId: 's1' });
    expect(listed).toBe(1);
  });

  it('falls back to the newest runtime container when the status has no ID yet', async () => {
    const l = createPodLookup({ pods: () => [pod({})], runtime: runtime([{ id: 'old', createdAt: 1 }, { id: 'new', createdAt: 2 }]) });
    expect(await l.resolveContainer('ns', 'web', 'app')).toMatchObject({ containerId: 'new', previousContainerId: undefined });
    expect(l.findPod('ns', 'web', 'u1')?.metadata?.uid).toBe('u1');
    expect(runtimeId('containerd://abc')).toBe('abc');
    expect(runtimeId('')).toBeUndefined();
  });
});
