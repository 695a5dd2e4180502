/**
 * Integration (issue 16 item 5): in-place resize on real runtimes, checked in the host's cgroup v1 files. A container
 * of the shared Docker engine and one of a private containerd (bridge h6ctr0 on 10.231.6.64/26) run inside a pod
 * cgroup of a private root (`/h6-resize-<pid>`, PodCgroupManager + HostCgroups); the resize is applied in upstream's
 * order (pod cgroup grows, containers update, pod cgroup shrinks) and the container keeps its process while its
 * memory.limit_in_bytes / cpu.cfs_quota_us / cpu.shares change, up and down. Everything is removed afterwards.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { containerConfig, sandboxConfig } from '../../src/cri/contract-fixtures.js';
import { CriRuntime } from '../../src/cri/containerd/index.js';
import { join } from 'node:path';
import { containerdMissing, startPrivateContainerd, type PrivateContainerd } from '../../src/cri/containerd/testing.js';
import { DockerRuntime, type ContainerRuntime } from '../../src/cri/index.js';
import { HostCgroups, PodCgroupManager } from '../../src/kubelet/cm/index.js';
import { computeResizePlan } from '../../src/kubelet/allocation/index.js';
import { silentLogger } from '../../src/util/logger.js';
import { DOCKER_SOCKET } from '../support/docker.js';

const ROOT = `/h6-resize-${process.pid}`;
const LABELS = { 'io.nodelet.test': 'h6-resize' };
const MI = 1024 * 1024;
const v1 = !readFileSync('/proc/self/mountinfo', 'utf8').includes(' - cgroup2 cgroup2 /sys/fs/cgroup ');
const skip = v1 ? undefined : 'the host is cgroup v2 (this test reads v1 files)';

function pod(uid: string, cpuLimit: string, memLimit: string): V1Pod {
  return {
    metadata: { name: 'rz', namespace: 'h6', uid },
    spec: { containers: [{ name: 'c', image: 'x', resources: { requests: { cpu: '100m', memory: '32Mi' }, limits: { cpu: cpuLimit, memory: memLimit } } }] },
  };
}

/** The container's cgroup v1 directory of `controller`, from its own /proc/self/cgroup (host cgroup namespace). */
async function cgroupDir(rt: ContainerRuntime, id: string, controller: string): Promise<string> {
  const out = (await rt.execSync(id, ['cat', '/proc/self/cgroup'], 5)).stdout;
  const line = out.split('\n').find((l) => l.split(':')[1]?.split(',').includes(controller));
  if (line === undefined) throw new Error(`no ${controller} line in ${out}`);
  const dir = `/sys/fs/cgroup/${controller}${line.split(':')[2] ?? ''}`;
  return dir;
}
const read = (path: string): number => Number(readFileSync(path, 'utf8').trim());

/** The resize flow of the pod sync (src/kubelet/pods/resize.ts), on real cgroups and a real runtime. */
async function resizeCase(rt: ContainerRuntime): Promise<void> {
  const cgroups = await HostCgroups.open();
  const pcm = new PodCgroupManager({
    cgroups, driver: 'cgroupfs', cgroupRoot: ROOT, kubepods: { cpuMilli: 4000, memoryBytes: 4096 * MI }, cpuCFSQuota: true, podPidsLimit: -1, logger: silentLogger(),
  });
  await pcm.start();
  const sb = sandboxConfig('rz', LABELS);
  const before = pod(sb.metadata.uid, '200m', '64Mi');
  sb.linux.cgroupParent = await pcm.ensurePod(before);
  const sbId = await rt.runPodSandbox(sb);
  try {
    const id = await rt.createContainer(sbId, containerConfig('c', sb, LABELS, {
      linux: {
        resources: { cpuShares: 102, cpuPeriod: 100_000, cpuQuota: 20_000, memoryLimitInBytes: 64 * MI },
        securityContext: { namespaceOptions: sb.linux.namespaceOptions },
      },
    }), sb);
    await rt.startContainer(id);
    const started = (await rt.containerStatus(id)).startedAt;
    const mem = await cgroupDir(rt, id, 'memory');
    const cpu = await cgroupDir(rt, id, 'cpu');
    const podMem = `/sys/fs/cgroup/memory${pcm.podCgroupPath(before)}`;
    const podCpu = `/sys/fs/cgroup/cpu${pcm.podCgroupPath(before)}`;
    expect(mem.startsWith(podMem), `${mem} under ${podMem}`).toBe(true);
    expect(read(`${mem}/memory.limit_in_bytes`)).toBe(64 * MI);
    expect(read(`${cpu}/cpu.cfs_quota_us`)).toBe(20_000);

    const apply = async (next: V1Pod): Promise<void> => {
      const rec = { id, name: 'c', sandboxId: sbId, state: 'running' as const, exitCode: 0, reason: '', message: '', createdAt: 0, startedAt: 0, finishedAt: 0, restartCount: 0, hash: '', image: '', imageRef: '', resources: (await rt.containerStatus(id)).resources };
      const plan = computeResizePlan(next, { uid: sb.metadata.uid, sandboxes: [], containers: [rec] }, sbId, true);
      expect(plan.updates).toHaveLength(1);
      await pcm.ensurePod(next, { growOnly: true });
      for (const u of plan.updates) await rt.updateContainerResources(u.id, u.resources);
      await pcm.ensurePod(next);
    };
    // Up: the pod cgroup grows first, then the container.
    await apply(pod(sb.metadata.uid, '500m', '128Mi'));
    expect(read(`${mem}/memory.limit_in_bytes`)).toBe(128 * MI);
    expect(read(`${cpu}/cpu.cfs_quota_us`)).toBe(50_000);
    expect(read(`${podMem}/memory.limit_in_bytes`)).toBe(128 * MI);
    expect(read(`${podCpu}/cpu.cfs_quota_us`)).toBe(50_000);
    // Down: the container shrinks first, then the pod cgroup (a v1 parent quota below its child's is refused).
    await apply(pod(sb.metadata.uid, '300m', '96Mi'));
    expect(read(`${mem}/memory.limit_in_bytes`)).toBe(96 * MI);
    expect(read(`${cpu}/cpu.cfs_quota_us`)).toBe(30_000);
    expect(read(`${podCpu}/cpu.cfs_quota_us`)).toBe(30_000);
    expect(read(`${podMem}/memory.limit_in_bytes`)).toBe(96 * MI);
    // The same process: never restarted.
    const st = await rt.containerStatus(id);
    expect(st).toMatchObject({ state: 'running', startedAt: started });
    expect(st.resources).toMatchObject({ cpuQuota: 30_000, memoryLimitInBytes: 96 * MI });
  } finally {
    await rt.removePodSandbox(sbId);
    await pcm.removePod(sb.metadata.uid);
  }
}

afterAll(() => {
  spawnSync('sh', ['-c', `for i in 1 2 3; do find /sys/fs/cgroup/*${ROOT} -depth -type d -exec rmdir {} + 2>/dev/null; done; true`]);
});

describe.skipIf(skip !== undefined)(`in-place resize on Docker ${skip ?? ''}`, () => {
  it('changes a running container\'s and its pod\'s cgroup limits in place, up and down', async () => {
    const rt = new DockerRuntime({ socketPath: DOCKER_SOCKET });
    try {
      await resizeCase(rt);
    } finally {
      await rt.close();
    }
  }, 60_000);
});

const missing = containerdMissing() ?? skip;
describe.skipIf(missing !== undefined)(`in-place resize on containerd ${missing ?? ''}`, () => {
  let instance: PrivateContainerd | undefined;
  beforeAll(async () => {
    instance = await startPrivateContainerd({ bridge: 'h6ctr0', subnet: '10.231.6.64/26' });
  }, 120_000);
  afterAll(async () => {
    await instance?.stop();
  }, 60_000);

  it('changes a running container\'s and its pod\'s cgroup limits in place, up and down', async () => {
    if (instance === undefined) throw new Error('containerd not started');
    // Pod logs under the private containerd's own dir, never the host's /var/log/pods.
    const rt = new CriRuntime({ socketPath: instance.socketPath, podLogsRoot: join(instance.dir, 'pod-logs') });
    try {
      await resizeCase(rt);
    } finally {
      await rt.close();
    }
  }, 60_000);
});
