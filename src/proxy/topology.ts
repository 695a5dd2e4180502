/**
 * Topology-aware routing (upstream pkg/proxy/topology.go, v1.27–1.29 semantics plus trafficDistribution): a service
 * that asks for it (annotation `service.kubernetes.io/topology-mode: Auto`, the older
 * `service.kubernetes.io/topology-aware-hints: Auto`, or `spec.trafficDistribution`) uses, for cluster-wide traffic,
 * only the endpoints hinted for this node's zone (`hints.forZones`) — but only when EVERY ready endpoint carries a zone
 * hint and at least one is hinted for this zone; otherwise all endpoints are used. Pure.
 */
import type { ServiceObject } from './apitypes.js';

/** Service annotation selecting topology-aware routing (v1.27+). */
export const TOPOLOGY_MODE_ANNOTATION = 'service.kubernetes.io/topology-mode';
/** Its deprecated predecessor, used when the new one is absent. */
export const TOPOLOGY_AWARE_HINTS_ANNOTATION = 'service.kubernetes.io/topology-aware-hints';
/** Node label naming the node's zone. */
export const ZONE_LABEL = 'topology.kubernetes.io/zone';

/** The part of an endpoint the topology decision reads. */
export interface HintedEndpoint {
  ready: boolean;
  /** Zones from `hints.forZones`; undefined or empty = no hint. */
  zoneHints?: readonly string[];
}

/**
 * Upstream HintsAnnotation + trafficDistribution: true when the service asks for hint-based routing. The
 * topology-mode annotation wins over the deprecated one even when it disables ("Disabled").
 */
export function topologyRequested(svc: ServiceObject): boolean {
  const a = svc.metadata?.annotations;
  const mode = a?.[TOPOLOGY_MODE_ANNOTATION] ?? a?.[TOPOLOGY_AWARE_HINTS_ANNOTATION] ?? '';
  if (mode === 'Auto' || mode === 'auto') return true;
  const td = svc.spec?.trafficDistribution;
  return td === 'PreferClose' || td === 'PreferSameZone';
}

/**
 * Upstream canUseTopology: the node has a zone, every ready endpoint has a zone hint, and at least one ready
 * endpoint is hinted for this zone. False when there are no ready endpoints.
 */
export function canUseZoneHints(endpoints: readonly HintedEndpoint[], zone: string): boolean {
  if (zone === '') return false;
  let forZone = false;
  for (const e of endpoints) {
    if (!e.ready) continue;
    const hints = e.zoneHints;
    if (hints === undefined || hints.length === 0) return false;
    if (hints.includes(zone)) forZone = true;
  }
  return forZone;
}

/** Upstream availableForTopology for zone hints. */
export function hintedForZone(e: HintedEndpoint, zone: string): boolean {
  return e.zoneHints?.includes(zone) ?? false;
}
