/** Options of {@link createPodEnvironment}, a plain object validated once at construction. */
import type { PodObjectSource } from '../../api/objects.js';
import type { EventRecorder } from '../../api/types.js';
import type { Clock } from '../../util/clock.js';
import type { Logger } from '../../util/logger.js';
import type { NodeAllocatable } from '../env/resourcefield.js';
import type { Mounter } from '../volumes/mounter.js';

/** Everything the pod environment needs from the node and the cluster. */
export interface PodEnvironmentOptions {
  /** Kubelet root dir; pods live under `<rootDir>/pods/<uid>` (upstream default /var/lib/kubelet). */
  rootDir: string;
  nodeName: string;
  /** Node IPs (status.hostIP(s) in the downward API; family of the localhost resolver when resolvConf is ""). */
  nodeIPs: string[];
  /** Sandbox (pause) image, e.g. `localhost/nodelet/pause:3.9`. */
  podInfraImage: string;
  /** Cluster DNS server IPs (clusterDNS); empty: ClusterFirst pods fall back to Default with an event. */
  clusterDNS: string[];
  /** Cluster domain (clusterDomain), e.g. `cluster.local`; '' = no cluster search domains. */
  clusterDomain: string;
  /** The host's resolv.conf (default /etc/resolv.conf); '' = none (upstream: pods use a localhost resolver). */
  resolvConf?: string;
  /** API objects (ConfigMaps, Secrets, Services, TokenRequest); undefined in standalone mode. */
  objects?: PodObjectSource;
  /** Events (FailedMount is the worker's; this records DNSConfigForming, MissingClusterDNS, InvalidEnvironmentVariableNames). */
  recorder?: EventRecorder;
  /** Used as given (callers pass e.g. `logger.child({ component: 'podenv' })`). */
  logger: Logger;
  clock: Clock;
  /** Root of pod log directories (default /var/log/pods): `<podLogsDir>/<ns>_<name>_<uid>`. */
  podLogsDir?: string;
  /** Per-container pids limit (podPidsLimit); -1/undefined = unlimited. */
  podPidsLimit?: number;
  /** Enforce CPU limits with CFS quota (default true). */
  cpuCFSQuota?: boolean;
  /** Unsafe sysctls (or `prefix.*` patterns) pods may set besides the safe set. */
  allowedUnsafeSysctls?: string[];
  /** Node allocatable used as default for unset limits in the downward API (default: all CPUs, memory, disk of rootDir). */
  allocatable?: Partial<NodeAllocatable>;
  /** Node memory capacity for the Burstable oom_score_adj (default os.totalmem()). */
  memoryCapacityBytes?: number;
  /** The host's /etc/hosts, copied for hostNetwork pods (default /etc/hosts). */
  hostsFile?: string;
  /** Mount seam: src/cli passes the real mount(8) (HostMounter), tests a FakeMounter. */
  mounter: Mounter;
}
