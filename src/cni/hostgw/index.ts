export { HostGwNetwork, nodeRouteInfo, type HostGwNetworkOptions, type HostGwSyncResult } from './agent.js';
export { LinuxPodNetworkHost, FakePodNetworkHost, type PodNetworkHost, type LinuxPodNetworkHostOptions } from './host.js';
export {
  hostGwConflist,
  desiredRoutes,
  routeChanges,
  masqueradeRestore,
  masqueradeHookArgs,
  cidrWithin,
  effectiveClusterCIDRs,
  familyOf,
  HOST_GW_CONF_FILE,
  HOST_GW_NETWORK,
  ROUTE_PROTO,
  MASQ_CHAIN,
  MASQ_HOOK_COMMENT,
} from './render.js';
export type { PodRoute, NodeRouteInfo, HostGwConfOptions } from './render.js';
