import type { V1PodCondition, V1PodStatus } from '@kubernetes/client-node';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { applyStrategicMergePatch } from '../../../test/apiserver/smp.js';
import { FakePodApi } from '../pods/testing.js';
import { StatusManager } from './manager.js';
import { applyStatusPatch, statusPatch } from './patch.js';

const T0 = '2026-01-01T12:00:00Z';
const T1 = '2026-01-01T12:00:10Z';
const cond = (type: string, status: string, t = T0): V1PodCondition => ({ type, status, lastTransitionTime: new Date(t) });

function base(): V1PodStatus {
  return {
    phase: 'Pending',
    qosClass: 'BestEffort',
    startTime: new Date(T0),
    hostIP: '10.0.0.1',
    hostIPs: [{ ip: '10.0.0.1' }],
    conditions: [cond('PodReadyToStartContainers', 'True'), cond('Initialized', 'True'), cond('Ready', 'False'), cond('ContainersReady', 'False'), cond('PodScheduled', 'True')],
    containerStatuses: [
      { name: 'a', image: 'img:1', imageID: '', ready: false, restartCount: 0, started: false, state: { waiting: { reason: 'ContainerCreating' } } },
      { name: 'b', image: 'img:1', imageID: '', ready: false, restartCount: 0, started: false, state: { waiting: { reason: 'ContainerCreating' } } },
    ],
  };
}
/** `s` with container `name` changed by `f` (a deep copy). */
function withContainer(s: V1PodStatus, name: string, f: (c: Record<string, unknown>) => void): V1PodStatus {
  const out = structuredClone(s);
  const c = out.containerStatuses?.find((x) => x.name === name);
  if (c !== undefined) f(c as unknown as Record<string, unknown>);
  return out;
}
/** What the test API server stores after applying the patch (its real strategic merge). */
function serverApply(api: V1PodStatus, patch: Record<string, unknown>): V1PodStatus {
  const obj = JSON.parse(JSON.stringify({ status: api })) as Record<string, never>;
  return (applyStrategicMergePatch(obj, { status: patch }) as unknown as { status: V1PodStatus }).status;
}
const norm = (s: V1PodStatus): unknown => JSON.parse(JSON.stringify(applyStatusPatch(s, {})));

describe('statusPatch', () => {
  it('is undefined when nothing differs (Dates and RFC 3339 strings compare equal)', () => {
    const api = JSON.parse(JSON.stringify(base())) as V1PodStatus;
    expect(statusPatch(api, base())).toBeUndefined();
  });

  it('sends the whole status when the API has none', () => {
    const p = statusPatch(undefined, base());
    expect(p?.phase).toBe('Pending');
    expect(p?.containerStatuses).toHaveLength(2);
  });

  it('sends only what changed; a container going from waiting to running deletes waiting', () => {
    const api = base();
    const ours = withContainer(base(), 'a', (c) => {
      c.state = { running: { startedAt: T1 } };
      c.ready = true;
      c.started = true;
      c.containerID = 'docker://x';
    });
    const p = statusPatch(api, ours);
    // Container statuses have no patch strategy upstream (replaced whole): the whole new list, as it is.
    expect(Object.keys(p ?? {})).toEqual(['containerStatuses']);
    const [a, b] = (p?.containerStatuses ?? []) as Record<string, unknown>[];
    expect(a).toMatchObject({ name: 'a', containerID: 'docker://x', ready: true, started: true, image: 'img:1', state: { running: { startedAt: T1 } } });
    expect(Object.keys((a?.state ?? {}) as object)).toEqual(['running']);
    expect(b).toEqual(JSON.parse(JSON.stringify(api.containerStatuses?.[1])));
    // The API server (upstream and the test server replace the list) and applyStatusPatch end with exactly the new list.
    for (const stored of [applyStatusPatch(api, p ?? {}), serverApply(api, p ?? {})]) {
      expect(stored.containerStatuses?.[0]?.state).toEqual({ running: { startedAt: T1 } });
      expect(stored.containerStatuses).toEqual((norm(ours) as V1PodStatus).containerStatuses);
    }
  });

  it('sends only the changed kubelet conditions and never touches conditions others own', () => {
    const api = { ...base(), conditions: [...(base().conditions ?? []), cond('example.com/gate', 'True')] };
    const ours = { ...base(), conditions: [...(base().conditions ?? []).map((c) => (c.type === 'Ready' ? cond('Ready', 'True', T1) : c)), cond('example.com/gate', 'False')] };
    const p = statusPatch(api, ours);
    expect(p?.conditions).toEqual([{ type: 'Ready', status: 'True', lastTransitionTime: T1 }]);
    expect(JSON.stringify(p)).not.toContain('"status":"False"');
    const stored = serverApply(api, p ?? {});
    expect(stored.conditions?.find((c) => c.type === 'example.com/gate')?.status).toBe('True');
    expect(stored.conditions?.map((c) => c.type)).toEqual(['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled', 'example.com/gate']);
  });

  it('deletes fields and list elements the kubelet no longer reports', () => {
    const api = { ...withContainer(base(), 'a', (c) => { c.lastState = { terminated: { exitCode: 1, finishedAt: T0 } }; }), reason: 'X', message: 'y' };
    const ours = { ...base(), containerStatuses: base().containerStatuses?.slice(0, 1) };
    const p = statusPatch(api, ours);
    expect(p).toMatchObject({ reason: null, message: null, containerStatuses: [{ name: 'a' }] });
    expect((p?.containerStatuses as Record<string, unknown>[] | undefined)?.[0]).not.toHaveProperty('lastState');
    expect(p?.containerStatuses).toHaveLength(1);
    expect(applyStatusPatch(api, p ?? {})).toEqual(norm(ours));
    const dualStack = { ...api, hostIPs: [{ ip: '10.0.0.1' }, { ip: 'fd00::1' }] };
    expect(statusPatch(dualStack, ours)?.hostIPs).toEqual([{ ip: 'fd00::1', $patch: 'delete' }]);
  });

  it('never regresses a terminal phase in the API', () => {
    const api = { ...base(), phase: 'Failed', reason: 'DeadlineExceeded', message: 'too long' };
    const ours = withContainer(base(), 'a', (c) => { c.restartCount = 1; });
    const p = statusPatch(api, { ...ours, phase: 'Running' });
    expect(p).not.toHaveProperty('phase');
    expect(p).not.toHaveProperty('reason');
    expect((p?.containerStatuses as Record<string, unknown>[] | undefined)?.map((c) => c.restartCount)).toEqual([1, 0]);
    expect(statusPatch(api, { ...base(), phase: 'Running' })).toBeUndefined();
  });

  it('round-trips: applying the patch to the API status gives the kubelet status (server merge and applyStatusPatch agree)', () => {
    const steps: V1PodStatus[] = [
      base(),
      withContainer(base(), 'a', (c) => { c.state = { running: { startedAt: T0 } }; }),
      withContainer(base(), 'a', (c) => { c.state = { terminated: { exitCode: 1, reason: 'Error', startedAt: T0, finishedAt: T1 } }; }),
      withContainer(base(), 'a', (c) => {
        c.state = { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 10s restarting failed container=a pod=p_default(u1)' } };
        c.lastState = { terminated: { exitCode: 1, reason: 'Error', startedAt: T0, finishedAt: T1 } };
        c.restartCount = 1;
      }),
      { ...base(), podIP: '10.1.0.5', podIPs: [{ ip: '10.1.0.5' }], phase: 'Running' },
      { ...base(), phase: 'Succeeded', conditions: [cond('Ready', 'False', T1)] },
    ];
    let api: V1PodStatus | undefined;
    for (const s of steps) {
      const p = statusPatch(api, s) ?? {};
      const viaServer = serverApply(api ?? {}, p);
      const viaHelper = applyStatusPatch(api, p);
      expect(viaServer).toEqual(norm(s));
      expect(viaHelper).toEqual(norm(s));
      api = viaServer;
    }
  });
});

describe('StatusManager writes', () => {
  const pod = { metadata: { name: 'p', namespace: 'default', uid: 'u1' }, spec: { containers: [{ name: 'a' }, { name: 'b' }] } };

  function setup() {
    const api = new FakePodApi();
    api.apply(structuredClone(pod));
    const target = () => {
      const obj = api.pods.get('default/p');
      return obj === undefined ? undefined : { namespace: 'default', name: 'p', uid: 'u1', apiStatus: obj.status };
    };
    const m = new StatusManager({ api, logger: pino({ level: 'silent' }), resolveTarget: target });
    return { api, m };
  }

  it('patches only the difference, keeps foreign conditions, and writes nothing when nothing changed', async () => {
    const { api, m } = setup();
    m.setPodStatus(pod, base());
    await m.flush();
    expect(api.patches).toHaveLength(1);
    // Someone else sets a readiness gate condition.
    const obj = api.pods.get('default/p');
    api.apply({ ...obj, status: { ...obj?.status, conditions: [...(obj?.status?.conditions ?? []), cond('example.com/gate', 'True')] } });
    const running = withContainer(base(), 'a', (c) => { c.state = { running: { startedAt: T1 } }; });
    // The kubelet's own copy still carries a stale gate condition: it must not be sent.
    m.setPodStatus(pod, { ...running, conditions: [...(running.conditions ?? []), cond('example.com/gate', 'False')] });
    await m.flush();
    expect(api.patches).toHaveLength(2);
    const second = api.patches[1]?.patch as { status: Record<string, unknown> };
    expect(Object.keys(second.status)).toEqual(['containerStatuses']);
    const stored = api.pods.get('default/p')?.status;
    expect(stored?.conditions?.find((c) => c.type === 'example.com/gate')?.status).toBe('True');
    expect(stored?.containerStatuses?.[0]?.state).toEqual({ running: { startedAt: T1 } });
    // Resync with nothing new: no write.
    m.resyncAll();
    await m.flush();
    expect(api.patches).toHaveLength(2);
  });

  it('writes its status back when another writer changed it in the API (node lifecycle controller), once', async () => {
    const { api, m } = setup();
    const ready = { ...base(), conditions: [cond('Ready', 'True'), cond('ContainersReady', 'True')] };
    m.setPodStatus(pod, ready);
    await m.flush();
    expect(api.patches).toHaveLength(1);
    // The node went NotReady for a while: the controller marked the pod not Ready in the API.
    const obj = api.pods.get('default/p');
    api.apply({ ...obj, status: { ...obj?.status, conditions: [cond('Ready', 'False', T1), cond('ContainersReady', 'True')] } });
    m.resyncAll();
    await m.flush();
    expect(api.patches).toHaveLength(2);
    expect(api.pods.get('default/p')?.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    // Nothing new: no further write.
    m.resyncAll();
    await m.flush();
    m.resyncAll();
    await m.flush();
    expect(api.patches).toHaveLength(2);
  });

  it('diffs against what its last patch returned even when the informer copy is stale', async () => {
    const { api, m } = setup();
    const informerLag = { status: undefined as V1PodStatus | undefined };
    const stale = new StatusManager({
      api,
      logger: pino({ level: 'silent' }),
      resolveTarget: () => ({ namespace: 'default', name: 'p', uid: 'u1', apiStatus: informerLag.status }),
    });
    void m;
    stale.setPodStatus(pod, base());
    await stale.flush();
    const waiting = withContainer(base(), 'a', (c) => { c.state = { waiting: { reason: 'CrashLoopBackOff' } }; });
    stale.setPodStatus(pod, waiting);
    await stale.flush();
    // Back to the first status: against the (stale, empty) informer copy the diff would be the full status, against
    // what the API really has it is exactly the container that changed back.
    stale.setPodStatus(pod, base());
    await stale.flush();
    const last = api.patches[api.patches.length - 1]?.patch as { status: Record<string, unknown> };
    expect(Object.keys(last.status)).toEqual(['containerStatuses']);
    expect(api.pods.get('default/p')?.status?.containerStatuses?.[0]?.state).toEqual({ waiting: { reason: 'ContainerCreating' } });
  });
});
