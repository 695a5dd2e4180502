/** Resolution of the pod network flags (--network-plugin, --cni-*, --pod-network) into {@link NetworkSettings}. */
import { ConfigError } from '../util/errors.js';
import { convertFlag, type RawFlag } from './flag-values.js';
import { FLAGS } from './flags.js';
import type { NetworkSettings } from './types.js';

/** Upstream defaults of the CNI directories (plus Debian's plugin directory). */
export const NETWORK_DEFAULTS: NetworkSettings = {
  plugin: 'auto',
  cniConfDir: '/etc/cni/net.d',
  cniBinDirs: ['/opt/cni/bin', '/usr/lib/cni'],
  cniCacheDir: '/var/lib/cni',
  podNetwork: '',
  podNetworkKubeconfig: '',
};

function flag(flags: Readonly<Record<string, RawFlag | undefined>>, name: string): unknown {
  const raw = flags[name];
  const spec = FLAGS.find((f) => f.name === name);
  return raw === undefined || spec === undefined ? undefined : convertFlag(spec, raw);
}

function oneOf<T extends string>(name: string, v: unknown, allowed: readonly T[], dflt: T): T {
  if (v === undefined) return dflt;
  if (!allowed.includes(v as T)) {
    throw new ConfigError(`flag --${name}: unknown value "${String(v)}" (allowed values: ${allowed.filter((a) => a !== '').join(', ')})`, { field: `--${name}` });
  }
  return v as T;
}

/** Validates the network flags; throws ConfigError naming the flag. */
export function networkSettings(flags: Readonly<Record<string, RawFlag | undefined>>): NetworkSettings {
  const plugin = oneOf('network-plugin', flag(flags, 'network-plugin'), ['cni', 'docker'] as const, 'auto' as 'cni');
  const podNetwork = oneOf('pod-network', flag(flags, 'pod-network'), ['', 'host-gw'] as const, '');
  if (podNetwork === 'host-gw' && plugin === 'docker') {
    throw new ConfigError('flag --pod-network=host-gw needs CNI: drop --network-plugin=docker', { field: '--network-plugin' });
  }
  const dirs = flag(flags, 'cni-bin-dir') as string[] | undefined;
  return {
    plugin,
    cniConfDir: (flag(flags, 'cni-conf-dir') as string | undefined) || NETWORK_DEFAULTS.cniConfDir,
    cniBinDirs: dirs !== undefined && dirs.length > 0 ? dirs : [...NETWORK_DEFAULTS.cniBinDirs],
    cniCacheDir: (flag(flags, 'cni-cache-dir') as string | undefined) || NETWORK_DEFAULTS.cniCacheDir,
    podNetwork,
    podNetworkKubeconfig: (flag(flags, 'pod-network-kubeconfig') as string | undefined) ?? '',
  };
}
