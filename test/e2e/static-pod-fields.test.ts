/**
 * e2e (issue 12 item 4): a static pod using Pod fields of v1.33 that nodelet does not implement (pod-level
 * `spec.resources`, `restartPolicy` on a regular container) or a field newer than v1.33 is refused — the daemon logs
 * the file, the field and the reason and never runs it — while a valid manifest next to it runs. Standalone (no API
 * server): the same on the test API server and a real control plane, so it runs once, without a cluster.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runNodelet, waitFor, type NodeletProcess } from './harness/index.js';
import { tempDir } from './node-helpers.js';

const NODE = 'nl5-static';
const HEALTHZ_PORT = 20512;
let dir: ReturnType<typeof tempDir>;
let nodelet: NodeletProcess | undefined;

const docker = (args: string[]): string => execFileSync('docker', args, { encoding: 'utf8' }).trim();
const containersOf = (pod: string): string => docker(['ps', '-aq', '--filter', `label=io.nodelet.node=${NODE}`, '--filter', `label=io.kubernetes.pod.name=${pod}`]);

beforeAll(() => {
  dir = tempDir('nl5-static-');
  const manifests = join(dir.path, 'manifests');
  mkdirSync(manifests);
  const pod = (name: string, extra: string, ctrExtra = ''): string => `apiVersion: v1
kind: Pod
metadata: {name: ${name}}
spec:
  dnsPolicy: Default
  terminationGracePeriodSeconds: 1
${extra}  containers:
  - name: app
    image: localhost/nodelet/testbox:1.0
    imagePullPolicy: Never
    command: [sleep, "3600"]
${ctrExtra}`;
  writeFileSync(join(manifests, 'podres.yaml'), pod('nl5-podres', '  resources:\n    limits: {memory: 64Mi}\n'));
  writeFileSync(join(manifests, 'sidecarish.yaml'), pod('nl5-restart', '', '    restartPolicy: Always\n'));
  writeFileSync(join(manifests, 'newer.yaml'), pod('nl5-newer', '  hostnameOverride: other\n'));
  writeFileSync(join(manifests, 'good.yaml'), pod('nl5-good', ''));
  nodelet = runNodelet(
    [`--pod-manifest-path=${manifests}`, `--root-dir=${dir.path}/root`, `--hostname-override=${NODE}`, `--healthz-port=${HEALTHZ_PORT}`, '--port=20513', '--fail-swap-on=false', '--logging-format=json'],
    { name: 'nl5-static-pod-fields' },
  );
});

afterAll(async () => {
  await nodelet?.stop();
  const ids = docker(['ps', '-aq', '--filter', `label=io.nodelet.node=${NODE}`]);
  if (ids !== '') docker(['rm', '-f', ...ids.split('\n')]);
  dir?.remove();
});

describe('static pods and the v1.33 pod field table', () => {
  it('refuses unsupported and newer fields with file, field and reason, and runs the valid pod beside them', async () => {
    await waitFor(() => containersOf('nl5-good-nl5-static') !== '', { timeoutMs: 60_000, description: 'the valid static pod running' });
    const logs = nodelet!.logs();
    const lines = logs.split('\n').filter((l) => l.includes('invalid static pod manifest'));
    const line = (file: string): string => lines.find((l) => l.includes(file)) ?? '';
    expect(line('podres.yaml')).toContain('spec.resources: not supported by nodelet: pod-level resources (PodLevelResources) are not implemented');
    expect(line('sidecarish.yaml')).toContain('spec.containers[0].restartPolicy: Forbidden: may not be set for non-init containers');
    expect(line('newer.yaml')).toContain('spec.hostnameOverride: unknown field \\"hostnameOverride\\" (not a field of a Kubernetes v1.33 Pod');
    expect(containersOf('nl5-podres-nl5-static')).toBe('');
    expect(containersOf('nl5-restart-nl5-static')).toBe('');
    expect(containersOf('nl5-newer-nl5-static')).toBe('');
  }, 90_000);
});
