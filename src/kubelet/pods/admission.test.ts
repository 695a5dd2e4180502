import type { V1Container, V1Pod, V1Taint } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { insufficientResources, podRequests, toleratesTaint, untoleratedNoExecuteTaint } from './admission-fit.js';
import { admitPod, type AdmissionContext } from './admission.js';

const ALLOC = { cpu: '3500m', memory: '1Gi', 'ephemeral-storage': '10Gi', pods: '110' };

function ctr(name: string, requests?: Record<string, string>, extra: Partial<V1Container> = {}): V1Container {
  return { name, image: 'img:1', ...(requests === undefined ? {} : { resources: { requests } }), ...extra };
}
function pod(name: string, spec: Partial<NonNullable<V1Pod['spec']>> = {}, annotations?: Record<string, string>): V1Pod {
  return { metadata: { name, namespace: 'default', uid: `uid-${name}`, annotations }, spec: { containers: [ctr('a')], ...spec } };
}
function ctx(extra: Partial<AdmissionContext> = {}): AdmissionContext {
  return { nodeLabels: { 'kubernetes.io/hostname': 'n1', 'kubernetes.io/os': 'linux' }, activePods: [], maxPods: 110, allocatable: ALLOC, ...extra };
}

describe('podRequests', () => {
  it('sums app containers and adds overhead; cpu in millicores, memory in bytes', () => {
    const p = pod('p', { containers: [ctr('a', { cpu: '250m', memory: '64Mi' }), ctr('b', { cpu: '1', 'ephemeral-storage': '1Gi' })], overhead: { cpu: '10m' } });
    expect(podRequests(p)).toEqual({ cpu: 1260, memory: 64 * 2 ** 20, 'ephemeral-storage': 2 ** 30 });
  });

  it('takes the largest init step when larger, counting sidecars started before it (upstream PodRequests)', () => {
    const p = pod('p', {
      initContainers: [ctr('side', { cpu: '100m' }, { restartPolicy: 'Always' }), ctr('init', { cpu: '2', memory: '10Mi' })],
      containers: [ctr('a', { cpu: '500m', memory: '100Mi' })],
    });
    // app + sidecar = 600m / 100Mi; init step = 2 + 100m sidecar = 2100m / 10Mi → max per resource
    expect(podRequests(p)).toEqual({ cpu: 2100, memory: 100 * 2 ** 20, 'ephemeral-storage': 0 });
  });

  it('throws naming the field for an unparsable quantity', () => {
    expect(() => podRequests(pod('p', { containers: [ctr('a', { cpu: 'lots' })] }))).toThrow(/spec\.containers\[0\]\.resources\.requests\.cpu/);
  });
});

describe('insufficientResources', () => {
  it('lists what does not fit into allocatable minus the requests of the other pods', () => {
    const others = [pod('o1', { containers: [ctr('a', { cpu: '3', memory: '512Mi' })] })];
    const p = pod('p', { containers: [ctr('a', { cpu: '1', memory: '512Mi' })] });
    expect(insufficientResources(p, others, ALLOC)).toEqual([{ resource: 'cpu', requested: 1000, used: 3000, capacity: 3500 }]);
    const big = pod('p', { containers: [ctr('a', { cpu: '500m', memory: '513Mi' })] });
    expect(insufficientResources(big, others, ALLOC)).toEqual([{ resource: 'memory', requested: 513 * 2 ** 20, used: 512 * 2 ** 20, capacity: 2 ** 30 }]);
  });

  it('admits an exact fit and a pod requesting nothing even on a full node; skips resources the node does not report', () => {
    const others = [pod('o1', { containers: [ctr('a', { cpu: '3500m' })] })];
    expect(insufficientResources(pod('p', { containers: [ctr('a', { memory: '1Gi' })] }), others, ALLOC)).toEqual([]);
    expect(insufficientResources(pod('p'), others, ALLOC)).toEqual([]);
    expect(insufficientResources(pod('p', { containers: [ctr('a', { cpu: '1' })] }), others, { memory: '1Gi' })).toEqual([]);
  });
});

describe('taints', () => {
  const taint = (key: string, effect: string, value?: string): V1Taint => ({ key, effect, value });
  it('matches tolerations as upstream ToleratesTaint', () => {
    expect(toleratesTaint({ key: 'k', operator: 'Equal', value: 'v' }, taint('k', 'NoExecute', 'v'))).toBe(true);
    expect(toleratesTaint({ key: 'k', value: 'v' }, taint('k', 'NoExecute', 'w'))).toBe(false);
    expect(toleratesTaint({ key: 'k', operator: 'Exists', effect: 'NoSchedule' }, taint('k', 'NoExecute'))).toBe(false);
    expect(toleratesTaint({ operator: 'Exists' }, taint('any', 'NoExecute'))).toBe(true);
    expect(toleratesTaint({ key: 'other', operator: 'Exists' }, taint('k', 'NoExecute'))).toBe(false);
    expect(toleratesTaint({ key: 'k', operator: 'Bogus' }, taint('k', 'NoExecute'))).toBe(false);
  });

  it('only NoExecute taints matter to the kubelet', () => {
    const p = pod('p');
    expect(untoleratedNoExecuteTaint(p, [taint('a', 'NoSchedule'), taint('b', 'PreferNoSchedule')])).toBeUndefined();
    expect(untoleratedNoExecuteTaint(p, [taint('a', 'NoSchedule'), taint('b', 'NoExecute')])?.key).toBe('b');
    expect(untoleratedNoExecuteTaint(pod('p', { tolerations: [{ key: 'b', operator: 'Exists' }] }), [taint('b', 'NoExecute')])).toBeUndefined();
  });
});

describe('admitPod', () => {
  it('admits a pod that fits', () => {
    expect(admitPod(pod('p', { containers: [ctr('a', { cpu: '1', memory: '100Mi' })] }), ctx())).toBeUndefined();
  });

  it('rejects OutOfcpu / OutOfmemory / OutOfephemeral-storage with the upstream message', () => {
    const running = [pod('o1', { containers: [ctr('a', { cpu: '3', memory: '900Mi', 'ephemeral-storage': '9Gi' })] })];
    expect(admitPod(pod('p', { containers: [ctr('a', { cpu: '600m' })] }), ctx({ activePods: running }))).toEqual({
      reason: 'OutOfcpu',
      message: "Node didn't have enough resource: cpu, requested: 600, used: 3000, capacity: 3500",
    });
    expect(admitPod(pod('p', { containers: [ctr('a', { memory: '200Mi' })] }), ctx({ activePods: running }))).toEqual({
      reason: 'OutOfmemory',
      message: `Node didn't have enough resource: memory, requested: ${200 * 2 ** 20}, used: ${900 * 2 ** 20}, capacity: ${2 ** 30}`,
    });
    expect(admitPod(pod('p', { containers: [ctr('a', { 'ephemeral-storage': '2Gi' })] }), ctx({ activePods: running }))?.reason).toBe('OutOfephemeral-storage');
  });

  it('does not count terminal pods as used', () => {
    const done = { ...pod('o1', { containers: [ctr('a', { cpu: '3500m' })] }), status: { phase: 'Succeeded' } };
    expect(admitPod(pod('p', { containers: [ctr('a', { cpu: '1' })] }), ctx({ activePods: [done] }))).toBeUndefined();
  });

  it('counts pods against allocatable pods (then maxPods without a node)', () => {
    const two = [pod('o1'), pod('o2')];
    expect(admitPod(pod('p'), ctx({ activePods: two, allocatable: { ...ALLOC, pods: '2' } }))).toEqual({
      reason: 'OutOfpods',
      message: "Node didn't have enough resource: pods, requested: 1, used: 2, capacity: 2",
    });
    expect(admitPod(pod('p'), ctx({ activePods: two, allocatable: undefined, maxPods: 2 }))?.reason).toBe('OutOfpods');
    // No node yet: only the pod count is checked.
    expect(admitPod(pod('p', { containers: [ctr('a', { cpu: '64' })] }), ctx({ allocatable: undefined }))).toBeUndefined();
  });

  it('reports the first failure in upstream order: OS, resources, node affinity, host ports, taints', () => {
    const everything = pod('p', {
      os: { name: 'windows' },
      nodeSelector: { disk: 'ssd' },
      containers: [ctr('a', { cpu: '64' }, { ports: [{ containerPort: 80, hostPort: 8080 }] })],
    });
    const taints = [{ key: 'maint', effect: 'NoExecute' }];
    const users = [pod('o', { containers: [ctr('a', undefined, { ports: [{ containerPort: 80, hostPort: 8080 }] })] })];
    const c = ctx({ taints, activePods: users });
    expect(admitPod(everything, c)?.reason).toBe('PodOSNotSupported');
    const noOS = { ...everything, spec: { ...everything.spec!, os: undefined } };
    expect(admitPod(noOS, c)?.reason).toBe('OutOfcpu');
    const fits = { ...noOS, spec: { ...noOS.spec!, containers: [ctr('a', undefined, { ports: [{ containerPort: 80, hostPort: 8080 }] })] } };
    expect(admitPod(fits, c)).toEqual({ reason: 'NodeAffinity', message: "Predicate NodeAffinity failed: node(s) didn't match Pod's node affinity/selector" });
    const anyNode = { ...fits, spec: { ...fits.spec!, nodeSelector: undefined } };
    expect(admitPod(anyNode, c)).toEqual({ reason: 'NodePorts', message: "Predicate NodePorts failed: node(s) didn't have free ports for the requested pod ports" });
    expect(admitPod(anyNode, ctx({ taints }))).toEqual({ reason: 'TaintToleration', message: "Predicate TaintToleration failed: node(s) had taints that the pod didn't tolerate" });
  });

  it('does not check taints for static pods', () => {
    const taints = [{ key: 'maint', effect: 'NoExecute' }];
    expect(admitPod(pod('s', {}, { 'kubernetes.io/config.source': 'file' }), ctx({ taints }))).toBeUndefined();
    expect(admitPod(pod('s', {}, { 'kubernetes.io/config.source': 'api' }), ctx({ taints }))?.reason).toBe('TaintToleration');
  });

  it('rejects an unparsable request instead of throwing', () => {
    expect(admitPod(pod('p', { containers: [ctr('a', { memory: '12 bytes' })] }), ctx())).toMatchObject({
      reason: 'UnexpectedAdmissionError',
      message: expect.stringContaining('spec.containers[0].resources.requests.memory'),
    });
  });
});
