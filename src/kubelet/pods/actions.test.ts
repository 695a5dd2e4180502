import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { computePodActions } from './actions.js';
import { hashContainer } from './hash.js';
import type { ContainerRecord, PodRuntimeState, SandboxRecord } from './state.js';

function pod(spec: Partial<NonNullable<V1Pod['spec']>> = {}, deleted = false): V1Pod {
  return {
    metadata: { name: 'p', namespace: 'default', uid: 'u1', deletionTimestamp: deleted ? new Date() : undefined },
    spec: { containers: [{ name: 'a', image: 'img:1' }, { name: 'b', image: 'img:1' }], ...spec },
  };
}
const sb = (extra: Partial<SandboxRecord> = {}): SandboxRecord => ({ id: 's1', attempt: 0, ready: true, createdAt: 1, ips: ['172.17.0.2'], network: 'pod', ...extra });
let t = 100;
function rec(p: V1Pod, name: string, state: ContainerRecord['state'], extra: Partial<ContainerRecord> = {}): ContainerRecord {
  const spec = [...(p.spec?.initContainers ?? []), ...(p.spec?.containers ?? [])].find((c) => c.name === name);
  return { id: `${name}-${t}`, name, sandboxId: 's1', state, exitCode: 0, reason: '', message: '', createdAt: t++, startedAt: 0, finishedAt: 0, restartCount: 0, hash: spec === undefined ? '' : hashContainer(spec), image: 'img:1', imageRef: '', ...extra };
}
const st = (sandboxes: SandboxRecord[], containers: ContainerRecord[]): PodRuntimeState => ({ uid: 'u1', sandboxes, containers: [...containers].reverse() });

describe('computePodActions', () => {
  it('creates a sandbox and starts all containers for a new pod', () => {
    const a = computePodActions({ pod: pod(), state: st([], []) });
    expect(a).toMatchObject({ createSandbox: true, killPod: true, attempt: 0, containersToStart: ['a', 'b'], initContainersToStart: [] });
  });

  it('does nothing for a healthy pod', () => {
    const p = pod();
    const a = computePodActions({ pod: p, state: st([sb()], [rec(p, 'a', 'running'), rec(p, 'b', 'running')]) });
    expect(a).toMatchObject({ createSandbox: false, killPod: false, containersToStart: [], containersToKill: [] });
  });

  it('restarts per policy: Always restarts, OnFailure only non-zero, Never never', () => {
    for (const [policy, exit, want] of [['Always', 0, ['a']], ['OnFailure', 0, []], ['OnFailure', 1, ['a']], ['Never', 1, []]] as const) {
      const p = pod({ restartPolicy: policy });
      const a = computePodActions({ pod: p, state: st([sb()], [rec(p, 'a', 'exited', { exitCode: exit }), rec(p, 'b', 'running')]) });
      expect(a.containersToStart, `${policy}/${exit}`).toEqual(want);
    }
  });

  it('kills the pod when nothing runs and nothing will', () => {
    const p = pod({ restartPolicy: 'Never' });
    const a = computePodActions({ pod: p, state: st([sb()], [rec(p, 'a', 'exited'), rec(p, 'b', 'exited', { exitCode: 1 })]) });
    expect(a.killPod).toBe(true);
    expect(a.createSandbox).toBe(false);
  });

  it('recreates a dead sandbox with attempt+1 (Always) but not for a finished Never pod', () => {
    const p = pod();
    const a = computePodActions({ pod: p, state: st([sb({ ready: false, attempt: 2 })], [rec(p, 'a', 'exited'), rec(p, 'b', 'exited')]) });
    expect(a).toMatchObject({ createSandbox: true, killPod: true, attempt: 3, containersToStart: ['a', 'b'] });
    const n = pod({ restartPolicy: 'Never' });
    const b = computePodActions({ pod: n, state: st([sb({ ready: false })], [rec(n, 'a', 'exited')]) });
    expect(b.createSandbox).toBe(false);
  });

  it('recreates a sandbox without IP', () => {
    const p = pod();
    expect(computePodActions({ pod: p, state: st([sb({ ips: [] })], []) }).createSandbox).toBe(true);
    expect(computePodActions({ pod: pod({ hostNetwork: true }), state: st([sb({ ips: [], network: 'node' })], []) }).createSandbox).toBe(false);
  });

  it('restarts a running container whose spec changed, keeps an unchanged one', () => {
    const p = pod();
    const a = computePodActions({ pod: p, state: st([sb()], [rec(p, 'a', 'running', { hash: 'deadbeef' }), rec(p, 'b', 'running')]) });
    expect(a.containersToKill).toEqual([expect.objectContaining({ name: 'a', message: 'Container a definition changed, will be restarted' })]);
    expect(a.containersToStart).toEqual(['a']);
  });

  it('kills a container that failed liveness and restarts it unless policy is Never', () => {
    const p = pod();
    const ra = rec(p, 'a', 'running');
    const kills = new Map([[ra.id, { message: 'Container a failed liveness probe, will be restarted' }]]);
    const a = computePodActions({ pod: p, state: st([sb()], [ra, rec(p, 'b', 'running')]), probeKills: kills });
    expect(a.containersToKill.map((k) => k.message)).toEqual(['Container a failed liveness probe, will be restarted']);
    expect(a.containersToStart).toEqual(['a']);
    const n = pod({ restartPolicy: 'Never' });
    const rn = rec(n, 'a', 'running');
    const b = computePodActions({ pod: n, state: st([sb()], [rn, rec(n, 'b', 'running')]), probeKills: new Map([[rn.id, { message: 'x' }]]) });
    expect(b.containersToStart).toEqual([]);
  });

  it('runs init containers one at a time, in order, before app containers', () => {
    const p = pod({ initContainers: [{ name: 'i1', image: 'img:1' }, { name: 'i2', image: 'img:1' }] });
    expect(computePodActions({ pod: p, state: st([sb()], []) }).initContainersToStart).toEqual(['i1']);
    const a = computePodActions({ pod: p, state: st([sb()], [rec(p, 'i1', 'running')]) });
    expect(a.initContainersToStart).toEqual([]);
    expect(a.containersToStart).toEqual([]);
    const b = computePodActions({ pod: p, state: st([sb()], [rec(p, 'i1', 'exited')]) });
    expect(b.initContainersToStart).toEqual(['i2']);
    const c = computePodActions({ pod: p, state: st([sb()], [rec(p, 'i1', 'exited'), rec(p, 'i2', 'exited')]) });
    expect(c.containersToStart).toEqual(['a', 'b']);
  });

  it('retries a failed init container, or fails the pod under Never', () => {
    const p = pod({ initContainers: [{ name: 'i1', image: 'img:1' }] });
    expect(computePodActions({ pod: p, state: st([sb()], [rec(p, 'i1', 'exited', { exitCode: 1 })]) }).initContainersToStart).toEqual(['i1']);
    const n = pod({ initContainers: [{ name: 'i1', image: 'img:1' }], restartPolicy: 'Never' });
    const a = computePodActions({ pod: n, state: st([sb()], [rec(n, 'i1', 'exited', { exitCode: 1 })]) });
    expect(a).toMatchObject({ initFailed: true, killPod: true, containersToStart: [] });
  });

  it('starts sidecars in order and keeps them running; restarts a dead sidecar after init', () => {
    const p = pod({ initContainers: [{ name: 's1', image: 'img:1', restartPolicy: 'Always' }, { name: 'i1', image: 'img:1' }] });
    expect(computePodActions({ pod: p, state: st([sb()], []) }).initContainersToStart).toEqual(['s1']);
    expect(computePodActions({ pod: p, state: st([sb()], [rec(p, 's1', 'running')]) }).initContainersToStart).toEqual(['i1']);
    const a = computePodActions({ pod: p, state: st([sb()], [rec(p, 's1', 'exited'), rec(p, 'i1', 'exited'), rec(p, 'a', 'running'), rec(p, 'b', 'running')]) });
    expect(a.initContainersToStart).toEqual(['s1']);
    expect(a.killPod).toBe(false);
  });

  it('starts nothing for a deleted pod', () => {
    const p = pod({}, true);
    const a = computePodActions({ pod: p, state: st([sb()], [rec(p, 'a', 'exited'), rec(p, 'b', 'exited')]) });
    expect(a.containersToStart).toEqual([]);
    expect(a.killPod).toBe(true);
  });
});

describe('hashContainer', () => {
  it('ignores key order and resources, changes with the command', () => {
    expect(hashContainer({ name: 'a', image: 'x', command: ['sh'] })).toBe(hashContainer({ command: ['sh'], image: 'x', name: 'a', resources: { limits: { cpu: '1' } } }));
    expect(hashContainer({ name: 'a', image: 'x', command: ['sh'] })).not.toBe(hashContainer({ name: 'a', image: 'x', command: ['bash'] }));
  });

  it('ignores undefined/null fields and keeps the values of earlier releases (adopted containers must not restart)', () => {
    const base: V1Container = { name: 'web', image: 'img:1', ports: [{ containerPort: 80 }], lifecycle: { preStop: { exec: { command: ['x'] } } } };
    expect(hashContainer({ ...base, workingDir: undefined, stdin: null as unknown as boolean })).toBe(hashContainer(base));
    expect(hashContainer(base)).toMatch(/^[0-9a-f]{8}$/);
    // Pinned: these are the annotations existing containers carry. Changing them restarts every container on upgrade.
    expect(hashContainer({ name: 'a', image: 'x' })).toBe('ac8ebced');
    const web: V1Container = {
      name: 'web',
      image: 'localhost/nodelet/testbox:1.0',
      command: ['sleep', 'infinity'],
      ports: [{ containerPort: 80, protocol: 'TCP' }],
      env: [{ name: 'A', value: '1' }],
      resources: { limits: { cpu: '1' } },
    };
    expect(hashContainer(web)).toBe('b64302e6');
  });
});
