/**
 * The seam between the pod workers (src/kubelet/pods) and the pod environment (volumes, env, DNS, hosts, resources,
 * security context). The pod workers call these in order: prepareVolumes → sandboxConfig → (runtime runs sandbox) →
 * containerConfig for each container → (runtime creates/starts) … → cleanupPod after every container is gone.
 */
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import type { ContainerConfig, Image, PodSandboxConfig } from '../../cri/types.js';

/** What the pod worker knows when it builds a container's config. */
export interface ContainerContext {
  /** Pod IPs from the sandbox ('' entries never appear; empty list when not known yet). */
  podIPs: string[];
  /** Node's IPs (status.hostIP(s)). */
  hostIPs: string[];
  /** Restart attempt of this container (0 for the first). */
  attempt: number;
  /** The image as the runtime knows it (user, stop signal), after the pull. */
  image: Image;
  /** True for init containers (including sidecars). */
  isInit: boolean;
  /** Directory where this pod's container logs are kept. */
  logDirectory: string;
}

/**
 * Builds everything a pod's sandbox and containers need from the host.
 *
 * Errors (stable codes, see src/util/errors.ts):
 * - MOUNT_FAILED from prepareVolumes: a referenced object is missing or a hostPath check failed; the worker reports
 *   a FailedMount event (the message names the volume) and retries; the pod stays ContainerCreating.
 * - CREATE_CONTAINER_CONFIG from containerConfig: a missing configMap/secret key in env, runAsNonRoot with a root
 *   image, …; the worker sets waiting reason CreateContainerConfigError with the error's message and retries.
 */
export interface PodEnvironment {
  /** Sets up (or refreshes) the pod's volumes under the root dir. Idempotent. */
  prepareVolumes(pod: V1Pod, signal?: AbortSignal): Promise<void>;
  /** The sandbox config: metadata, hostname, DNS, port mappings, namespace options, sysctls, labels. */
  sandboxConfig(pod: V1Pod, attempt: number): Promise<PodSandboxConfig>;
  /**
   * The full CRI container config: image, command/args with $(VAR) expansion, env, mounts, resources, security. The
   * pod workers add the identity labels and the container hash annotation themselves.
   */
  containerConfig(pod: V1Pod, container: V1Container, ctx: ContainerContext): Promise<ContainerConfig>;
  /** Removes the pod's volumes and generated files. Idempotent; called once the pod has no containers left. */
  cleanupPod(podUID: string): Promise<void>;
  /**
   * UIDs of pods that still have a directory under the root dir (optional capability). The housekeeping loop calls
   * cleanupPod for those that are neither desired nor running, e.g. after an agent restart (upstream
   * cleanupOrphanedPodDirs).
   */
  podUIDsOnDisk?(): Promise<string[]>;
}
