/**
 * The cost side of the stats code: how many host reads one reading takes, and that requests reuse the housekeeping
 * reading while it is fresh (bench/stats-summary-vs-upstream.ts measures the effect at 100 pods).
 */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../util/clock.js';
import { readCgroup, type CgroupLayout } from './cgroup.js';
import { FakeStatsFs } from './fake.js';
import { fakeNode } from './fixture.js';
import { createStatsHandler } from './handler.js';
import type { StatsFs } from './fs.js';

const CG = '/sys/fs/cgroup';
const T0 = Date.UTC(2026, 0, 2, 3, 4, 5, 678);

/** Wraps a fake, counting reads and listings by path. */
function counting(fs: StatsFs): { fs: StatsFs; reads: string[]; dirs: string[] } {
  const reads: string[] = [];
  const dirs: string[] = [];
  return {
    reads,
    dirs,
    fs: {
      readFile: (p) => (reads.push(p), fs.readFile(p)),
      readDir: (p) => (dirs.push(p), fs.readDir(p)),
      statfs: (p) => fs.statfs(p),
      diskUsage: (p, n) => fs.diskUsage(p, n),
    },
  };
}

describe('readCgroup', () => {
  const cg = { cpuNanos: 5e9, memoryUsage: 64 << 20, inactiveFile: 1 << 20, rss: 8 << 20, pids: [1, 2] };

  it.each([1, 2] as const)('v%d: reads each file once, without a separate existence check', (version) => {
    const fake = new FakeStatsFs();
    if (version === 1) fake.setCgroupV1(CG, '/k/pod1/c1', cg);
    else fake.setCgroupV2(CG, '/k/pod1/c1', cg);
    const { fs, reads } = counting(fake);
    const s = readCgroup(fs, { version, root: CG }, '/k/pod1/c1');
    expect(s).toEqual({
      cpuUsageNanos: 5e9,
      memory: { usageBytes: 64 << 20, workingSetBytes: 63 << 20, rssBytes: 8 << 20, pageFaults: 0, majorPageFaults: 0, limitBytes: undefined },
      pids: 2,
    });
    expect(new Set(reads).size).toBe(reads.length);
    expect(reads.some((r) => r.endsWith('/cgroup.procs'))).toBe(false);
  });

  it.each([1, 2] as const)('v%d: undefined for a cgroup that is gone (one existence check)', (version) => {
    const { fs, reads } = counting(new FakeStatsFs());
    expect(readCgroup(fs, { version, root: CG }, '/k/gone')).toBeUndefined();
    expect(reads.filter((r) => r.endsWith('/cgroup.procs'))).toHaveLength(1);
  });

  it('v1: an existing cgroup without memory files still gives its CPU (as before: existence is the memory hierarchy\'s cgroup.procs)', () => {
    const fake = new FakeStatsFs().set(`${CG}/memory/k/c/cgroup.procs`, '').set(`${CG}/cpuacct/k/c/cpuacct.usage`, '7\n');
    expect(readCgroup(fake, { version: 1, root: CG }, '/k/c')).toEqual({ cpuUsageNanos: 7, memory: undefined, pids: undefined });
  });

  it('v1: reads cpuacct.usage from cpu,cpuacct when there is no separate cpuacct hierarchy', () => {
    const fake = new FakeStatsFs().set(`${CG}/memory/k/c/memory.usage_in_bytes`, '10\n').set(`${CG}/memory/k/c/memory.stat`, 'total_rss 1\n').set(`${CG}/cpu,cpuacct/k/c/cpuacct.usage`, '9\n');
    const layout: CgroupLayout = { version: 1, root: CG };
    expect(readCgroup(fake, layout, '/k/c')?.cpuUsageNanos).toBe(9);
  });
});

describe('one reading', () => {
  it.each([1, 2] as const)('v%d: a remembered pod cgroup costs no cgroup.procs read; volumes are listed once per TTL', async (version) => {
    const node = fakeNode({ version, podCount: 3, podCgroups: 'cgroupfs' });
    const c = counting(node.fs);
    const clock = new FakeClock(T0);
    const service = createStatsHandler({ nodeName: 'n', fs: c.fs, runtime: node.runtime, pods: node.pods, rootDir: '/var/lib/kubelet', clock, housekeepingIntervalMs: 0, kubepodsCgroup: '/nodelet-e2e/kubepods' });
    const first = await service.snapshot();
    expect(first.pods.map((p) => p.podCgroup)).toEqual([0, 1, 2].map((p) => `/nodelet-e2e/kubepods/besteffort/poduid-${p}`));
    c.reads.length = 0;
    c.dirs.length = 0;
    clock.advance(5000);
    const second = await service.snapshot();
    expect(second.pods.map((p) => p.podStats?.memory?.usageBytes)).toEqual([100 << 20, 100 << 20, 100 << 20]);
    expect(second.pods.every((p) => p.volumes.length === 1 && p.volumes[0]!.du?.bytes === 8192)).toBe(true);
    // cgroup.procs only to find each sandbox's process (its network namespace)
    expect(c.reads.filter((r) => r.endsWith('/cgroup.procs'))).toHaveLength(3);
    expect(c.dirs.filter((d) => d.includes('/volumes'))).toEqual([]);
    clock.advance(60_000);
    await service.snapshot();
    expect(c.dirs.filter((d) => d.endsWith('/volumes'))).toHaveLength(3);
  });

  it('a pod cgroup that vanished is looked up again; the pod falls back to its sandbox and containers', async () => {
    const node = fakeNode({ version: 1, podCount: 1, podCgroups: 'cgroupfs' });
    const c = counting(node.fs);
    const clock = new FakeClock(T0);
    const service = createStatsHandler({ nodeName: 'n', fs: c.fs, runtime: node.runtime, pods: node.pods, rootDir: '/var/lib/kubelet', clock, housekeepingIntervalMs: 0, kubepodsCgroup: '/nodelet-e2e/kubepods' });
    expect((await service.snapshot()).pods[0]!.podCgroup).toBeDefined();
    // the pod cgroup's own files go (its containers' stay)
    for (const h of ['cpuacct', 'memory', 'pids']) {
      for (const k of [...node.fs.files.keys()]) if (k.startsWith(`${CG}/${h}/nodelet-e2e/kubepods/besteffort/poduid-0/`) && k.split('/').length === 10) node.fs.files.delete(k);
    }
    c.reads.length = 0;
    clock.advance(5000);
    const p = (await service.snapshot()).pods[0]!;
    expect(p.podStats).toBeUndefined();
    expect(p.sandboxStats?.cpuUsageNanos).toBe(1e9);
    expect(c.reads).toContain(`${CG}/memory/nodelet-e2e/kubepods/besteffort/poduid-0/cgroup.procs`); // verified, looked up again
  });
});

describe('requests and housekeeping', () => {
  it('answers from the housekeeping reading while it is younger than 1.5 × the interval, then reads again', async () => {
    const node = fakeNode({ version: 2, podCount: 2 });
    let lists = 0;
    const list = node.runtime.listPodSandboxes.bind(node.runtime);
    node.runtime.listPodSandboxes = (f) => (lists++, list(f));
    const clock = new FakeClock(T0);
    const service = createStatsHandler({ nodeName: 'n', fs: node.fs, runtime: node.runtime, pods: node.pods, rootDir: '/var/lib/kubelet', clock, housekeepingIntervalMs: 10_000 });
    const get = async (path: string): Promise<string> => {
      let body = '';
      const res = {
        writeHead: () => res,
        end: (b: string) => (body = b),
      };
      service.handle({ method: 'GET', url: path } as never, res as never, path);
      await new Promise((r) => setTimeout(r, 5));
      return body;
    };
    service.start();
    await new Promise((r) => setTimeout(r, 5));
    expect(lists).toBe(1);
    clock.advance(4000); // not a housekeeping tick yet
    const a = JSON.parse(await get('/stats/summary')) as { node: { cpu: { time: string } } };
    await get('/metrics/resource');
    expect(lists).toBe(1); // both from the housekeeping reading
    expect(a.node.cpu.time).toBe(new Date(Math.floor(T0 / 1000) * 1000).toISOString().replace('.000Z', 'Z'));
    service.stop(); // no more ticks: the reading ages
    clock.advance(10_000);
    await get('/stats/summary');
    expect(lists).toBe(1); // 14 s old: a late tick does not make requests collect
    clock.advance(1000);
    await get('/stats/summary');
    expect(lists).toBe(2); // 15 s old: a new reading
  });

  it('maxSnapshotAgeMs 0 reads on every request', async () => {
    const node = fakeNode({ version: 1, podCount: 1 });
    let lists = 0;
    const list = node.runtime.listPodSandboxes.bind(node.runtime);
    node.runtime.listPodSandboxes = (f) => (lists++, list(f));
    const service = createStatsHandler({ nodeName: 'n', fs: node.fs, runtime: node.runtime, pods: node.pods, rootDir: '/var/lib/kubelet', clock: new FakeClock(T0), housekeepingIntervalMs: 10_000, maxSnapshotAgeMs: 0 });
    await service.snapshot();
    const res = { writeHead: () => res, end: () => undefined };
    service.handle({ method: 'GET', url: '/stats/summary' } as never, res as never, '/stats/summary');
    await new Promise((r) => setTimeout(r, 5));
    expect(lists).toBe(2);
  });
});
