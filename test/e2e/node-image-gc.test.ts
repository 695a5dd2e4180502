/**
 * e2e (issue 16): image garbage collection through the daemon's own wiring, on a private Docker engine (the shared
 * one is never collected). A first agent (collection off) starts a static pod; a second agent with thresholds the
 * disk is always above (high 1 %, low 0 %) and no minimum age removes every unused image at its first collection,
 * and keeps the image of the running pod and the pinned pod infra image.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runNodelet, waitFor, type NodeletProcess } from './harness/index.js';
import { freePort, startPrivateDockerd, tempDir, type PrivateDockerd } from './node-helpers.js';

const NODE = 'nl0-imagegc-node';
let dir: ReturnType<typeof tempDir>;
let manifests: string;
const procs: NodeletProcess[] = [];
let dockerd: PrivateDockerd | undefined;

function docker(args: string[]): string {
  return dockerd?.docker(args) ?? '';
}

function tags(): string[] {
  return docker(['images', '--format', '{{.Repository}}:{{.Tag}}']).split('\n').filter((x) => x !== '').sort();
}

async function start(name: string, extra: string[]): Promise<{ p: NodeletProcess; port: number }> {
  const port = await freePort();
  const p = runNodelet(
    [
      `--container-runtime-endpoint=unix://${dockerd?.socket ?? ''}`,
      `--pod-manifest-path=${manifests}`,
      `--root-dir=${dir.path}/root`,
      `--hostname-override=${NODE}`,
      `--healthz-port=${port}`,
      '--file-check-frequency=1s',
      '--fail-swap-on=false',
      ...extra,
    ],
    { name },
  );
  procs.push(p);
  return { p, port };
}

beforeAll(async () => {
  dir = tempDir('nl0-imagegc-');
  dockerd = await startPrivateDockerd(dir.path, 'nl0gc-br0', '10.213.151.1/24');
  // Three small unused images with distinct content (so distinct IDs).
  for (const n of [1, 2, 3]) {
    const r = spawnSync('sh', ['-c', `cd ${dir.path} && echo unused-${n} > f${n} && tar c f${n} | docker -H unix://${dockerd.socket} import - localhost/gc/unused${n}:1`], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`docker import failed: ${r.stderr}`);
  }
  manifests = join(dir.path, 'manifests');
  mkdirSync(manifests);
  writeFileSync(
    join(manifests, 'keeper.yaml'),
    `apiVersion: v1
kind: Pod
metadata:
  name: nl0-keeper
  namespace: default
spec:
  dnsPolicy: Default
  terminationGracePeriodSeconds: 1
  containers:
    - name: app
      image: localhost/nodelet/testbox:1.0
      imagePullPolicy: Never
      command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1 & wait $!; done"]
`,
  );
});

afterAll(async () => {
  for (const p of procs) await p.stop();
  const ids = docker(['ps', '-aq']).split('\n').filter((x) => x !== '');
  if (ids.length > 0) docker(['rm', '-f', ...ids]);
  await dockerd?.destroy();
  dir.remove();
});

describe('image garbage collection', () => {
  it('removes unused images above the high threshold, never the running pod image or the infra image', async () => {
    const first = await start('nl0-imagegc-1', ['--image-gc-high-threshold=100']);
    await waitFor(() => docker(['ps', '-q', '--filter', 'label=io.kubernetes.container.name=app']) !== '', { timeoutMs: 30_000, description: 'static pod running' });
    await first.p.stop();
    expect(tags()).toEqual(['localhost/gc/unused1:1', 'localhost/gc/unused2:1', 'localhost/gc/unused3:1', 'localhost/nodelet/pause:3.9', 'localhost/nodelet/testbox:1.0']);

    const configDir = join(dir.path, 'cfg');
    mkdirSync(configDir);
    const config = join(configDir, 'config.yaml');
    writeFileSync(config, 'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nimageMinimumGCAge: 100ms\n');
    const second = await start('nl0-imagegc-2', [`--config=${config}`, '--image-gc-high-threshold=1', '--image-gc-low-threshold=0']);
    await waitFor(() => (tags().length === 2 ? true : undefined), { timeoutMs: 30_000, description: 'unused images removed' });
    expect(tags()).toEqual(['localhost/nodelet/pause:3.9', 'localhost/nodelet/testbox:1.0']);
    const metrics = await (await fetch(`http://127.0.0.1:${second.port}/metrics`)).text();
    expect(metrics).toMatch(/kubelet_image_garbage_collected_total\{reason="space"\} 3/);
    // The disk cannot get below 0 %: the collection reports what it could not free, with the upstream message.
    await waitFor(() => second.p.logs().includes('image garbage collection failed'), { timeoutMs: 10_000, description: 'failure logged' });
    expect(second.p.logs()).toContain('Failed to garbage collect required amount of images');
  });
});
