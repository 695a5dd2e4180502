import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../util/logger.js';
import { FakeCgroups } from './cgroups.js';
import { growing, PodCgroupManager } from './pod-cgroups.js';

const MI = 1024 * 1024;
const pod = (cpu: string, mem: string, req = '100m'): V1Pod => ({
  metadata: { uid: 'u1' },
  spec: { containers: [{ name: 'c', resources: { requests: { cpu: req, memory: '16Mi' }, limits: { cpu, memory: mem } } }] },
});

describe('pod cgroup under in-place resize', () => {
  it('growing() keeps only what grows (unlimited is the largest)', () => {
    expect(growing({ cpuShares: 102, cpuQuota: 20_000, cpuPeriod: 100_000, memoryLimit: 64 * MI }, { cpuShares: 51, cpuQuota: 40_000, cpuPeriod: 100_000, memoryLimit: 32 * MI }))
      .toEqual({ cpuQuota: 40_000, cpuPeriod: 100_000 });
    expect(growing({ cpuQuota: 20_000, memoryLimit: 64 * MI }, { cpuQuota: -1, memoryLimit: -1 })).toEqual({ cpuQuota: -1, memoryLimit: -1 });
    expect(growing({ cpuQuota: -1 }, { cpuQuota: 50_000 })).toEqual({});
  });

  it('ensurePod with growOnly raises the limits that grow and leaves shrinking ones for the full ensure', async () => {
    const cgroups = new FakeCgroups(1);
    const m = new PodCgroupManager({ cgroups, driver: 'cgroupfs', cgroupRoot: '/', kubepods: { cpuMilli: 4000, memoryBytes: 4096 * MI }, cpuCFSQuota: true, podPidsLimit: -1, logger: silentLogger() });
    await m.start();
    const path = m.podCgroupPath(pod('200m', '64Mi'));
    await m.ensurePod(pod('200m', '64Mi'));
    await m.ensurePod(pod('400m', '32Mi', '50m'), { growOnly: true });
    expect(await cgroups.read(path)).toMatchObject({ cpuQuota: 40_000, memoryLimit: 64 * MI, cpuShares: 102 });
    await m.ensurePod(pod('400m', '32Mi', '50m'));
    expect(await cgroups.read(path)).toMatchObject({ cpuQuota: 40_000, memoryLimit: 32 * MI, cpuShares: 51 });
  });
});
