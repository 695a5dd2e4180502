/**
 * e2e (issue 3): the built `nodelet` binary rejects bad configuration before starting anything (non-zero exit, one
 * message naming the field or flag and what is allowed), and prints --help / --version.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './harness/index.js';
import { tempDir } from './node-helpers.js';

const dir = tempDir('nl3-cli-');
afterAll(() => dir.remove());

function nodelet(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(join(REPO_ROOT, 'node_modules/.bin/node'), [join(REPO_ROOT, 'dist/nodelet.mjs'), ...args], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function config(name: string, text: string): string {
  const p = join(dir.path, name);
  writeFileSync(p, text);
  return p;
}

const KUBELET = 'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n';

describe('nodelet CLI', () => {
  it('rejects a misspelled config field naming it and the file, before creating the root dir', () => {
    const root = join(dir.path, 'root-typo');
    const r = nodelet([`--config=${config('typo.yaml', `${KUBELET}staticPodPth: /etc/kubernetes/manifests\n`)}`, `--root-dir=${root}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('typo.yaml, document 1 (KubeletConfiguration): unknown field "staticPodPth" (did you mean "staticPodPath"?)');
    expect(existsSync(root)).toBe(false);
  });

  it('rejects wrong types, out-of-range values and unknown flags naming them', () => {
    const t = nodelet([`--config=${config('type.yaml', `${KUBELET}maxPods: "many"\nhealthzPort: 70000\n`)}`]);
    expect(t.code).toBe(1);
    expect(t.stderr).toContain('field "maxPods": expected an integer from 1 to 10000 (got "many")');
    expect(t.stderr).toContain('field "healthzPort": must be an integer from 0 to 65535 (got 70000)');
    const f = nodelet(['--max-pods=0']);
    expect(f.code).toBe(1);
    expect(f.stderr).toContain('flag --max-pods: must be an integer from 1 to 10000 (got 0)');
    const u = nodelet(['--no-such-flag']);
    expect(u.code).not.toBe(0);
    expect(u.stderr).toContain("unknown option '--no-such-flag'");
  });

  it('prints --help with the flag groups and --version', () => {
    const h = nodelet(['--help']);
    expect(h.code).toBe(0);
    for (const f of ['--kubeconfig', '--pod-manifest-path', '--roles', '--proxy-healthz-bind-address', '--cluster-cidr', '--fail-swap-on']) expect(h.stdout).toContain(f);
    const v = nodelet(['--version']);
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(/^nodelet \d+\.\d+\.\d+ \(Kubernetes v1\.33\.0-nodelet\)/);
  });
});
