import { mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { TESTBOX_IMAGE } from '../../cri/index.js';
import { apiPod, ctr, mkPod, NODE, world, type World } from './harness.test-util.js';

let w: World | undefined;
let dir = '';
let server: Server | undefined;
afterEach(async () => {
  await w?.lc.stop();
  w = undefined;
  if (dir !== '') await rm(dir, { recursive: true, force: true });
  dir = '';
  server?.close();
  server = undefined;
});

const manifest = (name: string, cmd = 'sleep infinity') => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
spec:
  containers:
  - name: main
    image: ${TESTBOX_IMAGE}
    command: [sh, -c, "${cmd}"]
`;

/**
 * Waits for real file/HTTP I/O to be picked up: rescans happen on the fake clock, the I/O on the real event loop.
 * Each round advances the fake clock and settles; the bound is generous (10 s) so a loaded machine does not flake.
 */
async function until(cond: () => boolean | Promise<boolean>): Promise<void> {
  await vi.waitFor(async () => {
    if (await cond()) return;
    await (w as World).advance(1000, 500);
    if (!(await cond())) throw new Error('not yet');
  }, { timeout: 10_000, interval: 5 });
}

describe('static pods', () => {
  it('runs a manifest file, mirrors it into the API, recreates a deleted mirror, and stops it when the file goes', async () => {
    dir = await mkdtemp(join(tmpdir(), 'nlpods-'));
    await writeFile(join(dir, 'web.yaml'), manifest('web'));
    await writeFile(join(dir, '.hidden.yaml'), manifest('hidden'));
    await writeFile(join(dir, 'broken.yaml'), manifest('broken').replace('containers:', 'contaners:'));
    w = await world({ staticPodPath: dir, fileCheckFrequencyMs: 1000 });
    await until(() => apiPod(w as World, `web-${NODE}`)?.status?.phase === 'Running');
    const mirror = apiPod(w, `web-${NODE}`);
    expect(mirror?.metadata?.annotations?.['kubernetes.io/config.mirror']).toMatch(/^[0-9a-f]{32}$/);
    expect(mirror?.metadata?.annotations?.['kubernetes.io/config.source']).toBe('file');
    expect(mirror?.metadata?.ownerReferences).toEqual([{ apiVersion: 'v1', kind: 'Node', name: NODE, uid: 'node-uid', controller: true }]);
    expect(apiPod(w, `hidden-${NODE}`)).toBeUndefined();
    expect(apiPod(w, `broken-${NODE}`)).toBeUndefined();
    expect((await w.runtime.listContainers()).length).toBe(1);

    // deleting the mirror does not stop the static pod; the mirror comes back
    w.api.remove('default', `web-${NODE}`);
    await until(() => apiPod(w as World, `web-${NODE}`) !== undefined);
    expect(apiPod(w, `web-${NODE}`)?.metadata?.uid).not.toBe(mirror?.metadata?.uid);
    // the new mirror gets the status again
    await until(() => apiPod(w as World, `web-${NODE}`)?.status?.phase === 'Running');
    expect(apiPod(w, `web-${NODE}`)?.status?.phase).toBe('Running');
    expect(w.runtime.callsTo('createContainer').length).toBe(1);
    // a mirror pod is never run as a second copy
    expect((await w.runtime.listPodSandboxes()).length).toBe(1);

    await unlink(join(dir, 'web.yaml'));
    await until(async () => (await (w as World).runtime.listContainers()).length === 0);
    expect(await w.runtime.listContainers()).toEqual([]);
    await until(() => apiPod(w as World, `web-${NODE}`) === undefined);
    expect(apiPod(w, `web-${NODE}`)).toBeUndefined();
  });

  it('replaces the pod when its file changes', async () => {
    dir = await mkdtemp(join(tmpdir(), 'nlpods-'));
    await writeFile(join(dir, 'web.yaml'), manifest('web'));
    w = await world({ staticPodPath: dir, fileCheckFrequencyMs: 1000 });
    await until(() => apiPod(w as World, `web-${NODE}`)?.status?.phase === 'Running');
    const before = apiPod(w, `web-${NODE}`)?.metadata?.annotations?.['kubernetes.io/config.hash'];
    await writeFile(join(dir, 'web.yaml'), manifest('web', 'sleep 1000'));
    await until(() => {
      const m = apiPod(w as World, `web-${NODE}`);
      return m !== undefined && m.metadata?.annotations?.['kubernetes.io/config.hash'] !== before && m.status?.phase === 'Running';
    });
    await until(async () => (await (w as World).runtime.listContainers({ state: 'running' })).length === 1);
    const running = await w.runtime.listContainers({ state: 'running' });
    expect(running.length).toBe(1);
    expect(running[0]?.labels['io.kubernetes.pod.uid']).not.toBe(before);
  });

  it('reads pods from a manifest URL', async () => {
    server = createServer((_req, res) => res.end(manifest('fromurl')));
    await new Promise<void>((r) => server?.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/pods`;
    w = await world({ manifestURL: url, httpCheckFrequencyMs: 1000 });
    await until(() => apiPod(w as World, `fromurl-${NODE}`)?.status?.phase === 'Running');
    expect(apiPod(w, `fromurl-${NODE}`)?.metadata?.annotations?.['kubernetes.io/config.source']).toBe('http');
  });
});

describe('admission', () => {
  it('rejects pods the node cannot run with upstream reasons', async () => {
    w = await world({ maxPods: 2 });
    w.api.apply(mkPod('sel', { nodeSelector: { disk: 'hdd' }, containers: [ctr('a')] }));
    w.api.apply(mkPod('ok', { nodeSelector: { disk: 'ssd' }, containers: [ctr('a', undefined, { ports: [{ containerPort: 80, hostPort: 8080 }] })] }));
    await w.settle();
    w.api.apply(mkPod('port', { containers: [ctr('a', undefined, { ports: [{ containerPort: 80, hostPort: 8080 }] })] }));
    await w.settle();
    w.api.apply(mkPod('one', { containers: [ctr('a')] }));
    await w.settle();
    w.api.apply(mkPod('full', { containers: [ctr('a')] }));
    await w.settle();
    expect(apiPod(w, 'sel')?.status).toMatchObject({ phase: 'Failed', reason: 'NodeAffinity', message: "Pod was rejected: Predicate NodeAffinity failed: node(s) didn't match Pod's node affinity/selector" });
    expect(apiPod(w, 'ok')?.status?.phase).toBe('Running');
    expect(apiPod(w, 'port')?.status).toMatchObject({ phase: 'Failed', reason: 'NodePorts' });
    expect(apiPod(w, 'one')?.status?.phase).toBe('Running');
    expect(apiPod(w, 'full')?.status).toMatchObject({ phase: 'Failed', reason: 'OutOfpods', message: "Pod was rejected: Node didn't have enough resource: pods, requested: 1, used: 2, capacity: 2" });
    expect(w.recorder.of('NodeAffinity').length).toBe(1);
    const runningPods = new Set((await w.runtime.listPodSandboxes()).map((s) => s.metadata.name));
    expect(runningPods).toEqual(new Set(['ok', 'one']));
  });
});
