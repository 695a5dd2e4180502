import { describe, expect, it } from 'vitest';
import { parseConfigText, resolveConfig } from './index.js';
import { isPathClean } from './pod-logs-dir.js';

const doc = (line: string): string => `apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n${line}\n`;

function resolve(file?: string) {
  return resolveConfig({
    flags: file === undefined ? {} : { config: '/etc/nodelet/config.yaml' },
    hostname: 'worker-1',
    readConfig: (p) => parseConfigText(file ?? '', p),
  });
}

function message(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected an error');
}

describe('podLogsDir', () => {
  it('defaults to /var/log/pods, also when empty (upstream defaulting)', () => {
    expect(resolve().kubelet.podLogsDir).toBe('/var/log/pods');
    expect(resolve(doc('podLogsDir: ""')).kubelet.podLogsDir).toBe('/var/log/pods');
    expect(resolve(doc('podLogsDir: /srv/pod-logs')).kubelet.podLogsDir).toBe('/srv/pod-logs');
  });

  it('refuses a relative, unnormalized or non-ASCII path with upstream wording', () => {
    expect(message(() => resolve(doc('podLogsDir: var/log/pods')))).toContain('pod logs path "var/log/pods" must be absolute path');
    for (const p of ['/var/log/pods/', '/var//log', '/var/log/../pods', '/var/./log']) {
      expect(message(() => resolve(doc(`podLogsDir: "${p}"`)))).toContain(`pod logs path "${p}" must be normalized`);
    }
    expect(message(() => resolve(doc('podLogsDir: /var/log/pöds')))).toContain('must be ASCII characters only');
  });

  it('isPathClean matches Go filepath.Clean(p) == p', () => {
    expect(['/', '/a', '/a/b', 'a/b'].map(isPathClean)).toEqual([true, true, true, true]);
    expect(['', '/a/', '//a', '/a/.', '/a/..', 'a/../b', './a'].map(isPathClean)).toEqual([false, false, false, false, false, false, false]);
  });
});
