import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { containerConfig, sandboxConfig } from '../../cri/contract-fixtures.js';
import { FakeRuntime } from '../../cri/fake/index.js';
import type { HostReader } from '../node/host.js';
import { HostEvictionObserver } from './observer.js';
import { evictionMessage, rankForEviction } from './rank.js';

/** A running pod on the fake runtime whose container wrote `mib` MiB into its root filesystem. */
async function podWriting(runtime: FakeRuntime, name: string, mib: number): Promise<V1Pod> {
  const sb = sandboxConfig(name, {});
  const id = await runtime.runPodSandbox(sb);
  const cmd = ['sh', '-c', `dd if=/dev/zero of=/fill bs=1M count=${mib}; sleep infinity`];
  const cid = await runtime.createContainer(id, containerConfig('c', sb, {}, { command: cmd }), sb);
  await runtime.startContainer(cid);
  return { metadata: { name, namespace: 'contract', uid: sb.metadata.uid }, spec: { containers: [{ name: 'c' }] } };
}

describe('eviction: container writable layers (rootfs + logs per container, as upstream)', () => {
  const observer = (runtime: FakeRuntime): HostEvictionObserver =>
    new HostEvictionObserver({ host: {} as HostReader, runtime, rootDir: '/nonexistent/lg-eviction', memoryCgroupMount: '/nonexistent' });

  it('measures the writable layer under ephemeral-storage pressure, ranks by it and names it in the message', async () => {
    const runtime = new FakeRuntime();
    const small = await podWriting(runtime, 'small', 1);
    const big = await podWriting(runtime, 'big', 3);
    const usage = await observer(runtime).podUsage([small, big], 'ephemeral-storage');
    expect(usage.get(big.metadata?.uid ?? '')).toMatchObject({ ephemeralBytes: 3 * 2 ** 20, containers: [{ name: 'c', ephemeralBytes: 3 * 2 ** 20 }] });
    expect(rankForEviction([small, big], usage, 'ephemeral-storage')[0]).toBe(big);
    const msg = evictionMessage({ pod: big, usage: usage.get(big.metadata?.uid ?? ''), resource: 'ephemeral-storage', thresholdQuantity: undefined, observation: undefined });
    expect(msg).toBe('The node was low on resource: ephemeral-storage. Container c was using 3Mi, request is 0, has larger consumption of ephemeral-storage. ');
  });

  it('does not ask the runtime for writable layers under memory or pid pressure (the call may walk the layer)', async () => {
    const runtime = new FakeRuntime();
    const pod = await podWriting(runtime, 'p', 2);
    runtime.clearCalls();
    for (const r of ['memory', 'pids', 'inodes'] as const) {
      const usage = await observer(runtime).podUsage([pod], r);
      expect(usage.get(pod.metadata?.uid ?? '')?.containers[0]?.ephemeralBytes).toBe(0);
    }
    expect(runtime.callsTo('containerWritableLayerBytes')).toEqual([]);
  });
});
