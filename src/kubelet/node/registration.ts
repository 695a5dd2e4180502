/**
 * Registering the Node (upstream kubelet_node_status.go tryRegisterWithAPIServer): create it; when it exists
 * already, bring the labels the kubelet owns up to date and take it over. One attempt per call; the caller backs off.
 */
import type { V1Node } from '@kubernetes/client-node';
import type { NodeApi } from '../../api/nodes.js';
import { isAlreadyExists } from '../../util/errors.js';

/** Labels on `existing` that differ from `desired` (the ones the kubelet sets); empty when in sync. */
export function labelUpdates(existing: V1Node, desired: V1Node): Record<string, string> {
  const have = existing.metadata?.labels ?? {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(desired.metadata?.labels ?? {})) if (have[k] !== v) out[k] = v;
  return out;
}

/** Creates or adopts the Node. Returns the Node as stored. Throws classified API errors. */
export async function registerNode(api: NodeApi, desired: V1Node): Promise<{ node: V1Node; created: boolean }> {
  const name = desired.metadata?.name ?? '';
  try {
    return { node: await api.create(desired), created: true };
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
  }
  const existing = await api.get(name);
  const labels = labelUpdates(existing, desired);
  if (Object.keys(labels).length === 0) return { node: existing, created: false };
  return { node: await api.patch(name, { metadata: { labels } }), created: false };
}
