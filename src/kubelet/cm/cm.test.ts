import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../util/logger.js';
import { FakeCgroups } from './cgroups.js';
import { runCgroupsContract } from './cgroups-contract.js';
import { cgroupPath, podCgroupName, qosCgroupName, runtimeCgroupParent } from './names.js';
import { PodCgroupManager, podUIDFromCgroup } from './pod-cgroups.js';
import { burstableShares, podCgroupResources, sharesToWeight } from './resources.js';

const UID = '1b2c3d4e-0000-4000-8000-00000000abcd';
const ctr = (name: string, res?: V1Container['resources'], extra: Partial<V1Container> = {}): V1Container => ({ name, image: 'x', resources: res, ...extra });
const pod = (containers: V1Container[], init: V1Container[] = [], uid = UID): V1Pod => ({ metadata: { name: 'p', namespace: 'ns', uid }, spec: { containers, initContainers: init } });
const guaranteed = pod([ctr('a', { requests: { cpu: '500m', memory: '64Mi' }, limits: { cpu: '500m', memory: '64Mi' } })]);
const burstable = pod([ctr('a', { requests: { cpu: '250m' } }), ctr('b', { requests: { cpu: '250m' }, limits: { memory: '32Mi' } })]);
const bestEffort = pod([ctr('a')]);

describe('cgroup names', () => {
  it('renders cgroupfs paths and systemd slices as upstream', () => {
    expect(cgroupPath(podCgroupName([], 'Burstable', UID), 'cgroupfs')).toBe(`/kubepods/burstable/pod${UID}`);
    expect(cgroupPath(podCgroupName([], 'Guaranteed', UID), 'cgroupfs')).toBe(`/kubepods/pod${UID}`);
    expect(cgroupPath(qosCgroupName(['nl'], 'BestEffort'), 'cgroupfs')).toBe('/nl/kubepods/besteffort');
    const u = UID.replaceAll('-', '_');
    expect(cgroupPath(podCgroupName([], 'Burstable', UID), 'systemd')).toBe(`/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${u}.slice`);
    expect(runtimeCgroupParent(podCgroupName([], 'BestEffort', UID), 'systemd')).toBe(`kubepods-besteffort-pod${u}.slice`);
    expect(podUIDFromCgroup(`pod${UID}`)).toBe(UID);
    expect(podUIDFromCgroup(`kubepods-burstable-pod${u}.slice`)).toBe(UID);
    expect(podUIDFromCgroup('burstable')).toBeUndefined();
  });
});

describe('pod cgroup resources', () => {
  it('limits a Guaranteed pod to the sum of its containers', () => {
    expect(podCgroupResources(guaranteed, { cpuCFSQuota: true, pidsLimit: -1 })).toEqual({ cpuShares: 512, cpuPeriod: 100000, cpuQuota: 50000, memoryLimit: 64 * 2 ** 20, pidsLimit: -1 });
  });
  it('leaves a Burstable pod unlimited where any container is, and BestEffort at minimum shares', () => {
    expect(podCgroupResources(burstable, { cpuCFSQuota: true, pidsLimit: 100 })).toEqual({ cpuShares: 512, cpuPeriod: 100000, cpuQuota: -1, memoryLimit: -1, pidsLimit: 100 });
    expect(podCgroupResources(bestEffort, { cpuCFSQuota: true, pidsLimit: -1 })).toEqual({ cpuShares: 2, cpuQuota: -1, memoryLimit: -1, pidsLimit: -1 });
  });
  it('counts init containers as the max with the sum, sidecars on top, and the overhead', () => {
    const p = pod(
      [ctr('a', { requests: { cpu: '100m', memory: '10Mi' }, limits: { cpu: '100m', memory: '10Mi' } })],
      [
        ctr('init', { requests: { cpu: '1', memory: '100Mi' }, limits: { cpu: '1', memory: '100Mi' } }),
        ctr('side', { requests: { cpu: '200m', memory: '20Mi' }, limits: { cpu: '200m', memory: '20Mi' } }, { restartPolicy: 'Always' }),
      ],
    );
    p.spec!.overhead = { cpu: '50m', memory: '5Mi' };
    const r = podCgroupResources(p, { cpuCFSQuota: true, pidsLimit: -1 });
    expect(r.cpuShares).toBe(Math.floor((1050 * 1024) / 1000));
    expect(r.memoryLimit).toBe(105 * 2 ** 20);
    expect(r.cpuQuota).toBe(105000);
  });
  it('sums burstable requests for the QoS cgroup; converts shares to weight as runc', () => {
    expect(burstableShares([guaranteed, burstable, bestEffort])).toBe(512);
    expect(burstableShares([])).toBe(2);
    expect(sharesToWeight(2)).toBe(1);
    expect(sharesToWeight(1024)).toBe(39);
    expect(sharesToWeight(262144)).toBe(10000);
  });
});

describe('PodCgroupManager (FakeCgroups)', () => {
  const make = () => {
    const cgroups = new FakeCgroups();
    const m = new PodCgroupManager({ cgroups, driver: 'cgroupfs', cgroupRoot: '/', kubepods: { cpuMilli: 1500, memoryBytes: 1e9 }, cpuCFSQuota: true, podPidsLimit: -1, logger: silentLogger() });
    return { cgroups, m };
  };

  it('creates kubepods with allocatable and the QoS cgroups', async () => {
    const { cgroups, m } = make();
    await m.start();
    expect(cgroups.paths()).toEqual(['/kubepods', '/kubepods/besteffort', '/kubepods/burstable']);
    expect(await cgroups.read('/kubepods')).toEqual({ cpuShares: 1536, memoryLimit: 1e9 });
  });

  it('creates the pod cgroup before the sandbox, keeps the burstable shares in step, removes it with the pod', async () => {
    const { cgroups, m } = make();
    await m.start();
    expect(await m.ensurePod(burstable)).toBe(`/kubepods/burstable/pod${UID}`);
    expect((await cgroups.read('/kubepods/burstable'))?.cpuShares).toBe(512);
    expect(await m.ensurePod(guaranteed)).toBe(`/kubepods/pod${UID}`);
    expect(await m.removePod(UID)).toBe(true);
    expect((await cgroups.read('/kubepods/burstable'))?.cpuShares).toBe(2);
    expect(cgroups.paths()).not.toContain(`/kubepods/pod${UID}`);
  });

  it('removes orphaned pod cgroups only, and keeps busy ones for a later try', async () => {
    const { cgroups, m } = make();
    await m.start();
    const other = 'aaaaaaaa-0000-4000-8000-000000000001';
    await m.ensurePod(bestEffort);
    await m.ensurePod(pod([ctr('a')], [], other));
    cgroups.busy.add(`/kubepods/besteffort/pod${other}`);
    expect(await m.cleanupOrphans(new Set([UID]))).toEqual([]);
    cgroups.busy.clear();
    expect(await m.cleanupOrphans(new Set([UID]))).toEqual([other]);
    expect(cgroups.paths()).toContain(`/kubepods/besteffort/pod${UID}`);
  });

  it('fails the pod when a cgroup cannot be written (never runs it unconstrained)', async () => {
    const { cgroups, m } = make();
    cgroups.failWrites = true;
    await expect(m.ensurePod(guaranteed)).rejects.toMatchObject({ code: 'CGROUP_FAILED' });
  });
});

runCgroupsContract('FakeCgroups', async () => new FakeCgroups(), '/contract');
