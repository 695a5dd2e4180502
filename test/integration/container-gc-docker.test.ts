/**
 * The container garbage collector against the shared Docker engine (DockerRuntime): 30 dead instances of one
 * container and 1 of another in a pod whose sandbox uses the host network (no packets anywhere), plus a dead
 * container of another agent (other node label, own sandbox). One run with the default policy keeps only the newest instance per
 * container and never touches the other agent's container; once the pod counts as evicted, its containers and its
 * stopped sandbox go too. Everything created carries the test label and is removed afterwards, also on failure.
 * Prints the time of the collection run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { containerConfig, sandboxConfig } from '../../src/cri/contract-fixtures.js';
import { DockerRuntime } from '../../src/cri/index.js';
import { LABELS } from '../../src/cri/types.js';
import { ContainerGcManager, DEFAULT_CONTAINER_GC_POLICY } from '../../src/kubelet/containergc/index.js';
import { RealClock } from '../../src/util/clock.js';
import { silentLogger } from '../../src/util/logger.js';
import { dockerClient, removeLabelled, DOCKER_SOCKET } from '../support/docker.js';

const TEST = { key: 'io.nodelet.test', value: 'h7-container-gc' };
const owner = { [LABELS.managedBy]: 'true', 'io.nodelet.node': 'h7-gc-int' };
const other = { [LABELS.managedBy]: 'true', 'io.nodelet.node': 'h7-gc-int-other' };
const docker = dockerClient();
const rt = new DockerRuntime({ socketPath: DOCKER_SOCKET });

async function waitExited(id: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if ((await rt.containerStatus(id)).state === 'exited') return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`container ${id} did not exit`);
}

describe('ContainerGcManager on Docker', () => {
  let uid = '';
  let sandboxId = '';
  let foreign = '';
  const app: string[] = [];
  let side = '';

  beforeAll(async () => {
    await removeLabelled(docker, TEST.key, TEST.value);
    const labels = { [TEST.key]: TEST.value, ...owner };
    const sb = sandboxConfig('h7-gc', labels, { namespaceOptions: { network: 'node', pid: 'container', ipc: 'pod' } });
    uid = sb.metadata.uid;
    sandboxId = await rt.runPodSandbox(sb);
    const otherSb = sandboxConfig('h7-gc-other', { [TEST.key]: TEST.value, ...other }, { namespaceOptions: { network: 'node', pid: 'container', ipc: 'pod' } });
    const otherSandboxId = await rt.runPodSandbox(otherSb);
    const make = async (name: string, attempt: number, l: Record<string, string>, s = sb, sid = sandboxId): Promise<string> => {
      const id = await rt.createContainer(sid, containerConfig(name, s, { ...l, [LABELS.podUID]: s.metadata.uid }, { metadata: { name, attempt }, command: ['true'] }), s);
      await rt.startContainer(id);
      await waitExited(id);
      return id;
    };
    for (let i = 0; i < 30; i++) app.push(await make('app', i, labels));
    side = await make('side', 0, labels);
    foreign = await make('app', 99, { [TEST.key]: TEST.value, ...other }, otherSb, otherSandboxId);
  }, 180_000);

  afterAll(async () => {
    await removeLabelled(docker, TEST.key, TEST.value);
    await rt.close();
  }, 60_000);

  it('keeps the newest dead instance per container, then removes an evicted pod\'s containers and sandbox', async () => {
    const gc = new ContainerGcManager({ runtime: rt, owner, policy: DEFAULT_CONTAINER_GC_POLICY, clock: new RealClock(), logger: silentLogger() });
    const t0 = performance.now();
    const r = await gc.garbageCollect();
    const ms = performance.now() - t0;
    console.log(`container GC on Docker: removed ${r.containers} of 31 dead containers in ${ms.toFixed(0)} ms`);
    expect(r).toEqual({ containers: 29, sandboxes: 0 });
    const left = (await rt.listContainers({ labelSelector: { [TEST.key]: TEST.value } })).map((c) => c.id).sort();
    expect(left).toEqual([app[29], side, foreign].sort());
    await rt.stopPodSandbox(sandboxId);
    gc.setPodState({ allSourcesReady: () => true, podRemoval: (u) => ({ content: u === uid, runtime: u === uid }) });
    expect(await gc.garbageCollect()).toEqual({ containers: 2, sandboxes: 1 });
    expect((await rt.listContainers({ labelSelector: { [TEST.key]: TEST.value } })).map((c) => c.id)).toEqual([foreign]);
  }, 120_000);
});
