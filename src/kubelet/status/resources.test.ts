import type { V1ContainerStatus } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { ContainerRecord } from '../podstate/records.js';
import { formatBytes, quotaToMilliCPU, sharesToMilliCPU, statusResources } from './resources.js';

const MI = 1024 * 1024;
const rec = (over: Partial<ContainerRecord> = {}): ContainerRecord => ({
  id: 'abc', name: 'c', sandboxId: 'sb', state: 'running', exitCode: 0, reason: '', message: '', createdAt: 1, startedAt: 1, finishedAt: 0,
  restartCount: 0, hash: '', image: 'x', imageRef: '', ...over,
});
const alloc = { requests: { cpu: '150m', memory: '32Mi' }, limits: { cpu: '400m', memory: '128Mi' } };

describe('container status resources', () => {
  it('converts like upstream: shares round up to millicores, quota over period, bytes as binary SI', () => {
    expect([sharesToMilliCPU(153), sharesToMilliCPU(102), sharesToMilliCPU(2), sharesToMilliCPU(1)]).toEqual([150, 100, 2, 0]);
    expect([quotaToMilliCPU(40_000, 100_000), quotaToMilliCPU(-1, 100_000)]).toEqual([400, 0]);
    expect([formatBytes(64 * MI), formatBytes(1536 * 1024), formatBytes(100_000_000), formatBytes(1024 ** 3)]).toEqual(['64Mi', '1536Ki', '100000000', '1Gi']);
  });

  it('reports what the runtime runs with for a running container (mid-resize: the old values)', () => {
    const running = rec({ resources: { cpuShares: 102, cpuPeriod: 100_000, cpuQuota: 20_000, memoryLimitInBytes: 64 * MI } });
    expect(statusResources(alloc, running, undefined, 'docker://abc')).toEqual({
      requests: { cpu: '100m', memory: '32Mi' },
      limits: { cpu: '200m', memory: '64Mi' },
    });
  });

  it('uses the allocation for a container that does not run, and none without an allocation or a container', () => {
    expect(statusResources(alloc, rec({ state: 'exited' }), undefined, 'docker://abc')).toEqual(alloc);
    expect(statusResources(undefined, rec(), undefined, 'docker://abc')).toBeUndefined();
    expect(statusResources(alloc, undefined, undefined, '')).toBeUndefined();
    expect(statusResources({}, rec({ resources: { cpuShares: 2 } }), undefined, 'docker://abc')).toEqual({});
  });

  it('keeps the values reported before for the same running container when the runtime reports none', () => {
    const old: V1ContainerStatus = {
      name: 'c', image: 'x', imageID: '', ready: true, restartCount: 0, containerID: 'docker://abc', state: { running: {} },
      resources: { requests: { cpu: '100m', memory: '32Mi' }, limits: { cpu: '200m', memory: '64Mi' } },
    };
    expect(statusResources(alloc, rec(), old, 'docker://abc')).toEqual(old.resources);
    // Another container instance: the allocation.
    expect(statusResources(alloc, rec(), old, 'docker://other')).toEqual(alloc);
  });

  it('keeps the allocated value when both are at the minimum (no 2m/10m noise)', () => {
    const small = { requests: { cpu: '1m' }, limits: { cpu: '5m' } };
    expect(statusResources(small, rec({ resources: { cpuShares: 2, cpuQuota: 1000, cpuPeriod: 100_000 } }), undefined, 'x')).toEqual(small);
  });
});
