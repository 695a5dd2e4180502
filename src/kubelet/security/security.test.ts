import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { hasCode } from '../../util/errors.js';
import { containerAnnotations, sandboxLabels } from './labels.js';
import { qosClass } from './qos.js';
import { containerOOMScoreAdj, containerResources, milliCPUToQuota, milliCPUToShares } from './resources.js';
import { DEFAULT_MASKED_PATHS } from '../../cri/security-defaults.js';
import { containerSecurityContext, verifyRunAsNonRoot } from './security-context.js';
import { podSysctls } from './sysctls.js';
import { podNamespaceOptions } from './namespaces.js';

type Res = V1Container['resources'];
function pod(containers: Res[], spec: Partial<NonNullable<V1Pod['spec']>> = {}): V1Pod {
  return {
    metadata: { name: 'web', namespace: 'app', uid: 'u1' },
    spec: { containers: containers.map((resources, i) => ({ name: `c${i}`, resources })), ...spec },
  };
}

describe('qosClass', () => {
  it('BestEffort without cpu/memory requests or limits', () => {
    expect(qosClass(pod([undefined, {}]))).toBe('BestEffort');
    expect(qosClass(pod([{ limits: { 'nvidia.com/gpu': '1' } }]))).toBe('BestEffort');
  });
  it('Guaranteed when every container has equal cpu and memory requests and limits', () => {
    expect(qosClass(pod([{ limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '1000m', memory: '1024Mi' } }]))).toBe('Guaranteed');
    // Only limits: requests default to limits.
    expect(qosClass(pod([{ limits: { cpu: '1', memory: '1Gi' } }, { limits: { cpu: '2', memory: '2Gi' } }]))).toBe('Guaranteed');
    // Equal values in different notations.
    expect(qosClass(pod([{ requests: { cpu: '0.5', memory: '134217728' }, limits: { cpu: '500m', memory: '128Mi' } }]))).toBe('Guaranteed');
    // Upstream compares the per-resource sums over all containers, not each container on its own.
    const crossed = pod([
      { requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '2', memory: '1Gi' } },
      { requests: { cpu: '2', memory: '1Gi' }, limits: { cpu: '1', memory: '1Gi' } },
    ]);
    expect(qosClass(crossed)).toBe('Guaranteed');
  });
  it('Burstable otherwise', () => {
    expect(qosClass(pod([{ requests: { cpu: '100m' } }]))).toBe('Burstable');
    expect(qosClass(pod([{ requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '500m', memory: '128Mi' } }]))).toBe('Burstable');
    expect(qosClass(pod([{ limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '500m', memory: '1Gi' } }]))).toBe('Burstable');
    expect(qosClass(pod([{ limits: { cpu: '1', memory: '1Gi' } }, {}]))).toBe('Burstable');
    expect(qosClass(pod([{ limits: { memory: '1Gi' } }]))).toBe('Burstable');
  });
  it('init containers count', () => {
    const p = pod([{ limits: { cpu: '1', memory: '1Gi' } }]);
    p.spec!.initContainers = [{ name: 'init', resources: { requests: { cpu: '1' } } }];
    expect(qosClass(p)).toBe('Burstable');
  });
});

describe('resources', () => {
  it('cpu shares: milliCPU*1024/1000 with min 2 and max 262144', () => {
    expect(milliCPUToShares(0)).toBe(2);
    expect(milliCPUToShares(1)).toBe(2);
    expect(milliCPUToShares(100)).toBe(102);
    expect(milliCPUToShares(1000)).toBe(1024);
    expect(milliCPUToShares(1e9)).toBe(262144);
  });
  it('cfs quota: milliCPU*period/1000, at least 1000', () => {
    expect(milliCPUToQuota(0)).toBe(0);
    expect(milliCPUToQuota(1)).toBe(1000);
    expect(milliCPUToQuota(250)).toBe(25000);
    expect(milliCPUToQuota(2000)).toBe(200000);
  });
  it('oom_score_adj by QoS', () => {
    const cap = 8 * 2 ** 30;
    const g = pod([{ limits: { cpu: '1', memory: '1Gi' } }]);
    expect(containerOOMScoreAdj(g, g.spec!.containers[0]!, cap)).toBe(-997);
    const be = pod([{}]);
    expect(containerOOMScoreAdj(be, be.spec!.containers[0]!, cap)).toBe(1000);
    const b = pod([{ requests: { memory: '1Gi' } }]);
    expect(containerOOMScoreAdj(b, b.spec!.containers[0]!, cap)).toBe(1000 - Math.trunc(1000 / 8));
    const tiny = pod([{ requests: { memory: '1' } }]);
    expect(containerOOMScoreAdj(tiny, tiny.spec!.containers[0]!, cap)).toBe(999);
    const huge = pod([{ requests: { memory: '16Gi' } }]);
    expect(containerOOMScoreAdj(huge, huge.spec!.containers[0]!, cap)).toBe(3);
    const crit = pod([{}], { priorityClassName: 'system-node-critical' });
    expect(containerOOMScoreAdj(crit, crit.spec!.containers[0]!, cap)).toBe(-997);
  });
  it('maps requests/limits to CRI resources', () => {
    const p = pod([{ limits: { cpu: '500m', memory: '32Mi' }, requests: { cpu: '100m', memory: '16Mi' } }]);
    expect(containerResources(p, p.spec!.containers[0]!, { memoryCapacityBytes: 2 ** 30, pidsLimit: 1024 })).toEqual({
      cpuShares: 102,
      cpuPeriod: 100000,
      cpuQuota: 50000,
      memoryLimitInBytes: 32 * 2 ** 20,
      oomScoreAdj: 1000 - Math.trunc((1000 * 16) / 1024),
      pidsLimit: 1024,
    });
    const onlyLimit = pod([{ limits: { cpu: '2' } }]);
    expect(containerResources(onlyLimit, onlyLimit.spec!.containers[0]!, { memoryCapacityBytes: 1, cpuCFSQuota: false })).toEqual({
      cpuShares: 2048,
      oomScoreAdj: 999,
    });
  });
});

describe('security context', () => {
  const c = (sc?: V1Container['securityContext']): V1Container => ({ name: 'app', securityContext: sc });
  const p = (podSc?: NonNullable<V1Pod['spec']>['securityContext']): V1Pod => ({
    metadata: { name: 'web', namespace: 'app', uid: 'u1' },
    spec: { containers: [], securityContext: podSc, shareProcessNamespace: true },
  });

  it('refuses runAsNonRoot with a root image (upstream message)', () => {
    const err = (() => {
      try {
        verifyRunAsNonRoot(p({ runAsNonRoot: true }), c(), { user: '' });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(hasCode(err, 'CREATE_CONTAINER_CONFIG')).toBe(true);
    expect((err as Error).message).toBe('container has runAsNonRoot and image will run as root (pod: "web_app(u1)", container: app)');
    expect(() => verifyRunAsNonRoot(p(), c({ runAsNonRoot: true }), { user: '0:0' })).toThrow(/image will run as root/);
  });

  it('runAsNonRoot: non-numeric image user cannot be verified; runAsUser 0 breaks the policy; numeric non-root passes', () => {
    expect(() => verifyRunAsNonRoot(p({ runAsNonRoot: true }), c(), { user: 'nobody' })).toThrow(
      'container has runAsNonRoot and image has non-numeric user (nobody), cannot verify user is non-root (pod: "web_app(u1)", container: app)',
    );
    expect(() => verifyRunAsNonRoot(p({ runAsNonRoot: true, runAsUser: 0 }), c(), { user: '1000' })).toThrow(
      `container's runAsUser breaks non-root policy (pod: "web_app(u1)", container: app)`,
    );
    expect(() => verifyRunAsNonRoot(p({ runAsNonRoot: true }), c(), { user: '1000:1000' })).not.toThrow();
    expect(() => verifyRunAsNonRoot(p({ runAsNonRoot: true }), c({ runAsUser: 1000 }), { user: '' })).not.toThrow();
    expect(() => verifyRunAsNonRoot(p(), c({ runAsNonRoot: false }), { user: '' })).not.toThrow();
  });

  it('merges pod and container settings', () => {
    const sc = containerSecurityContext(
      p({ runAsUser: 1000, runAsGroup: 3000, fsGroup: 2000, supplementalGroups: [4000] }),
      c({ runAsUser: 1001, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { add: ['NET_ADMIN'], drop: ['ALL'] } }),
      { user: '' },
      { allowPrivileged: false },
    );
    expect(sc).toEqual({
      namespaceOptions: { network: 'pod', pid: 'pod', ipc: 'pod' },
      runAsUser: 1001,
      runAsGroup: 3000,
      readonlyRootfs: true,
      capabilities: { add: ['NET_ADMIN'], drop: ['ALL'] },
      noNewPrivs: true,
      supplementalGroups: [2000, 4000],
      maskedPaths: DEFAULT_MASKED_PATHS,
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    });
  });

  it('privileged only when allowed; privileged and Unmasked procMount clear masked paths', () => {
    expect(() => containerSecurityContext(p(), c({ privileged: true }), { user: '' }, { allowPrivileged: false })).toThrow(
      'pod with UID "u1" specified privileged container, but is disallowed',
    );
    const sc = containerSecurityContext(p(), c({ privileged: true }), { user: '' }, { allowPrivileged: true });
    expect(sc.privileged).toBe(true);
    expect(sc.maskedPaths).toEqual([]);
    expect(containerSecurityContext(p(), c({ procMount: 'Unmasked' }), { user: '' }, { allowPrivileged: false }).maskedPaths).toEqual([]);
  });
});

describe('sysctls', () => {
  const p = (sysctls: { name: string; value: string }[], hostNetwork = false): V1Pod => ({
    metadata: { name: 'x' },
    spec: { containers: [], hostNetwork, securityContext: { sysctls } },
  });
  it('allows the safe set and slash-separated names', () => {
    expect(podSysctls(p([{ name: 'net.ipv4.ip_local_port_range', value: '1024 65000' }, { name: 'kernel/shm_rmid_forced', value: '1' }]))).toEqual({
      'net.ipv4.ip_local_port_range': '1024 65000',
      'kernel.shm_rmid_forced': '1',
    });
  });
  it('rejects unsafe sysctls unless allowlisted, and net.* with hostNetwork', () => {
    expect(() => podSysctls(p([{ name: 'net.core.somaxconn', value: '1024' }]))).toThrow('forbidden sysctl: "net.core.somaxconn" not allowlisted');
    expect(podSysctls(p([{ name: 'net.core.somaxconn', value: '1024' }]), ['net.core.*'])).toEqual({ 'net.core.somaxconn': '1024' });
    expect(() => podSysctls(p([{ name: 'net.ipv4.tcp_syncookies', value: '1' }], true))).toThrow(/not allowed with host net/);
  });
});

describe('labels and annotations', () => {
  const base: V1Container = { name: 'web', image: 'img:1', ports: [{ containerPort: 80 }], lifecycle: { preStop: { exec: { command: ['x'] } } } };
  it('annotations carry restart count, termination path, ports, preStop, grace period', () => {
    const p: V1Pod = { metadata: { name: 'web', namespace: 'app', uid: 'u', labels: { a: 'b' } }, spec: { containers: [base], terminationGracePeriodSeconds: 5 } };
    expect(containerAnnotations(p, base, 3)).toEqual({
      'io.kubernetes.container.restartCount': '3',
      'io.kubernetes.container.terminationMessagePath': '/dev/termination-log',
      'io.kubernetes.container.terminationMessagePolicy': 'File',
      'io.kubernetes.pod.terminationGracePeriod': '5',
      'io.kubernetes.container.preStopHandler': '{"exec":{"command":["x"]}}',
      'io.kubernetes.container.ports': '[{"containerPort":80}]',
    });
    // The container hash is the pod workers' annotation (src/kubelet/pods/hash.ts): written once, by them.
    expect(containerAnnotations(p, base, 3)).not.toHaveProperty('io.kubernetes.container.hash');
    expect(sandboxLabels(p)).toMatchObject({ a: 'b', 'io.kubernetes.pod.name': 'web', 'io.kubernetes.pod.uid': 'u' });
  });
});

describe('namespace options', () => {
  it('maps hostNetwork/hostPID/hostIPC/shareProcessNamespace', () => {
    expect(podNamespaceOptions({ spec: { containers: [] } })).toEqual({ network: 'pod', pid: 'container', ipc: 'pod' });
    expect(podNamespaceOptions({ spec: { containers: [], shareProcessNamespace: true } }).pid).toBe('pod');
    expect(podNamespaceOptions({ spec: { containers: [], hostNetwork: true, hostPID: true, hostIPC: true, shareProcessNamespace: true } })).toEqual({
      network: 'node',
      pid: 'node',
      ipc: 'node',
    });
  });
});
