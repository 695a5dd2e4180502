/**
 * Plain data of the Container Network Interface as nodelet uses it (spec 0.4.0 and 1.0.0): a network configuration
 * list, the runtime arguments of one invocation, and a plugin result normalized across spec versions.
 */

/** One plugin entry of a configuration list (its raw JSON object: `type` plus plugin-specific keys). */
export interface PluginConf {
  type: string;
  /** Capabilities the plugin declares (`{"portMappings": true}`); only these runtimeConfig keys are passed to it. */
  capabilities?: Record<string, boolean>;
  [key: string]: unknown;
}

/** A parsed configuration list (`.conflist`, or a single `.conf` wrapped in a list as libcni does). */
export interface NetworkConfigList {
  name: string;
  cniVersion: string;
  disableCheck: boolean;
  plugins: PluginConf[];
  /** The file's bytes (a `.conf` is re-serialized as a list): stored in the cache so DEL/CHECK use what ADD used. */
  bytes: string;
  /** Where it came from ('' when built in memory). */
  source: string;
}

/** Arguments of one invocation apart from the network configuration (libcni RuntimeConf). */
export interface RuntimeConf {
  containerId: string;
  /** Path of the network namespace (`/proc/<pid>/ns/net`); '' on DEL when it is gone. */
  netns: string;
  ifName: string;
  /** CNI_ARGS pairs, in order. */
  args: [string, string][];
  /** runtimeConfig values by capability name (portMappings, bandwidth, ips, …). */
  capabilityArgs: Record<string, unknown>;
  /**
   * Who attached (kept in the cache, never sent to plugins): garbage collection only ever releases its own records,
   * never those of another runtime sharing the cache directory (containerd's CRI plugin uses /var/lib/cni too).
   */
  owner?: string;
}

/** One IP of a result. */
export interface CniIpConfig {
  /** CIDR notation, e.g. `10.244.1.5/24`. */
  address: string;
  gateway?: string;
  /** Index into `interfaces`. */
  interface?: number;
}

/** A plugin result, normalized to the 1.0.0 shape (0.4.0 `version` fields dropped). */
export interface CniResult {
  cniVersion: string;
  interfaces: { name: string; mac?: string; sandbox?: string }[];
  ips: CniIpConfig[];
  routes: { dst: string; gw?: string }[];
  dns: { nameservers?: string[]; domain?: string; search?: string[]; options?: string[] };
}

/** A port mapping in the `portMappings` capability format. */
export interface CniPortMapping {
  hostPort: number;
  containerPort: number;
  protocol: 'tcp' | 'udp' | 'sctp';
  hostIP?: string;
}

/** The `bandwidth` capability (bits per second, burst in bits). */
export interface CniBandwidth {
  ingressRate?: number;
  ingressBurst?: number;
  egressRate?: number;
  egressBurst?: number;
}
