import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfigText, resolveConfig } from '../../src/config/index.js';
import { withPrivatePodLogsDir } from '../e2e/harness/pod-logs.js';

const KUBELET = 'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n';

describe('e2e harness: a podLogsDir of its own per agent run', () => {
  let dir = '';
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const podLogsDirOf = (args: string[]): string => {
    const config = args.find((a) => a.startsWith('--config='))?.slice('--config='.length) ?? '';
    return resolveConfig({ flags: { config }, hostname: 'n', readConfig: (p) => parseConfigText(readFileSync(p, 'utf8'), p) }).kubelet.podLogsDir;
  };

  it('adds a config without --config, and a copy with the field appended to a single KubeletConfiguration', () => {
    dir = mkdtempSync(join(tmpdir(), 'lg-harness-'));
    const root = join(dir, 'root');
    const bare = withPrivatePodLogsDir([`--root-dir=${root}`]);
    expect(podLogsDirOf(bare)).toBe(`${root}/pod-logs`);
    const file = join(dir, 'config.yaml');
    writeFileSync(file, `${KUBELET}maxPods: 42`);
    const copied = withPrivatePodLogsDir([`--config=${file}`, `--root-dir=${root}`]);
    expect(copied[0]).toBe(`--config=${file}.test-defaults.yaml`);
    expect(podLogsDirOf(copied)).toBe(`${root}/pod-logs`);
    expect(readFileSync(file, 'utf8')).toBe(`${KUBELET}maxPods: 42`);
  });

  it('leaves runs without a root dir, files that set podLogsDir and multi-document files alone', () => {
    dir = mkdtempSync(join(tmpdir(), 'lg-harness-'));
    const own = join(dir, 'own.yaml');
    writeFileSync(own, `${KUBELET}podLogsDir: /srv/logs\n`);
    const multi = join(dir, 'multi.yaml');
    writeFileSync(multi, `${KUBELET}---\napiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\n`);
    for (const args of [['--max-pods=3'], [`--config=${own}`, '--root-dir=/r'], [`--config=${multi}`, '--root-dir=/r'], ['--config=/nonexistent/lg.yaml', '--root-dir=/r']]) {
      expect(withPrivatePodLogsDir(args)).toEqual(args);
    }
  });
});
