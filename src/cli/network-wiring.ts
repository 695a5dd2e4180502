/**
 * Builds the pod network pieces of the daemon: the CNI network of the Docker backend (nodelet as cri-dockerd),
 * with --pod-network=host-gw the pod network agent, and the hand-over of the Node's pod CIDRs to a runtime that
 * takes them.
 */
import type { V1Node } from '@kubernetes/client-node';
import { readdirSync } from 'node:fs';
import { ApiClient, createInformer, createNodeApi, loadKubeConfig } from '../api/index.js';
import { HostGwNetwork, LinuxPodNetworkHost } from '../cni/hostgw/index.js';
import { CniPodNetwork, configFileNames, ExecCniPlugin, type PodNetwork } from '../cni/index.js';
import type { NodeletConfig } from '../config/index.js';
import { podCidrUpdaterOf } from '../cri/index.js';
import { PodCidrSync, type NodeAgent } from '../kubelet/node/index.js';
import { ConfigError, errorMessage, type Logger } from '../util/index.js';
import type { WiringContext } from './daemon.js';
import { runCleanup as runProxyCleanup } from './proxy-role.js';
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

/**
 * The role handing the Node's pod CIDRs to the runtime (upstream kubelet's updatePodCIDR), when the runtime takes
 * them (the CRI runtime: UpdateRuntimeConfig, as the upstream kubelet; the fake runtime: hollow nodes' pod IPs come from
 * their podCIDR once allocated); [] otherwise (the Docker backend) and in
 * standalone mode.
 */
export function podCidrRoles(ctx: WiringContext, nodeAgent: NodeAgent | undefined): Role[] {
  const runtime = podCidrUpdaterOf(ctx.runtime);
  if (runtime === undefined || nodeAgent === undefined || ctx.kubeConfig === undefined) return [];
  const api = new ApiClient(ctx.kubeConfig);
  const nodes = createNodeApi(api);
  const name = ctx.config.nodeName;
  const sync = new PodCidrSync({ node: () => nodeAgent.node(), fetchNode: () => nodes.get(name), runtime, clock: ctx.clock, logger: ctx.logger.child({ component: 'pod-cidr' }) });
  return [
    {
      name: 'pod-cidr',
      start: async () => sync.start(),
      stop: async () => {
        await sync.stop();
        api.close();
      },
    },
  ];
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

/**
 * `--cleanup`: the proxy's rules, and with --pod-network=host-gw also the pod network's masquerade chains and their
 * POSTROUTING hooks (iptables and ip6tables; routes stay, pods may still run). Returns the exit code.
 */
export async function runNodeCleanup(config: NodeletConfig, logger: Logger): Promise<number> {
  const code = await runProxyCleanup(config, logger);
  if (config.network.podNetwork !== 'host-gw') return code;
  try {
    await new LinuxPodNetworkHost().removeMasquerade();
    logger.info('pod network masquerade chains removed');
    return code;
  } catch (err) {
    logger.error({ err: errorMessage(err) }, 'removing the pod network masquerade chains failed');
    return 1;
  }
}
