import { describe, expect, it } from 'vitest';
import { hasCode } from '../util/errors.js';
import { networkSettings, NETWORK_DEFAULTS } from './network.js';
import { resolveConfig } from './resolve.js';

describe('network flags', () => {
  it('defaults to auto with the upstream CNI directories plus Debian\'s plugin directory', () => {
    expect(networkSettings({})).toEqual(NETWORK_DEFAULTS);
    expect(NETWORK_DEFAULTS.cniBinDirs).toEqual(['/opt/cni/bin', '/usr/lib/cni']);
    expect(resolveConfig({ flags: {}, hostname: 'h' }).network.plugin).toBe('auto');
  });

  it('takes every flag', () => {
    expect(
      networkSettings({
        'network-plugin': 'cni',
        'cni-conf-dir': '/c',
        'cni-bin-dir': '/a,/b',
        'cni-cache-dir': '/k',
        'pod-network': 'host-gw',
        'pod-network-kubeconfig': '/kc',
      }),
    ).toEqual({ plugin: 'cni', cniConfDir: '/c', cniBinDirs: ['/a', '/b'], cniCacheDir: '/k', podNetwork: 'host-gw', podNetworkKubeconfig: '/kc' });
  });

  it('rejects unknown values and host-gw without CNI, naming the flag', () => {
    expect(() => networkSettings({ 'network-plugin': 'kubenet' })).toThrow('flag --network-plugin: unknown value "kubenet" (allowed values: cni, docker)');
    expect(() => networkSettings({ 'pod-network': 'vxlan' })).toThrow('flag --pod-network: unknown value "vxlan" (allowed values: host-gw)');
    let err: unknown;
    try {
      networkSettings({ 'pod-network': 'host-gw', 'network-plugin': 'docker' });
    } catch (e) {
      err = e;
    }
    expect(hasCode(err, 'CONFIG_INVALID')).toBe(true);
  });
});
