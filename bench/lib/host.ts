/**
 * Host helpers of the benchmarks that run agents themselves (bench/kubelet-exec-vs-upstream.ts,
 * bench/hollow-nodes.ts): the node address, cgroup roots for an upstream kubelet, and mount cleanup.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The host address the API server reaches the nodes on (docker0, as scripts/conformance.sh; the kubelet refuses loopback). */
export function nodeIP(): string {
  const r = spawnSync('sh', ['-c', "ip -4 -o addr show docker0 | awk '{print $4}' | cut -d/ -f1 | head -1"], { encoding: 'utf8' });
  const ip = r.stdout.trim();
  if (ip === '') throw new Error('no IPv4 address on docker0 for --node-ip');
  return ip;
}

const v1Hierarchies = (): string[] => readdirSync('/sys/fs/cgroup').filter((h) => existsSync(join('/sys/fs/cgroup', h, 'cgroup.procs')));

/** Creates cgroup `name` in every hierarchy (the kubelet insists its cgroupRoot exists), cpuset initialised. */
export function createCgroupRoot(name: string): void {
  for (const h of v1Hierarchies()) mkdirSync(join('/sys/fs/cgroup', h, name), { recursive: true });
  const cpuset = '/sys/fs/cgroup/cpuset';
  if (existsSync(join(cpuset, 'cpuset.cpus'))) {
    for (const f of ['cpuset.cpus', 'cpuset.mems']) writeFileSync(join(cpuset, name, f), readFileSync(join(cpuset, f)));
  }
}

/** Removes cgroup `name` and everything below it in every hierarchy (deepest first; processes must be gone). */
export function removeCgroupTree(name: string): void {
  for (const h of readdirSync('/sys/fs/cgroup')) {
    const path = join('/sys/fs/cgroup', h, name);
    if (existsSync(path)) spawnSync('find', [path, '-depth', '-type', 'd', '-exec', 'rmdir', '{}', ';'], { stdio: 'ignore' });
  }
}

/** Unmounts everything mounted at or below `dir`, deepest first. */
export function unmountUnder(dir: string): void {
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m === dir || m.startsWith(`${dir}/`))
    .sort()
    .reverse();
  for (const m of mounts) spawnSync('umount', ['-l', m], { stdio: 'ignore' });
}
