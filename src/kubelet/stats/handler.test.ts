import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../util/clock.js';
import { createStatsHandler, type StatsService } from './handler.js';
import { fakeNode, type FakeNode } from './fixture.js';
import type { Summary } from './summary.js';

let server: Server | undefined;
let service: StatsService | undefined;
afterEach(async () => {
  service?.stop();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
});

const T0 = Date.UTC(2026, 0, 2, 3, 4, 5, 678);

async function start(node: FakeNode, clock: FakeClock, version: 1 | 2): Promise<(path: string, method?: string) => Promise<{ status: number; type: string; body: string }>> {
  service = createStatsHandler({ nodeName: 'nl3-node', fs: node.fs, runtime: node.runtime, pods: node.pods, rootDir: '/var/lib/kubelet', clock, housekeepingIntervalMs: 0, naming: 'docker' });
  expect(service).toBeDefined();
  void version;
  server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (!service!.handle(req, res, path)) {
      res.writeHead(404);
      res.end('404 page not found\n');
    }
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  return async (path, method = 'GET') => {
    const r = await fetch(`http://127.0.0.1:${port}${path}`, { method });
    return { status: r.status, type: r.headers.get('content-type') ?? '', body: await r.text() };
  };
}

const MB = 1024 * 1024;

describe.each([1, 2] as const)('stats on cgroup v%d', (version) => {
  it('serves the Summary API with node, pod, container, network, volume and ephemeral-storage stats', async () => {
    const node = fakeNode({ version, podCount: 2, containersPerPod: 2 });
    const clock = new FakeClock(T0);
    const get = await start(node, clock, version);
    const r = await get('/stats/summary');
    expect(r.status).toBe(200);
    expect(r.type).toBe('application/json');
    const s = JSON.parse(r.body) as Summary;
    expect(s.node.nodeName).toBe('nl3-node');
    expect(s.node.startTime).toBe('2026-01-01T00:00:00Z'); // btime
    expect(s.node.cpu).toEqual({ time: '2026-01-02T03:04:05Z', usageCoreNanoSeconds: 500e9 }); // no rate yet
    if (version === 1) {
      expect(s.node.memory).toMatchObject({ usageBytes: 4 * 1024 ** 3, workingSetBytes: 3 * 1024 ** 3, availableBytes: 16384000 * 1024 - 3 * 1024 ** 3, pageFaults: 1000, majorPageFaults: 10 });
    } else {
      // v2 root: /proc/meminfo (usage = MemTotal − MemFree, working set − Inactive(file))
      expect(s.node.memory).toMatchObject({ usageBytes: 8192000 * 1024, workingSetBytes: 7168000 * 1024, availableBytes: 9216000 * 1024, rssBytes: 2048000 * 1024 });
    }
    expect(s.node.network).toMatchObject({ name: '', interfaces: [{ name: 'ens3', rxBytes: 1999, txBytes: 2999, rxErrors: 1, txErrors: 3 }] });
    expect(s.node.fs).toMatchObject({ capacityBytes: 100 * 1024 ** 3, availableBytes: 60 * 1024 ** 3, usedBytes: 40 * 1024 ** 3, inodes: 1_000_000, inodesFree: 900_000, inodesUsed: 100_000 });
    expect(s.node.runtime?.imageFs).toMatchObject({ capacityBytes: 200 * 1024 ** 3, usedBytes: 3 * 1024 ** 3 });
    expect(s.node.rlimit).toEqual({ time: '2026-01-02T03:04:05Z', maxpid: 4194304, curproc: 345 });
    expect(s.node.systemContainers?.map((c) => c.name)).toEqual(['kubelet', 'pods']);
    expect(s.node.systemContainers?.[0]?.memory?.usageBytes).toBe(80 * MB);
    expect(s.pods.map((p) => p.podRef)).toEqual([
      { name: 'pod-0', namespace: 'ns1', uid: 'uid-0' },
      { name: 'pod-1', namespace: 'ns1', uid: 'uid-1' },
    ]);
    const p1 = s.pods[1]!;
    expect(p1.startTime).toBe('2026-01-01T00:00:01Z');
    expect(p1.containers.map((c) => c.name)).toEqual(['ctr-0', 'ctr-1']);
    const c0 = p1.containers[0]!;
    expect(c0.cpu).toEqual({ time: '2026-01-02T03:04:05Z', usageCoreNanoSeconds: 2e9 });
    expect(c0.memory).toEqual({ time: '2026-01-02T03:04:05Z', usageBytes: 11 * MB, workingSetBytes: 10 * MB, rssBytes: 5 * MB, pageFaults: 100, majorPageFaults: 2 });
    expect(c0.logs).toMatchObject({ usedBytes: 4096, inodesUsed: 2, capacityBytes: 100 * 1024 ** 3 });
    expect(c0.rootfs).toMatchObject({ capacityBytes: 200 * 1024 ** 3 });
    // pod = sandbox + containers
    expect(p1.cpu?.usageCoreNanoSeconds).toBe(6e9);
    expect(p1.memory?.workingSetBytes).toBe(30 * MB);
    expect(p1.network).toMatchObject({ name: 'eth0', rxBytes: 1001, txBytes: 2001, rxErrors: 1, txErrors: 3 });
    expect(p1.network?.interfaces).toHaveLength(1); // lo left out
    expect(p1.volume).toEqual([expect.objectContaining({ name: 'cache', usedBytes: 8192, inodesUsed: 3 })]);
    expect(p1['ephemeral-storage']).toMatchObject({ usedBytes: 8192 + 8192, inodesUsed: 3 + 5 });
    expect(p1.process_stats).toEqual({ process_count: 3 });
  });

  it('reports usageNanoCores from two readings at least a second apart', async () => {
    const node = fakeNode({ version, podCount: 1 });
    const clock = new FakeClock(T0);
    const get = await start(node, clock, version);
    await get('/stats/summary');
    clock.advance(10_000);
    node.burnCpu(5e9); // 0.5 core over 10 s
    const s = JSON.parse((await get('/stats/summary')).body) as Summary;
    expect(s.pods[0]!.containers[0]!.cpu?.usageNanoCores).toBe(500_000_000);
    expect(s.pods[0]!.cpu?.usageNanoCores).toBe(1_000_000_000); // sandbox + container
    expect(s.node.cpu?.usageNanoCores).toBe(500_000_000);
    // A reading 100 ms later keeps the last rate rather than a noisy one.
    clock.advance(100);
    node.burnCpu(1e9);
    const s2 = JSON.parse((await get('/stats/summary')).body) as Summary;
    expect(s2.pods[0]!.containers[0]!.cpu?.usageNanoCores).toBe(500_000_000);
  });
});

describe('stats endpoints', () => {
  it('only_cpu_and_memory=true keeps CPU and memory only', async () => {
    const node = fakeNode({ version: 1, podCount: 1 });
    const get = await start(node, new FakeClock(T0), 1);
    const s = JSON.parse((await get('/stats/summary?only_cpu_and_memory=true')).body) as Summary;
    expect(Object.keys(s.node).sort()).toEqual(['cpu', 'memory', 'nodeName', 'startTime', 'systemContainers']);
    expect(Object.keys(s.pods[0]!).sort()).toEqual(['containers', 'cpu', 'memory', 'podRef', 'startTime']);
    expect(Object.keys(s.pods[0]!.containers[0]!).sort()).toEqual(['cpu', 'memory', 'name', 'startTime']);
  });

  it('/metrics/resource prints upstream families, labels and timestamps', async () => {
    const node = fakeNode({ version: 1, podCount: 1 });
    const get = await start(node, new FakeClock(T0), 1);
    const r = await get('/metrics/resource');
    expect(r.type).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(r.body).toBe(
      [
        '# HELP container_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the container in core-seconds',
        '# TYPE container_cpu_usage_seconds_total counter',
        `container_cpu_usage_seconds_total{container="ctr-0",namespace="ns1",pod="pod-0"} 1 ${T0}`,
        '# HELP container_memory_working_set_bytes [STABLE] Current working set of the container in bytes',
        '# TYPE container_memory_working_set_bytes gauge',
        `container_memory_working_set_bytes{container="ctr-0",namespace="ns1",pod="pod-0"} 9.437184e+06 ${T0}`,
        '# HELP container_start_time_seconds [STABLE] Start time of the container since unix epoch in seconds',
        '# TYPE container_start_time_seconds gauge',
        'container_start_time_seconds{container="ctr-0",namespace="ns1",pod="pod-0"} 1.7672256005e+09',
        '# HELP node_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the node in core-seconds',
        '# TYPE node_cpu_usage_seconds_total counter',
        `node_cpu_usage_seconds_total 500 ${T0}`,
        '# HELP node_memory_working_set_bytes [STABLE] Current working set of the node in bytes',
        '# TYPE node_memory_working_set_bytes gauge',
        `node_memory_working_set_bytes 3.221225472e+09 ${T0}`,
        '# HELP pod_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the pod in core-seconds',
        '# TYPE pod_cpu_usage_seconds_total counter',
        `pod_cpu_usage_seconds_total{namespace="ns1",pod="pod-0"} 2 ${T0}`,
        '# HELP pod_memory_working_set_bytes [STABLE] Current working set of the pod in bytes',
        '# TYPE pod_memory_working_set_bytes gauge',
        `pod_memory_working_set_bytes{namespace="ns1",pod="pod-0"} 1.8874368e+07 ${T0}`,
        '# HELP resource_scrape_error [STABLE] 1 if there was an error while getting container metrics, 0 otherwise',
        '# TYPE resource_scrape_error gauge',
        'resource_scrape_error 0',
        '',
      ].join('\n'),
    );
  });

  it('/metrics/resource reports resource_scrape_error 1 when the runtime cannot list', async () => {
    const node = fakeNode({ version: 1, podCount: 1 });
    node.runtime.listContainers = () => Promise.reject(new Error('runtime down'));
    const get = await start(node, new FakeClock(T0), 1);
    const r = await get('/metrics/resource');
    expect(r.status).toBe(200);
    expect(r.body).toContain('resource_scrape_error 1');
    expect(r.body).not.toContain('container_cpu_usage_seconds_total{');
  });

  it('/metrics/cadvisor uses cAdvisor names and labels for the machine, sandboxes and containers', async () => {
    const node = fakeNode({ version: 1, podCount: 1 });
    const get = await start(node, new FakeClock(T0), 1);
    const body = (await get('/metrics/cadvisor')).body;
    const sb = node.runtime.sandboxes[0]!.id;
    const ctr = node.runtime.containers[0]!.id;
    expect(body).toContain('# HELP container_cpu_usage_seconds_total Cumulative cpu time consumed in seconds.\n# TYPE container_cpu_usage_seconds_total counter\n');
    expect(body).toContain(`container_cpu_usage_seconds_total{container="",cpu="total",id="/",image="",name="",namespace="",pod=""} 500 ${T0}`);
    expect(body).toContain(`container_cpu_usage_seconds_total{container="ctr-0",cpu="total",id="/docker/${ctr}",image="localhost/nodelet/testbox:1.0",name="k8s_ctr-0_pod-0_ns1_uid-0_0",namespace="ns1",pod="pod-0"} 1 ${T0}`);
    expect(body).toContain(`container_memory_working_set_bytes{container="POD",id="/docker/${sb}",image="",name="k8s_POD_pod-0_ns1_uid-0_0",namespace="ns1",pod="pod-0"} 9.437184e+06 ${T0}`);
    expect(body).toContain(`container_network_receive_bytes_total{container="POD",id="/docker/${sb}",image="",interface="eth0",name="k8s_POD_pod-0_ns1_uid-0_0",namespace="ns1",pod="pod-0"} 1000 ${T0}`);
    expect(body).toContain(`container_fs_usage_bytes{container="",device="/dev/vda1",id="/",image="",name="",namespace="",pod=""} 4.294967296e+10 ${T0}`);
    expect(body).toContain(`container_memory_usage_bytes{container="ctr-0",`);
  });

  it('leaves out usage of a container whose cgroup vanished, without failing', async () => {
    const node = fakeNode({ version: 1, podCount: 1 });
    const get = await start(node, new FakeClock(T0), 1);
    const id = node.runtime.containers[0]!.id;
    node.fs.removeTree(`/sys/fs/cgroup/cpuacct/docker/${id}`);
    node.fs.removeTree(`/sys/fs/cgroup/memory/docker/${id}`);
    const s = JSON.parse((await get('/stats/summary')).body) as Summary;
    expect(s.pods[0]!.containers[0]!.cpu).toBeUndefined();
    expect(s.pods[0]!.containers[0]!.memory).toBeUndefined();
    expect(s.pods[0]!.cpu?.usageCoreNanoSeconds).toBe(1e9); // the sandbox only
  });

  it('skips not-ready sandboxes and exited containers', async () => {
    const node = fakeNode({ version: 1, podCount: 2 });
    node.runtime.sandboxes[0]!.state = 'notready';
    node.runtime.containers[1]!.state = 'exited';
    const get = await start(node, new FakeClock(T0), 1);
    const s = JSON.parse((await get('/stats/summary')).body) as Summary;
    expect(s.pods.map((p) => p.podRef.name)).toEqual(['pod-1']);
    expect(s.pods[0]!.containers).toEqual([]);
  });

  it('answers only its own paths; other methods get 405', async () => {
    const get = await start(fakeNode({ version: 1, podCount: 0 }), new FakeClock(T0), 1);
    expect((await get('/stats/other')).status).toBe(404);
    expect((await get('/metrics')).status).toBe(404);
    expect((await get('/stats/summary', 'PUT')).status).toBe(405);
    const s = JSON.parse((await get('/stats/summary')).body) as Summary;
    expect(s.pods).toEqual([]);
  });

  it('housekeeping samples on the clock so the first scrape has a rate', async () => {
    const node = fakeNode({ version: 2, podCount: 1 });
    const clock = new FakeClock(T0);
    service = createStatsHandler({ nodeName: 'n', fs: node.fs, runtime: node.runtime, pods: node.pods, rootDir: '/var/lib/kubelet', clock, housekeepingIntervalMs: 10_000 });
    service.start();
    await new Promise((r) => setImmediate(r));
    node.burnCpu(2e9);
    clock.advance(10_000);
    await new Promise((r) => setImmediate(r));
    const s = await service.snapshot();
    expect(s.pods[0]!.containers[0]!.nanoCores).toBe(200_000_000);
    service.stop();
  });
});

describe('pod cgroups (cgroupsPerQOS)', () => {
  it.each([
    [1, 'cgroupfs'],
    [2, 'systemd'],
  ] as const)('v%d %s: finds containers inside kubepods/…/pod<uid> and reads pod usage from the pod cgroup', async (version, driver) => {
    const node = fakeNode({ version, podCount: 1, podCgroups: driver });
    const get = await start(node, new FakeClock(T0), version);
    const s = JSON.parse((await get('/stats/summary')).body) as Summary;
    const p = s.pods[0]!;
    expect(p.containers[0]!.cpu?.usageCoreNanoSeconds).toBe(1e9);
    expect(p.cpu?.usageCoreNanoSeconds).toBe(1e11);
    expect(p.memory?.usageBytes).toBe(100 * MB);
    const body = (await get('/metrics/cadvisor')).body;
    const id = node.runtime.containers[0]!.id;
    expect(body).toContain(driver === 'cgroupfs' ? `id="/nodelet-e2e/kubepods/besteffort/poduid-0/${id}"` : `id="/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-poduid_0.slice/docker-${id}.scope"`);
  });
});

describe('container logs on Docker', () => {
  it('sizes the json-file log the runtime reports when there is no pod log directory (asked once per container)', async () => {
    const node = fakeNode({ version: 1, podCount: 1 });
    const id = node.runtime.containers[0]!.id;
    node.fs.removeDiskUsage('/var/log/pods');
    node.fs.setDiskUsage(`/var/lib/docker/containers/${id}/${id}-json.log`, { bytes: 12_288, inodes: 1 });
    const asked: string[] = [];
    const runtime = {
      ...node.runtime,
      containerStatus: (cid: string) => {
        asked.push(cid);
        return Promise.resolve({ logPath: `/var/lib/docker/containers/${cid}/${cid}-json.log` } as never);
      },
    };
    service = createStatsHandler({ nodeName: 'n', fs: node.fs, runtime, pods: node.pods, rootDir: '/var/lib/kubelet', clock: new FakeClock(T0), housekeepingIntervalMs: 0 });
    const s1 = await service.snapshot();
    await service.snapshot();
    expect(s1.pods[0]!.containers[0]!.logs).toEqual({ bytes: 12_288, inodes: 1 });
    expect(asked).toEqual([id]);
  });
});

describe('configured kubepods cgroup', () => {
  it('looks pods up under the configured kubepods, not another agent\'s /kubepods', async () => {
    const node = fakeNode({ version: 1, podCount: 1, podCgroups: 'cgroupfs' });
    node.fs.setCgroupV1('/sys/fs/cgroup', '/kubepods/besteffort/poduid-0', { cpuNanos: 7, memoryUsage: 7 }); // a decoy
    service = createStatsHandler({ nodeName: 'n', fs: node.fs, runtime: node.runtime, pods: node.pods, rootDir: '/var/lib/kubelet', clock: new FakeClock(T0), housekeepingIntervalMs: 0, kubepodsCgroup: '/nodelet-e2e/kubepods' });
    const s = await service.snapshot();
    expect(s.pods[0]!.podCgroup).toBe('/nodelet-e2e/kubepods/besteffort/poduid-0');
    expect(s.pods[0]!.podStats?.cpuUsageNanos).toBe(1e11);
  });
});
