import type { V1ContainerStatus, V1Pod, V1PodCondition } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { DesiredPods } from '../pods/desired.js';
import { computeConditions, isKubeletCondition, readinessGatesCondition, type ConditionInput } from './conditions.js';

const NOW = new Date(Date.UTC(2026, 0, 1, 12, 0, 0));
const EARLIER = new Date(Date.UTC(2026, 0, 1, 11, 0, 0));
const G1 = 'example.com/feature-1';
const G2 = 'example.com/feature-2';

function pod(gates: string[]): V1Pod {
  return {
    metadata: { name: 'p', namespace: 'default', uid: 'u1' },
    spec: { containers: [{ name: 'a', image: 'img:1' }], readinessGates: gates.map((conditionType) => ({ conditionType })) },
  };
}
const running: V1ContainerStatus = { name: 'a', image: 'img:1', imageID: '', ready: true, restartCount: 0, state: { running: {} } };
const c = (type: string, status: string): V1PodCondition => ({ type, status, lastTransitionTime: EARLIER });
function input(gates: string[], extra: Partial<ConditionInput> = {}): ConditionInput {
  return { pod: pod(gates), init: [], app: [running], phase: 'Running', sandboxReady: true, oldConditions: [], now: NOW, ...extra };
}
const get = (list: V1PodCondition[], type: string) => list.find((x) => x.type === type);

describe('readinessGatesCondition', () => {
  it('is undefined without gates or when every gate condition is True', () => {
    expect(readinessGatesCondition(pod([]), [])).toBeUndefined();
    expect(readinessGatesCondition(pod([G1, G2]), [c(G1, 'True'), c(G2, 'True')])).toBeUndefined();
  });

  it('names missing and non-True gates with the upstream messages, in gate order', () => {
    expect(readinessGatesCondition(pod([G1, G2]), [c(G2, 'Unknown')])).toEqual({
      reason: 'ReadinessGatesNotReady',
      message: `corresponding condition of pod readiness gate "${G1}" does not exist., the status of pod readiness gate "${G2}" is not "True", but Unknown`,
    });
    expect(readinessGatesCondition(pod([G1]), [c(G1, 'False')])?.message).toBe(`the status of pod readiness gate "${G1}" is not "True", but False`);
  });
});

describe('computeConditions with readiness gates', () => {
  it('Ready = ContainersReady AND every gate True', () => {
    const out = computeConditions(input([G1]));
    expect(get(out, 'ContainersReady')?.status).toBe('True');
    expect(get(out, 'Ready')).toMatchObject({ status: 'False', reason: 'ReadinessGatesNotReady' });
    const ok = computeConditions(input([G1], { apiConditions: [c(G1, 'True')] }));
    expect(get(ok, 'Ready')).toMatchObject({ status: 'True' });
    expect(get(ok, 'Ready')?.reason).toBeUndefined();
  });

  it('reports unready containers before gates', () => {
    const out = computeConditions(input([G1], { app: [{ ...running, ready: false }], apiConditions: [c(G1, 'True')] }));
    expect(get(out, 'Ready')).toMatchObject({ status: 'False', reason: 'ContainersNotReady' });
  });

  it('reads gates from the API object over its own previous status, and passes them through unchanged', () => {
    // The kubelet's cached status still has the gate False; a controller set it True in the API since.
    const out = computeConditions(input([G1], { oldConditions: [c('Ready', 'False'), c(G1, 'False')], apiConditions: [c(G1, 'True')] }));
    expect(get(out, 'Ready')?.status).toBe('True');
    expect(get(out, G1)).toEqual(c(G1, 'True'));
    expect(out.filter((x) => x.type === G1)).toHaveLength(1);
  });

  it('falls back to the previous status when the API object is unknown (standalone)', () => {
    const out = computeConditions(input([G1], { oldConditions: [c(G1, 'True')] }));
    expect(get(out, 'Ready')?.status).toBe('True');
    expect(get(out, G1)?.status).toBe('True');
  });

  it('never takes a kubelet-owned condition from the API: it is computed', () => {
    const out = computeConditions(input([], { apiConditions: [c('Ready', 'False'), c('PodScheduled', 'False')] }));
    expect(get(out, 'Ready')?.status).toBe('True');
    expect(get(out, 'PodScheduled')?.status).toBe('True');
    expect(out.map((x) => x.type)).toEqual(['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled']);
  });

  it('knows which condition types are the kubelet’s', () => {
    expect(['Ready', 'ContainersReady', 'Initialized', 'PodScheduled', 'PodReadyToStartContainers'].every(isKubeletCondition)).toBe(true);
    expect(isKubeletCondition(G1)).toBe(false);
    expect(isKubeletCondition('DisruptionTarget')).toBe(false);
  });
});

describe('DesiredPods and gate conditions', () => {
  it('treats a change of a gate condition in the API as an update, other status changes not', () => {
    const d = new DesiredPods();
    const base = { ...pod([G1]), metadata: { ...pod([G1]).metadata, resourceVersion: '1' } };
    d.setSource('api', [base]);
    const noise = d.setSource('api', [{ ...base, status: { phase: 'Running', conditions: [c('Ready', 'False')] } }]);
    expect(noise.updated).toHaveLength(0);
    const gate = d.setSource('api', [{ ...base, status: { phase: 'Running', conditions: [c('Ready', 'False'), c(G1, 'True')] } }]);
    expect(gate.updated).toHaveLength(1);
  });
});
