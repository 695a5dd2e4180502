import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { ContainerRecord, PodRuntimeState } from '../podstate/records.js';
import { generatePodStatus } from './generate.js';
import { goDuration } from './time.js';

const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);

function pod(spec: Partial<NonNullable<V1Pod['spec']>> = {}): V1Pod {
  return {
    metadata: { name: 'p', namespace: 'default', uid: 'u1' },
    spec: { containers: [{ name: 'a', image: 'img:1' }, { name: 'b', image: 'img:1' }], ...spec },
  };
}

function rec(name: string, state: ContainerRecord['state'], extra: Partial<ContainerRecord> = {}): ContainerRecord {
  return {
    id: `${name}-${extra.restartCount ?? 0}`,
    name,
    sandboxId: 's1',
    state,
    exitCode: 0,
    reason: '',
    message: '',
    createdAt: NOW - 1000 + (extra.restartCount ?? 0),
    startedAt: NOW - 900,
    finishedAt: state === 'exited' ? NOW - 100 : 0,
    restartCount: 0,
    hash: '',
    image: 'img:1',
    imageRef: 'sha256:abc',
    ...extra,
  };
}

function state(containers: ContainerRecord[], ready = true): PodRuntimeState {
  const sorted = [...containers].sort((x, y) => y.createdAt - x.createdAt);
  return { uid: 'u1', sandboxes: [{ id: 's1', attempt: 0, ready, createdAt: NOW - 2000, ips: ['172.17.0.5'], network: 'pod' }], containers: sorted };
}

function gen(p: V1Pod, s: PodRuntimeState, reasons = new Map<string, { reason: string; message: string }>(), old?: V1Pod['status']) {
  return generatePodStatus({ pod: p, state: s, reasons, oldStatus: old, now: NOW, hostIPs: ['10.0.0.1'], runtimeName: 'docker', podIsTerminal: false });
}

const cond = (s: ReturnType<typeof gen>, type: string) => s.conditions?.find((c) => c.type === type);

describe('generatePodStatus', () => {
  it('reports a running pod as Running and Ready with docker:// container IDs', () => {
    const s = gen(pod(), state([rec('a', 'running'), rec('b', 'running')]));
    expect(s.phase).toBe('Running');
    expect(cond(s, 'Ready')?.status).toBe('True');
    expect(cond(s, 'PodReadyToStartContainers')?.status).toBe('True');
    expect(s.containerStatuses?.[0]).toMatchObject({ name: 'a', ready: true, started: true, containerID: 'docker://a-0', imageID: 'sha256:abc', restartCount: 0 });
    expect(s.podIP).toBe('172.17.0.5');
    expect(s.hostIPs).toEqual([{ ip: '10.0.0.1' }]);
    expect(s.qosClass).toBe('BestEffort');
    expect(s.initContainerStatuses).toBeUndefined();
  });

  it('is Pending with ContainerCreating before containers exist, and lists unready containers', () => {
    const s = gen(pod(), state([rec('a', 'running')]));
    expect(s.phase).toBe('Pending');
    expect(s.containerStatuses?.[1]?.state?.waiting?.reason).toBe('ContainerCreating');
    expect(cond(s, 'ContainersReady')).toMatchObject({ status: 'False', reason: 'ContainersNotReady', message: 'containers with unready status: [b]' });
  });

  it('shows CrashLoopBackOff as waiting with lastState terminated and keeps the phase Running', () => {
    const dead = rec('a', 'exited', { exitCode: 1, restartCount: 3 });
    const reasons = new Map([['a', { reason: 'CrashLoopBackOff', message: 'back-off 40s restarting failed container=a pod=p_default(u1)' }]]);
    const s = gen(pod(), state([dead, rec('b', 'running')]), reasons);
    const a = s.containerStatuses?.[0];
    expect(a?.state?.waiting).toEqual({ reason: 'CrashLoopBackOff', message: 'back-off 40s restarting failed container=a pod=p_default(u1)' });
    expect(a?.lastState?.terminated).toMatchObject({ exitCode: 1, reason: 'Error', containerID: 'docker://a-3' });
    expect(a?.restartCount).toBe(3);
    expect(s.phase).toBe('Running');
  });

  it('derives Succeeded / Failed per restart policy', () => {
    const ok = state([rec('a', 'exited'), rec('b', 'exited')]);
    expect(gen(pod({ restartPolicy: 'Never' }), ok).phase).toBe('Succeeded');
    expect(gen(pod({ restartPolicy: 'Always' }), ok).phase).toBe('Running');
    const bad = state([rec('a', 'exited', { exitCode: 2 }), rec('b', 'exited')]);
    expect(gen(pod({ restartPolicy: 'Never' }), bad).phase).toBe('Failed');
    expect(gen(pod({ restartPolicy: 'OnFailure' }), bad).phase).toBe('Running');
    expect(cond(gen(pod({ restartPolicy: 'Never' }), ok), 'Ready')?.reason).toBe('PodCompleted');
  });

  it('reports OOMKilled and keeps terminal phases', () => {
    const s = gen(pod({ restartPolicy: 'Never' }), state([rec('a', 'exited', { exitCode: 137, reason: 'OOMKilled' }), rec('b', 'running')]), new Map(), { phase: 'Failed', reason: 'X' });
    expect(s.containerStatuses?.[0]?.state?.terminated?.reason).toBe('OOMKilled');
    expect(s.phase).toBe('Failed');
  });

  it('keeps lastTransitionTime when a condition does not change', () => {
    const first = gen(pod(), state([rec('a', 'running'), rec('b', 'running')]));
    const later = generatePodStatus({ pod: pod(), state: state([rec('a', 'running'), rec('b', 'running')]), reasons: new Map(), oldStatus: { ...first, conditions: first.conditions?.map((c) => ({ ...c, lastTransitionTime: new Date(NOW - 60_000) })) }, now: NOW + 5000, hostIPs: [], runtimeName: 'docker', podIsTerminal: false });
    expect(cond(later, 'Ready')?.lastTransitionTime).toEqual(new Date(NOW - 60_000));
    const changed = gen(pod(), state([rec('a', 'running')]), new Map(), later);
    expect(cond(changed, 'Ready')?.lastTransitionTime).toEqual(new Date(NOW));
  });

  it('handles init containers: PodInitializing, Initialized condition, failed init with Never', () => {
    const p = pod({ initContainers: [{ name: 'i1', image: 'img:1' }, { name: 'i2', image: 'img:1' }], restartPolicy: 'Never' });
    const s1 = gen(p, state([rec('i1', 'exited')]));
    expect(s1.phase).toBe('Pending');
    expect(s1.containerStatuses?.[0]?.state?.waiting?.reason).toBe('PodInitializing');
    expect(cond(s1, 'Initialized')).toMatchObject({ status: 'False', message: 'containers with incomplete status: [i2]' });
    const s2 = gen(p, state([rec('i1', 'exited'), rec('i2', 'exited', { exitCode: 1 })]));
    expect(s2.phase).toBe('Failed');
  });

  it('treats running sidecars as part of readiness and not as pending init', () => {
    const p = pod({ initContainers: [{ name: 'side', image: 'img:1', restartPolicy: 'Always' }] });
    const s = gen(p, state([rec('side', 'running'), rec('a', 'running'), rec('b', 'running')]));
    expect(s.phase).toBe('Running');
    expect(cond(s, 'Initialized')?.status).toBe('True');
    expect(cond(s, 'Ready')?.status).toBe('True');
  });
});

describe('goDuration', () => {
  it('formats like Go', () => {
    expect([10_000, 40_000, 80_000, 160_000, 300_000].map(goDuration)).toEqual(['10s', '40s', '1m20s', '2m40s', '5m0s']);
  });
});
