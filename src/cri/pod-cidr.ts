/**
 * The optional runtime capability behind CRI `UpdateRuntimeConfig(networkConfig.podCidr)`: the kubelet hands the
 * runtime its Node's pod CIDRs once the controller-manager has set them (upstream kubelet's `updatePodCIDR`).
 */
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { InvalidError } from '../util/errors.js';

/**
 * A runtime that takes its pod CIDRs from the kubelet. Contract: idempotent; sandboxes created afterwards get
 * addresses from `cidrs` (IPv4 first, at most one per family), existing ones keep theirs. Throws InvalidError for a
 * malformed CIDR (and keeps the previous ones).
 */
export interface PodCidrUpdater {
  updatePodCIDR(cidrs: readonly string[]): Promise<void>;
}

/** The runtime's PodCidrUpdater side, when it has one (detected at run time: the CRI and the fake runtime). */
export function podCidrUpdaterOf(runtime: object): PodCidrUpdater | undefined {
  const r = runtime as Partial<PodCidrUpdater>;
  return typeof r.updatePodCIDR === 'function' ? (r as PodCidrUpdater) : undefined;
}

/**
 * Checks pod CIDRs as a runtime takes them: one or two CIDRs, at most one per family. Pure. Throws InvalidError
 * (field `podCIDR`) naming the bad value.
 */
export function checkPodCIDRs(cidrs: readonly string[]): void {
  if (cidrs.length === 0) throw new InvalidError('pod CIDRs: none given', { field: 'podCIDR' });
  const families = cidrs.map((cidr) => {
    const addr = cidr.split('/')[0] ?? '';
    try {
      ipaddr.parseCIDR(cidr);
    } catch (err) {
      throw new InvalidError(`pod CIDR "${cidr}" is not a CIDR`, { field: 'podCIDR', cause: err });
    }
    if (isIP(addr) === 0) throw new InvalidError(`pod CIDR "${cidr}" is not a CIDR`, { field: 'podCIDR' });
    return isIP(addr);
  });
  if (families.length > 2 || new Set(families).size !== families.length) {
    throw new InvalidError(`pod CIDRs ${cidrs.join(',')}: at most one per family`, { field: 'podCIDR' });
  }
}
