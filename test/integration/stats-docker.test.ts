/**
 * Integration (issue 13): the stats handler reads a real Docker container's cgroup (this host's cgroup version,
 * Docker's cgroupfs paths) and network namespace through the real host view. The runtime is a stub listing the one
 * container, so this checks the kernel side; the daemon's own wiring is covered by test/e2e/kubelet-stats.test.ts.
 */
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Container, PodSandbox } from '../../src/cri/types.js';
import { createHostStatsFs, createStatsHandler, type StatsService } from '../../src/kubelet/stats/index.js';
import { RealClock } from '../../src/util/clock.js';

const docker = new Docker();
const NAME = `nl3-stats-${process.pid}`;
let id = '';
let service: StatsService;

beforeAll(async () => {
  const c = await docker.createContainer({
    name: NAME,
    Image: 'localhost/nodelet/testbox:1.0',
    // burn a little CPU, hold ~8 MiB in a shell variable, then idle
    Cmd: ['sh', '-c', 'i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done; x=$(head -c 8388608 /dev/zero | tr "\\0" a); sleep 3600'],
    HostConfig: { NetworkMode: 'bridge', AutoRemove: false },
    Labels: { 'io.nodelet.test': 'nl3' },
  });
  id = c.id;
  await c.start();
  const now = Date.now() * 1e6;
  const sandbox: PodSandbox = { id, metadata: { name: 'p', namespace: 'nl3', uid: 'u1', attempt: 0 }, state: 'ready', createdAt: now, labels: {}, annotations: {} };
  const ctr: Container = { id, podSandboxId: id, metadata: { name: 'main', attempt: 0 }, image: 'localhost/nodelet/testbox:1.0', imageRef: '', state: 'running', createdAt: now, labels: {}, annotations: {} };
  service = createStatsHandler({
    nodeName: 'nl3-int',
    fs: createHostStatsFs(),
    runtime: { listPodSandboxes: () => Promise.resolve([sandbox]), listContainers: () => Promise.resolve([ctr]), imageFsInfo: () => Promise.resolve({ mountpoint: '/var/lib/docker', usedBytes: 1 }) },
    pods: { pods: () => [], findPod: () => undefined, resolveContainer: () => Promise.resolve(undefined) },
    rootDir: '/var/lib',
    clock: new RealClock(),
    housekeepingIntervalMs: 0,
  });
}, 60_000);

afterAll(async () => {
  if (id) await docker.getContainer(id).remove({ force: true }).catch(() => undefined);
});

describe('stats from a real Docker container', () => {
  it('reads CPU, memory, processes and the pod network namespace from the kernel', async () => {
    // Wait for the container to have burnt its CPU and filled its 8 MiB variable (it then sleeps) instead of a fixed 1.5 s.
    await vi.waitFor(async () => {
      const r = await docker.getContainer(id).top({ ps_args: '-o pid,args' });
      // The sleep's own process (the shell's command line mentions it from the start).
      expect((r.Processes as string[][] | undefined)?.map((p) => p[1])).toContain('sleep 3600');
    }, { timeout: 20_000, interval: 100 });
    const first = await service.snapshot();
    const p = first.pods[0]!;
    const c = p.containers[0]!;
    expect(c.cgroup).toMatch(new RegExp(`${id}`));
    expect(c.stats?.cpuUsageNanos).toBeGreaterThan(1e6);
    // Docker's own stats API reads the same cgroup through its own code: the two must agree.
    const ds = (await docker.getContainer(id).stats({ stream: false })) as unknown as { cpu_stats: { cpu_usage: { total_usage: number } }; memory_stats: { usage: number } };
    expect(c.stats!.cpuUsageNanos!).toBeLessThanOrEqual(ds.cpu_stats.cpu_usage.total_usage);
    expect(c.stats!.cpuUsageNanos!).toBeGreaterThan(ds.cpu_stats.cpu_usage.total_usage * 0.5);
    expect(c.stats?.memory?.usageBytes).toBeGreaterThan(100 * 1024);
    expect(Math.abs(c.stats!.memory!.usageBytes - ds.memory_stats.usage)).toBeLessThan(16 * 1024 * 1024);
    expect(c.stats?.memory?.workingSetBytes).toBeGreaterThan(0);
    expect(c.stats?.memory!.workingSetBytes).toBeLessThanOrEqual(c.stats!.memory!.usageBytes);
    expect(c.stats?.pids).toBeGreaterThanOrEqual(1);
    expect(p.network?.map((i) => i.name)).toContain('eth0');
    expect(first.node.stats.cpuUsageNanos).toBeGreaterThan(c.stats!.cpuUsageNanos!);
    expect(first.node.stats.memory?.workingSetBytes).toBeGreaterThan(c.stats!.memory!.workingSetBytes);
    expect(first.node.rootFs?.capacityBytes).toBeGreaterThan(0);
    // A rate needs two readings some time apart: poll until the node's CPU rate is there instead of sleeping 1.2 s.
    await vi.waitFor(async () => {
      const second = await service.snapshot();
      expect(second.node.nanoCores).toBeGreaterThan(0);
      expect(second.pods[0]!.containers[0]!.nanoCores).toBeGreaterThanOrEqual(0);
    }, { timeout: 10_000, interval: 200 });
  }, 30_000);
});
