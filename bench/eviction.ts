/**
 * Eviction benchmark (issue 16; not part of the test suite): how long the daemon takes from a BestEffort memory hog
 * crossing the threshold to its eviction, and how much memory that reclaims. The daemon runs as in the e2e test
 * (private dockerd, test API server, kubeReserved leaving 700 Mi allocatable, hard threshold
 * `allocatableMemory.available<350Mi`); each round starts a hog holding ~400 Mi and measures, from the hog
 * container's start (docker's StartedAt): the eviction decision (the `Evicted` event's first timestamp is second-
 * granular, so the agent's own log line is used), the pod reported `Failed`, and the hog container stopped; and the
 * kubepods working set before and after. The monitoring interval is 10 s as upstream, so the decision latency is
 * bounded by it.
 *
 * Usage: tsx bench/eviction.ts [--rounds 3]   (needs dist/nodelet.mjs or $NODELET_ENTRY)
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import Docker from 'dockerode';
import { writeSubsection } from './lib/docs.js';
import { machineFacts, machineLine } from './lib/machine.js';
import { memoryWorkingSet } from '../src/kubelet/eviction/index.js';
import { runNodelet, startCluster, waitFor } from '../test/e2e/harness/index.js';
import { fastKubeletConfig, freePort, startPrivateDockerd, tempDir } from '../test/e2e/node-helpers.js';

const rounds = Number(process.argv[process.argv.indexOf('--rounds') + 1] || 3) || 3;
const NODE = 'nl0-bench-eviction';
const ROOT = `nl0-bench-ev-${process.pid}`;

async function main(): Promise<void> {
  const facts = machineFacts();
  const cluster = await startCluster({ forceLocal: true });
  const dir = tempDir('nl0-bench-ev-');
  const engine = await startPrivateDockerd(dir.path, 'nl0bev-br0', '10.213.155.1/24');
  const docker = new Docker({ socketPath: engine.socket });
  const totalKi = Number(/MemTotal:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0);
  const nodelet = runNodelet(
    [
      `--kubeconfig=${cluster.kubeconfigPath}`,
      `--config=${fastKubeletConfig(dir.path, `kubeReserved:\n  memory: ${totalKi - 700 * 1024}Ki\nevictionPressureTransitionPeriod: 5s\n`)}`,
      '--roles=kubelet',
      `--hostname-override=${NODE}`,
      `--root-dir=${dir.path}/root`,
      `--container-runtime-endpoint=unix://${engine.socket}`,
      `--healthz-port=${await freePort()}`,
      `--cgroup-root=/${ROOT}`,
      '--eviction-hard=allocatableMemory.available<350Mi',
    ],
    { name: 'nl0-bench-eviction' },
  );
  const rows: string[] = [];
  try {
    await cluster.kubectlOk(['create', 'namespace', 'bench']);
    await waitFor(async () => (await cluster.kubectl(['get', 'node', NODE])).code === 0, { timeoutMs: 30_000, description: 'node' });
    const kubepods = `/sys/fs/cgroup/memory/${ROOT}/kubepods`;
    for (let i = 0; i < rounds; i++) {
      const name = `hog${i}`;
      const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'bench' }, spec: { nodeName: NODE, terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: 'localhost/nodelet/testbox:1.0', command: ['sh', '-c', 'dd if=/dev/zero bs=400M count=1 | sleep 3600'] }] } };
      await cluster.kubectlOk(['create', '-f', '-'], { input: JSON.stringify(pod) });
      const c = await waitFor(async () => (await docker.listContainers({ filters: { label: [`io.kubernetes.pod.name=${name}`, 'io.kubernetes.container.name=c'] } }))[0], { timeoutMs: 60_000, description: 'hog container' });
      const started = new Date((await docker.getContainer(c.Id).inspect()).State.StartedAt).getTime();
      const peak = await waitFor(async () => {
        const ws = (await memoryWorkingSet(kubepods)) ?? 0;
        return ws > 300 * 2 ** 20 ? ws : undefined;
      }, { timeoutMs: 30_000, intervalMs: 100, description: 'hog memory' });
      const failedAt = await waitFor(async () => {
        const r = await cluster.kubectl(['get', 'pod', name, '-n', 'bench', '-o', 'jsonpath={.status.phase}']);
        return r.stdout === 'Failed' ? Date.now() : undefined;
      }, { timeoutMs: 60_000, intervalMs: 100, description: 'hog evicted' });
      const stoppedAt = await waitFor(async () => ((await docker.getContainer(c.Id).inspect()).State.Running ? undefined : Date.now()), { timeoutMs: 30_000, intervalMs: 100, description: 'hog stopped' });
      const logLine = nodelet.logs().split('\n').filter((l) => l.includes('"evicting pod"') && l.includes(name))[0] ?? '';
      const decidedAt = Date.parse(/"time":"([^"]+)"/.exec(logLine)?.[1] ?? '');
      await new Promise((r) => setTimeout(r, 1000));
      const after = (await memoryWorkingSet(kubepods)) ?? 0;
      rows.push(`| ${i + 1} | ${((decidedAt - started) / 1000).toFixed(1)} s | ${((failedAt - started) / 1000).toFixed(1)} s | ${((stoppedAt - started) / 1000).toFixed(1)} s | ${(peak / 2 ** 20).toFixed(0)} Mi → ${(after / 2 ** 20).toFixed(0)} Mi |`);
      await cluster.kubectl(['delete', 'pod', name, '-n', 'bench', '--wait=true', '--timeout=60s']);
      await new Promise((r) => setTimeout(r, 16_000)); // past a monitoring interval and the pressure transition period
    }
  } finally {
    await nodelet.stop();
    for (const c of await docker.listContainers({ all: true })) await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
    await engine.destroy();
    await cluster.stop();
    dir.remove();
    // The daemon's cgroup root (empty once the pods are gone).
    spawnSync('sh', ['-c', `find /sys/fs/cgroup/*/${ROOT} -depth -type d -exec rmdir {} + 2>/dev/null`]);
  }
  const body = `Run: ${machineLine(facts)}. Monitoring interval 10 s (upstream's); hard threshold, grace 0.

| round | hog start → eviction decided | → pod Failed in the API | → hog container stopped | kubepods working set (peak → after) |
| --- | --- | --- | --- | --- |
${rows.join('\n')}
`;
  writeSubsection('node-resources', '## Node resources (bench/image-gc.ts, bench/eviction.ts)', 'node-resources:eviction', `### Eviction (memory)\n\n${body}`);
  console.log(body);
}

await main();
