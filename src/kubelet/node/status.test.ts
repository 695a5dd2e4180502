import { describe, expect, it } from 'vitest';
import { kubeletSettings } from '../../config/defaults.js';
import { buildNodeStatus, initialNode, statusFingerprint, type NodeStatusInputs } from './status.js';
import { FAKE_IDENTITY, fakeReadings } from './testing.js';

function inputs(over: Partial<NodeStatusInputs> = {}): NodeStatusInputs {
  const k = kubeletSettings({ maxPods: 50, kubeReserved: { cpu: '500m', memory: '512Mi' }, systemReserved: { memory: '256Mi' } }, { nodeLabels: { tier: 'web' } });
  return {
    nodeName: 'worker-1',
    nodeIP: '192.0.2.10',
    identity: FAKE_IDENTITY,
    readings: fakeReadings(),
    settings: k,
    versions: { kubeletVersion: 'v1.30.0-nodelet', kubeProxyVersion: 'v1.30.0-nodelet', containerRuntimeVersion: 'docker://20.10.24' },
    conditions: [],
    kubeletPort: 10250,
    ...over,
  };
}

describe('node status', () => {
  it('reports capacity and allocatable = capacity - reserved - hard eviction', () => {
    const s = buildNodeStatus(inputs());
    expect(s.capacity).toEqual({ cpu: '4', memory: `${8 * 1024 * 1024}Ki`, pods: '50', 'ephemeral-storage': `${100 * 1024 * 1024}Ki`, 'hugepages-1Gi': '0', 'hugepages-2Mi': '0' });
    // memory: 8Gi - 512Mi - 256Mi - 100Mi; cpu: 4 - 0.5; storage: 100Gi - 10%
    expect(s.allocatable).toMatchObject({ cpu: '3500m', memory: `${(8192 - 512 - 256 - 100) * 1024}Ki`, pods: '50', 'ephemeral-storage': `${Math.floor(100 * 1024 * 1024 * 0.9)}Ki` });
  });

  it('reports addresses, nodeInfo and the kubelet endpoint', () => {
    const s = buildNodeStatus(inputs());
    expect(s.addresses).toEqual([{ type: 'InternalIP', address: '192.0.2.10' }, { type: 'Hostname', address: 'worker-1' }]);
    expect(s.nodeInfo).toEqual({
      machineID: 'm-1', systemUUID: 'u-1', bootID: 'b-1', kernelVersion: '6.1.0-test', osImage: 'Debian GNU/Linux 12 (bookworm)',
      containerRuntimeVersion: 'docker://20.10.24', kubeletVersion: 'v1.30.0-nodelet', kubeProxyVersion: 'v1.30.0-nodelet',
      operatingSystem: 'linux', architecture: 'amd64',
    });
    expect(s.daemonEndpoints?.kubeletEndpoint?.Port).toBe(10250);
    expect(buildNodeStatus(inputs({ nodeIP: undefined })).addresses).toEqual([{ type: 'Hostname', address: 'worker-1' }]);
  });

  it('registers with the well-known labels, --node-labels and taints', () => {
    const n = initialNode(inputs({ settings: { ...inputs().settings, registerWithTaints: [{ key: 'dedicated', value: 'x', effect: 'NoSchedule' }] } }));
    expect(n.metadata?.labels).toEqual({
      'beta.kubernetes.io/arch': 'amd64', 'beta.kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64',
      'kubernetes.io/hostname': 'worker-1', 'kubernetes.io/os': 'linux', tier: 'web',
    });
    expect(n.spec?.taints).toEqual([{ key: 'dedicated', value: 'x', effect: 'NoSchedule' }]);
  });

  it('fingerprint ignores heartbeat times only', () => {
    const c = (hb: string, status = 'True') => [{ type: 'Ready', status, reason: 'r', message: 'm', lastHeartbeatTime: new Date(hb), lastTransitionTime: new Date('2026-01-01T00:00:00Z') }];
    const a = statusFingerprint(buildNodeStatus(inputs({ conditions: c('2026-01-01T00:00:10Z') })));
    expect(statusFingerprint(buildNodeStatus(inputs({ conditions: c('2026-01-01T00:00:20Z') })))).toBe(a);
    expect(statusFingerprint(buildNodeStatus(inputs({ conditions: c('2026-01-01T00:00:20Z', 'False') })))).not.toBe(a);
  });
});
