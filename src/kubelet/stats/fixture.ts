/**
 * A fake node for tests and the benchmark: N pods with one sandbox and `containersPerPod` running containers each,
 * their cgroups in a {@link FakeStatsFs} (v1 or v2, Docker's cgroupfs paths), /proc files, a stub runtime and a pod
 * lookup. Not used by production code.
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { Container, PodSandbox } from '../../cri/types.js';
import type { KubeletPodLookup } from '../server/api/types.js';
import type { StatsRuntime } from './collect.js';
import { FakeStatsFs } from './fake.js';

/** The fake node. */
export interface FakeNode {
  fs: FakeStatsFs;
  runtime: StatsRuntime & { sandboxes: PodSandbox[]; containers: Container[] };
  pods: KubeletPodLookup;
  podList: V1Pod[];
  /** Adds `nanos` CPU time to every cgroup (containers, sandboxes and the root). */
  burnCpu(nanos: number): void;
}

const CG = '/sys/fs/cgroup';
const GB = 1024 ** 3;

/** Builds a fake node with `podCount` pods. Times are CRI nanoseconds from `baseMs`. */
export function fakeNode(opts: { version: 1 | 2; podCount: number; containersPerPod?: number; baseMs?: number; podCgroups?: 'cgroupfs' | 'systemd' }): FakeNode {
  const fs = new FakeStatsFs();
  const base = opts.baseMs ?? Date.UTC(2026, 0, 1);
  const per = opts.containersPerPod ?? 1;
  const sandboxes: PodSandbox[] = [];
  const containers: Container[] = [];
  const podList: V1Pod[] = [];
  const cgroups: string[] = [];
  const put = (rel: string, i: number, pid: number): void => {
    const c = { cpuNanos: 1e9 * (i + 1), memoryUsage: (10 + i) * 1024 * 1024, inactiveFile: 1024 * 1024, rss: 5 * 1024 * 1024, pgfault: 100, pgmajfault: 2, pids: [pid] };
    if (opts.version === 1) fs.setCgroupV1(CG, rel, c);
    else fs.setCgroupV2(CG, rel, c);
    cgroups.push(rel);
  };
  if (opts.version === 2) fs.set(`${CG}/cgroup.controllers`, 'cpu memory pids\n');
  for (let p = 0; p < opts.podCount; p++) {
    const uid = `uid-${p}`;
    const name = `pod-${p}`;
    const sbId = `sb${String(p).padStart(62, '0')}`;
    const createdAt = (base + p * 1000) * 1e6;
    sandboxes.push({ id: sbId, metadata: { name, namespace: 'ns1', uid, attempt: 0 }, state: 'ready', createdAt, labels: { 'io.kubernetes.pod.uid': uid }, annotations: {} });
    const systemdUid = uid.replace(/-/g, '_');
    const podDir =
      opts.podCgroups === 'cgroupfs'
        ? `/nodelet-e2e/kubepods/besteffort/pod${uid}`
        : `/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${systemdUid}.slice`;
    const where = (id: string): string => (opts.podCgroups === undefined ? `/docker/${id}` : opts.podCgroups === 'cgroupfs' ? `${podDir}/${id}` : `${podDir}/docker-${id}.scope`);
    if (opts.podCgroups !== undefined) {
      // the pod cgroup counts more than its containers (e.g. exited processes): the reading must come from it
      const c = { cpuNanos: 1e11 + p, memoryUsage: 100 * 1024 * 1024, inactiveFile: 0, pids: [] as number[] };
      if (opts.version === 1) fs.setCgroupV1(CG, podDir, c);
      else fs.setCgroupV2(CG, podDir, c);
      cgroups.push(podDir);
    }
    put(where(sbId), p, 10_000 + p);
    fs.set(`/proc/${10_000 + p}/net/dev`, netDev(p));
    for (let c = 0; c < per; c++) {
      const id = `c${String(p * 100 + c).padStart(63, '0')}`;
      containers.push({ id, podSandboxId: sbId, metadata: { name: `ctr-${c}`, attempt: 0 }, image: 'localhost/nodelet/testbox:1.0', imageRef: 'sha256:abc', state: 'running', createdAt: createdAt + 5e8, labels: {}, annotations: {} });
      put(where(id), p, 20_000 + p * 100 + c);
      fs.setDiskUsage(`/var/log/pods/ns1_${name}_${uid}/ctr-${c}`, { bytes: 4096 * (c + 1), inodes: 2 });
    }
    fs.setDiskUsage(`/var/log/pods/ns1_${name}_${uid}`, { bytes: 4096 * per, inodes: 1 + 2 * per });
    fs.setDiskUsage(`/var/lib/kubelet/pods/${uid}/volumes/kubernetes.io~empty-dir/cache`, { bytes: 8192, inodes: 3 });
    podList.push({ metadata: { name, namespace: 'ns1', uid }, spec: { containers: [], volumes: [{ name: 'cache', emptyDir: {} }] }, status: { startTime: new Date(base + p * 1000) } as V1Pod['status'] });
  }
  // The node.
  if (opts.version === 1) fs.setCgroupV1(CG, '', { cpuNanos: 500e9, memoryUsage: 4 * GB, inactiveFile: GB, rss: 2 * GB, pgfault: 1000, pgmajfault: 10 });
  else fs.setCgroupV2(CG, '/', { cpuNanos: 500e9, memoryUsage: 0 });
  cgroups.push('');
  fs.set('/proc/meminfo', `MemTotal:       16384000 kB\nMemFree:         8192000 kB\nInactive(file):  1024000 kB\nAnonPages:       2048000 kB\n`);
  fs.set('/proc/stat', `cpu  100 0 50 1000 0 0 0 0 0 0\nbtime 1767225600\n`);
  fs.set('/proc/cpuinfo', 'processor\t: 0\nprocessor\t: 1\n');
  fs.set('/proc/loadavg', '0.10 0.20 0.30 2/345 6789\n');
  fs.set('/proc/sys/kernel/pid_max', '4194304\n');
  fs.set('/proc/net/dev', netDev(999).replace('eth0', 'ens3') + '  veth1:  1 1 0 0 0 0 0 0 1 1 0 0 0 0 0 0\n');
  fs.set('/proc/self/cgroup', opts.version === 2 ? '0::/nodelet.service\n' : '4:memory:/nodelet.service\n2:cpuacct:/nodelet.service\n');
  fs.set('/proc/self/mounts', '/dev/vda1 / ext4 rw 0 0\ntmpfs /run tmpfs rw 0 0\n');
  if (opts.version === 1) fs.setCgroupV1(CG, '/nodelet.service', { cpuNanos: 3e9, memoryUsage: 80 * 1024 * 1024, pids: [1] });
  else fs.setCgroupV2(CG, '/nodelet.service', { cpuNanos: 3e9, memoryUsage: 80 * 1024 * 1024, pids: [1] });
  fs.setStatfs('/', { capacityBytes: 100 * GB, availableBytes: 60 * GB, usedBytes: 40 * GB, inodes: 1_000_000, inodesFree: 900_000 });
  fs.setStatfs('/var/lib/docker', { capacityBytes: 200 * GB, availableBytes: 150 * GB, usedBytes: 50 * GB, inodes: 2_000_000, inodesFree: 1_900_000 });
  const runtime = {
    sandboxes,
    containers,
    listPodSandboxes: () => Promise.resolve(sandboxes.slice()),
    listContainers: () => Promise.resolve(containers.slice()),
    imageFsInfo: () => Promise.resolve({ mountpoint: '/var/lib/docker', usedBytes: 3 * GB }),
  };
  const pods: KubeletPodLookup = {
    pods: () => podList,
    findPod: (ns, n) => podList.find((p) => p.metadata?.namespace === ns && p.metadata?.name === n),
    resolveContainer: () => Promise.resolve(undefined),
  };
  const burnCpu = (nanos: number): void => {
    for (const rel of cgroups) {
      if (opts.version === 1) {
        const f = `${CG}/cpuacct${rel}/cpuacct.usage`;
        fs.set(f, `${Number(fs.readFile(f)) + nanos}\n`);
      } else {
        const f = `${CG}${rel === '' ? '' : rel}/cpu.stat`;
        const usec = Number(/usage_usec (\d+)/.exec(fs.readFile(f) ?? '')?.[1] ?? 0);
        fs.set(f, `usage_usec ${usec + Math.floor(nanos / 1000)}\n`);
      }
    }
  };
  return { fs, runtime, pods, podList, burnCpu };
}

function netDev(i: number): string {
  return [
    'Inter-|   Receive                                                |  Transmit',
    ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed',
    '    lo:     100       1    0    0    0     0          0         0      100       1    0    0    0     0       0          0',
    `  eth0: ${1000 + i} 10 1 2 0 0 0 0 ${2000 + i} 20 3 4 0 0 0 0`,
    '',
  ].join('\n');
}
