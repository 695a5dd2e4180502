import type { V1Pod, V1PodCondition, V1PodStatus } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { applyStrategicMergePatch } from '../../../test/apiserver/smp.js';
import type { PodRuntimeState } from '../podstate/records.js';
import { withDisruptionTarget } from './disruption.js';
import { generatePodStatus, type PodFailure } from './generate.js';
import { statusPatch } from './patch.js';

const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);
const pod: V1Pod = { metadata: { name: 'p', namespace: 'default', uid: 'u1' }, spec: { containers: [{ name: 'a', image: 'img:1' }] } };
const exited: PodRuntimeState = {
  uid: 'u1',
  sandboxes: [{ id: 's1', attempt: 0, ready: false, createdAt: NOW - 2000, ips: [], network: 'pod' }],
  containers: [
    {
      id: 'a-0', name: 'a', sandboxId: 's1', state: 'exited', exitCode: 137, reason: 'Error', message: '', createdAt: NOW - 1000,
      startedAt: NOW - 900, finishedAt: NOW - 10, restartCount: 0, hash: '', image: 'img:1', imageRef: 'sha256:abc',
    },
  ],
};
const EVICTED: PodFailure = {
  reason: 'Evicted',
  message: 'The node was low on resource: memory. ',
  evicted: true,
  disruptionTarget: { reason: 'TerminationByKubelet', message: 'The node was low on resource: memory. ' },
};
const gen = (failure: PodFailure | undefined, old?: V1PodStatus, now = NOW) =>
  generatePodStatus({ pod, state: exited, reasons: new Map(), oldStatus: old, apiStatus: old, now, hostIPs: ['10.0.0.1'], runtimeName: 'docker', podIsTerminal: true, failure });
const dt = (s: V1PodStatus): V1PodCondition | undefined => s.conditions?.find((c) => c.type === 'DisruptionTarget');

describe('DisruptionTarget (upstream: eviction manager and node shutdown, sent with the terminal phase)', () => {
  it('is added True with reason TerminationByKubelet and the failure message, next to phase Failed', () => {
    const s = gen(EVICTED);
    expect(s.phase).toBe('Failed');
    expect(s.reason).toBe('Evicted');
    expect(dt(s)).toEqual({ type: 'DisruptionTarget', status: 'True', reason: 'TerminationByKubelet', message: EVICTED.message, lastTransitionTime: new Date(NOW) });
    expect(dt(gen({ reason: 'DeadlineExceeded', message: 'x' }))).toBeUndefined();
  });

  it('keeps its lastTransitionTime and replaces a DisruptionTarget written by someone else', () => {
    const first = gen(EVICTED);
    expect(dt(gen(EVICTED, first, NOW + 60_000))?.lastTransitionTime).toEqual(new Date(NOW));
    const foreign: V1PodCondition = { type: 'DisruptionTarget', status: 'False', reason: 'EvictionByEvictionAPI', lastTransitionTime: new Date(NOW - 5000) };
    const out = withDisruptionTarget([foreign], { reason: 'TerminationByKubelet', message: 'm' }, [foreign], new Date(NOW));
    expect(out).toEqual([{ type: 'DisruptionTarget', status: 'True', reason: 'TerminationByKubelet', message: 'm', lastTransitionTime: new Date(NOW) }]);
  });

  it('is sent in the patch that makes the phase terminal, and not otherwise', () => {
    const running: V1PodStatus = { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: new Date(NOW - 9000) }] };
    const ours = gen(EVICTED, running);
    const patch = statusPatch(running, ours) as { conditions?: { type: string }[]; phase?: string };
    expect(patch.phase).toBe('Failed');
    expect(patch.conditions?.map((c) => c.type)).toContain('DisruptionTarget');
    const applied = applyStrategicMergePatch(JSON.parse(JSON.stringify(running)) as Parameters<typeof applyStrategicMergePatch>[0], patch) as V1PodStatus;
    expect(applied.conditions?.find((c) => c.type === 'DisruptionTarget')).toMatchObject({ status: 'True', reason: 'TerminationByKubelet', message: EVICTED.message });
    // Already terminal in the API: a later change of ours does not touch a DisruptionTarget there (shared condition).
    const terminal: V1PodStatus = { ...ours, conditions: (ours.conditions ?? []).filter((c) => c.type !== 'DisruptionTarget') };
    const later = statusPatch(terminal, ours) as { conditions?: { type: string }[] } | undefined;
    expect(later?.conditions?.some((c) => c.type === 'DisruptionTarget') ?? false).toBe(false);
  });
});
