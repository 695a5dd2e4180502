/**
 * Builds the pod network pieces of the daemon: the CNI network of the Docker backend (nodelet as cri-dockerd) and,
 * with --pod-network=host-gw, the pod network agent.
 */
import type { V1Node } from '@kubernetes/client-node';
import { readdirSync } from 'node:fs';
import { createInformer, loadKubeConfig } from '../api/index.js';
import { HostGwNetwork, LinuxPodNetworkHost } from '../cni/hostgw/index.js';
import { CniPodNetwork, configFileNames, ExecCniPlugin, type PodNetwork } from '../cni/index.js';
import type { NodeletConfig } from '../config/index.js';
import { ConfigError, errorMessage, type Logger } from '../util/index.js';
import type { WiringContext } from './daemon.js';
import type { Role } from './role.js';

/** True when the CNI config directory holds at least one config file (at startup). */
export function hasCniConfig(dir: string): boolean {
  try {
    return configFileNames(readdirSync(dir)).length > 0;
  } catch {
    return false;
  }
}

/** Whether the Docker backend runs pods on CNI: --network-plugin, or auto (a config present, or a pod network set). */
export function dockerUsesCni(config: NodeletConfig): boolean {
  const n = config.network;
  if (n.plugin !== 'auto') return n.plugin === 'cni';
  return n.podNetwork !== '' || hasCniConfig(n.cniConfDir);
}

/** The CNI pod network of the Docker backend, or undefined in Docker bridge mode. */
export function dockerPodNetwork(config: NodeletConfig, logger: Logger): PodNetwork | undefined {
  if (!dockerUsesCni(config)) return undefined;
  const n = config.network;
  logger.info({ confDir: n.cniConfDir, binDirs: n.cniBinDirs, cacheDir: n.cniCacheDir }, 'Docker backend: pod networking through CNI');
  const plugin = new ExecCniPlugin({ binDirs: n.cniBinDirs, cacheDir: n.cniCacheDir, timeoutMs: config.kubelet.runtimeRequestTimeoutMs, logger });
  return new CniPodNetwork({ plugin, confDir: n.cniConfDir, logger, owner: `nodelet-docker ${config.kubelet.containerRuntimeEndpoint}` });
}

/** The host-gw pod network role (--pod-network=host-gw), or [] without it. Throws ConfigError when it cannot run. */
export function podNetworkRoles(ctx: WiringContext): Role[] {
  const n = ctx.config.network;
  if (n.podNetwork !== 'host-gw') return [];
  let kc = ctx.kubeConfig;
  if (n.podNetworkKubeconfig !== '') {
    try {
      kc = loadKubeConfig(n.podNetworkKubeconfig);
    } catch (err) {
      throw new ConfigError(`flag --pod-network-kubeconfig: cannot load ${n.podNetworkKubeconfig}: ${errorMessage(err)}`, { field: '--pod-network-kubeconfig', cause: err });
    }
  }
  if (kc === undefined) throw new ConfigError('flag --pod-network=host-gw needs an API server (--kubeconfig)', { field: '--pod-network' });
  const logger = ctx.logger.child({ role: 'pod-network' });
  const net = new HostGwNetwork({
    nodeName: ctx.config.nodeName,
    nodes: createInformer<V1Node>(kc, { path: '/api/v1/nodes' }, logger),
    host: new LinuxPodNetworkHost(),
    confDir: n.cniConfDir,
    clusterCIDRs: ctx.config.proxy.clusterCIDRs,
    logger,
  });
  return [{ name: 'pod-network', start: async () => net.start(), stop: () => net.stop() }];
}
