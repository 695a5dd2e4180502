/**
 * The optional runtime capability behind CRI `UpdateRuntimeConfig(networkConfig.podCidr)`: the kubelet hands the
 * runtime its Node's pod CIDRs once the controller-manager has set them (upstream kubelet's `updatePodCIDR`).
 */

/**
 * A runtime that takes its pod CIDRs from the kubelet. Contract: idempotent; sandboxes created afterwards get
 * addresses from `cidrs` (IPv4 first, at most one per family), existing ones keep theirs. Throws InvalidError for a
 * malformed CIDR (and keeps the previous ones).
 */
export interface PodCidrUpdater {
  updatePodCIDR(cidrs: readonly string[]): Promise<void>;
}

/** The runtime's PodCidrUpdater side, when it has one (detected at run time; today only the fake runtime). */
export function podCidrUpdaterOf(runtime: object): PodCidrUpdater | undefined {
  const r = runtime as Partial<PodCidrUpdater>;
  return typeof r.updatePodCIDR === 'function' ? (r as PodCidrUpdater) : undefined;
}
