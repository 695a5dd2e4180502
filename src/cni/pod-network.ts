import type { PortMapping } from '../cri/types.js';

/** What the network needs to know about a sandbox. */
export interface SandboxNetworkRef {
  /** The sandbox (infra container) ID: CNI_CONTAINERID and K8S_POD_INFRA_CONTAINER_ID. */
  id: string;
  /** `/proc/<pid>/ns/net` of the sandbox; '' when the sandbox no longer runs (teardown). */
  netns: string;
  namespace: string;
  name: string;
  uid: string;
}

/** A sandbox to attach: its identity plus what the capabilities need. */
export interface SandboxNetworkSpec extends SandboxNetworkRef {
  portMappings: readonly PortMapping[];
  annotations: Readonly<Record<string, string>>;
}

/** Readiness of the pod network (the runtime's NetworkReady condition). */
export interface PodNetworkStatus {
  ready: boolean;
  /** 'NetworkPluginNotReady' when not ready. */
  reason: string;
  message: string;
}

/**
 * The pod network of a runtime that does not run CNI itself (cri-dockerd's NetworkPlugin): attaches and detaches
 * sandboxes and knows their IPs. Implementations: `CniPodNetwork` (CNI plugins) and `FakePodNetwork`.
 *
 * Contract:
 * - `setUp` attaches a running sandbox and returns its pod IPs (IPv4 first). On failure it has already released
 *   whatever was allocated and throws (CniError for plugin and configuration errors).
 * - `tearDown` detaches; idempotent (a sandbox never attached, or already detached, succeeds); works after an agent
 *   restart and with netns '' (from what setUp cached).
 * - `podIps` answers from what setUp recorded ([] for an unknown sandbox), also after a restart.
 * - `check` verifies a running sandbox's attachment (CNI CHECK); throws when it is broken.
 * - `garbageCollect` reads its records, then calls `listLive`, and detaches every recorded sandbox not in it (in that
 *   order, so a sandbox attached meanwhile is never released); returns how many.
 * - Calls for one sandbox are serialized internally; different sandboxes proceed concurrently.
 */
export interface PodNetwork {
  setUp(sandbox: SandboxNetworkSpec): Promise<string[]>;
  tearDown(sandbox: SandboxNetworkRef): Promise<void>;
  podIps(sandboxId: string): Promise<string[]>;
  check(sandbox: SandboxNetworkRef): Promise<void>;
  status(): Promise<PodNetworkStatus>;
  garbageCollect(listLive: () => Promise<ReadonlySet<string>>): Promise<number>;
}
