import { describe, expect, it } from 'vitest';
import { parseConfigText } from './load.js';
import { resolveConfig } from './resolve.js';
import type { RawFlag } from './flag-values.js';

const resolve = (flags: Record<string, RawFlag>) => resolveConfig({ flags, hostname: 'h7-a' });

describe('deprecated container GC flags (upstream kubelet v1.33 still accepts them)', () => {
  it('default to upstream: minAge 0, maxPerPodContainer 1, maxContainers -1, and no warning', () => {
    const c = resolve({});
    expect(c.kubelet.containerGC).toEqual({ minAgeMs: 0, maxPerPodContainer: 1, maxContainers: -1 });
    expect(c.warnings.filter((w) => w.includes('deprecated'))).toEqual([]);
  });

  it('are parsed and each one given warns with upstream\'s deprecation sentence', () => {
    const c = resolve({ 'minimum-container-ttl-duration': '2m30s', 'maximum-dead-containers-per-container': '3', 'maximum-dead-containers': '-5' });
    expect(c.kubelet.containerGC).toEqual({ minAgeMs: 150_000, maxPerPodContainer: 3, maxContainers: -5 });
    expect(c.warnings).toContain('Flag --maximum-dead-containers has been deprecated, Use --eviction-hard or --eviction-soft instead. Will be removed in a future version.');
    expect(c.warnings.filter((w) => w.startsWith('Flag --'))).toHaveLength(3);
  });

  it('refuse bad values with the flag named', () => {
    expect(() => resolve({ 'minimum-container-ttl-duration': '-5s' })).toThrow(/--minimum-container-ttl-duration: invalid minimum garbage collection age "-5s"/);
    expect(() => resolve({ 'minimum-container-ttl-duration': '10' })).toThrow(/--minimum-container-ttl-duration/);
    expect(() => resolve({ 'maximum-dead-containers': 'many' })).toThrow(/flag --maximum-dead-containers: expected an integer/);
    expect(() => resolve({ 'maximum-dead-containers-per-container': '1.5' })).toThrow(/--maximum-dead-containers-per-container/);
  });
});

describe('qosReserved (alpha upstream, QOSReserved gate)', () => {
  it('is refused at start with the field named, gate on or off', () => {
    const file = (extra: string) => () =>
      resolveConfig({
        flags: { config: '/x.yaml' },
        hostname: 'h7-a',
        readConfig: (p) => parseConfigText(`apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nqosReserved:\n  memory: 50%\n${extra}`, p),
      });
    expect(file('')).toThrow(/field "qosReserved": .*feature gate QOSReserved is off by default/);
    expect(file('featureGates:\n  QOSReserved: true\n')).toThrow(/field "qosReserved": .*QOSReserved is enabled, but nodelet does not implement it/);
  });
});
