/** What in a container's config depends on its pod's IPs. */
import type { V1Container } from '@kubernetes/client-node';

/** Downward-API fields whose value is the pod's IPs. */
const POD_IP_FIELDS = new Set(['status.podIP', 'status.podIPs']);

/**
 * True when the container's config embeds the pod's IPs (an env var from fieldRef status.podIP(s); `$(VAR)`
 * references in command/args only see env vars, so they are covered). Such a container cannot be configured before
 * its sandbox has started. Pure.
 */
export function readsPodIPs(c: V1Container): boolean {
  return (c.env ?? []).some((e) => POD_IP_FIELDS.has(e.valueFrom?.fieldRef?.fieldPath ?? ''));
}
