import type { V1Node } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { apiPod, ctr, mkPod, NODE, world, type World } from './harness.test-util.js';

let w: World | undefined;
afterEach(async () => {
  await w?.lc.stop();
  w = undefined;
});

const node = (extra: Partial<V1Node> = {}): V1Node => ({
  metadata: { name: NODE, uid: 'node-uid', labels: { 'kubernetes.io/hostname': NODE } },
  status: { allocatable: { cpu: '2', memory: '1Gi', 'ephemeral-storage': '10Gi', pods: '110' } },
  ...extra,
});

describe('admission against the Node (allocatable, taints)', () => {
  it('admits pods while their requests fit and rejects the one that does not, with OutOfcpu', async () => {
    w = await world({ getNode: () => node() });
    const req = (cpu: string) => [ctr('a', undefined, { resources: { requests: { cpu } } })];
    w.api.apply(mkPod('first', { containers: req('1500m') }));
    await w.settle();
    w.api.apply(mkPod('second', { containers: req('600m') }));
    await w.settle();
    w.api.apply(mkPod('small', { containers: req('500m') }));
    await w.settle();
    expect(apiPod(w, 'first')?.status?.phase).toBe('Running');
    expect(apiPod(w, 'second')?.status).toMatchObject({
      phase: 'Failed',
      reason: 'OutOfcpu',
      message: "Pod was rejected: Node didn't have enough resource: cpu, requested: 600, used: 1500, capacity: 2000",
    });
    expect(apiPod(w, 'small')?.status?.phase).toBe('Running');
    expect(w.recorder.of('OutOfcpu')).toHaveLength(1);
    expect(new Set((await w.runtime.listPodSandboxes()).map((s) => s.metadata.name))).toEqual(new Set(['first', 'small']));
  });

  it('rejects a pod that does not tolerate a NoExecute taint of the node, admits one that does', async () => {
    w = await world({ getNode: () => node({ spec: { taints: [{ key: 'maintenance', effect: 'NoExecute' }, { key: 'x', effect: 'NoSchedule' }] } }) });
    w.api.apply(mkPod('plain', { containers: [ctr('a')] }));
    w.api.apply(mkPod('tolerant', { tolerations: [{ key: 'maintenance', operator: 'Exists', effect: 'NoExecute' }], containers: [ctr('a')] }));
    await w.settle();
    expect(apiPod(w, 'plain')?.status).toMatchObject({
      phase: 'Failed',
      reason: 'TaintToleration',
      message: "Pod was rejected: Predicate TaintToleration failed: node(s) had taints that the pod didn't tolerate",
    });
    expect(apiPod(w, 'tolerant')?.status?.phase).toBe('Running');
  });

  it('rejects unsafe sysctls at admission (SysctlForbidden, never run) and runs the allowed ones', async () => {
    w = await world({ getNode: () => node(), allowedUnsafeSysctls: ['kernel.msg*'] });
    const sysctls = (name: string) => ({ securityContext: { sysctls: [{ name: 'kernel.shm_rmid_forced', value: '1' }, { name, value: '1' }] } });
    w.api.apply(mkPod('unsafe', { ...sysctls('net.core.somaxconn'), containers: [ctr('a')] }));
    w.api.apply(mkPod('allowed', { ...sysctls('kernel.msgmax'), containers: [ctr('a')] }));
    await w.settle();
    expect(apiPod(w, 'unsafe')?.status).toMatchObject({
      phase: 'Failed',
      reason: 'SysctlForbidden',
      message: 'Pod was rejected: forbidden sysctl: "net.core.somaxconn" not allowlisted',
    });
    expect(w.recorder.of('SysctlForbidden').map((e) => e.message)).toEqual(['forbidden sysctl: "net.core.somaxconn" not allowlisted']);
    expect(apiPod(w, 'allowed')?.status?.phase).toBe('Running');
    await w.advance(30_000, 10_000);
    expect((await w.runtime.listPodSandboxes()).map((s) => s.metadata.name)).toEqual(['allowed']);
  });
});
