/**
 * Informer transforms (client-go SetTransform): keep only the fields of Services and EndpointSlices that the proxy
 * reads, so the informer caches (and the change trackers, which share the objects) do not hold managedFields,
 * ownerReferences, endpoint targetRefs and the like. At 10,000 services × 5 endpoints that is most of the bytes of
 * an object as the API server sends it. Pure; bad shapes pass through as far as they go (validation happens later).
 */
import type { KubeObject } from '../api/types.js';
import type { EndpointSliceObject, EndpointSpec, ServiceObject } from './apitypes.js';
import { LAST_CHANGE_TRIGGER_TIME, SERVICE_NAME_LABEL, SERVICE_PROXY_NAME_LABEL } from './apitypes.js';
import { TOPOLOGY_AWARE_HINTS_ANNOTATION, TOPOLOGY_MODE_ANNOTATION, ZONE_LABEL } from './topology.js';

const LB_SOURCE_RANGES_ANNOTATION = 'service.beta.kubernetes.io/load-balancer-source-ranges';

function pick(from: Record<string, string> | undefined, keys: readonly string[]): Record<string, string> | undefined {
  if (from === undefined || from === null || typeof from !== 'object') return undefined;
  let out: Record<string, string> | undefined;
  for (const k of keys) {
    const v = from[k];
    if (v !== undefined) (out ??= {})[k] = v;
  }
  return out;
}

function meta(m: KubeObject['metadata'], labels: readonly string[], annotations: readonly string[]): KubeObject['metadata'] {
  if (m === undefined || m === null || typeof m !== 'object') return m;
  return {
    name: m.name,
    namespace: m.namespace,
    uid: m.uid,
    resourceVersion: m.resourceVersion,
    labels: pick(m.labels, labels),
    annotations: pick(m.annotations, annotations),
  };
}

/** A Service reduced to what {@link servicePorts} and the topology check read. */
export function trimService(svc: ServiceObject): ServiceObject {
  const s = svc.spec;
  const spec: ServiceObject['spec'] =
    s === undefined || s === null || typeof s !== 'object'
      ? s
      : {
          type: s.type,
          clusterIP: s.clusterIP,
          clusterIPs: s.clusterIPs,
          ports: Array.isArray(s.ports) ? s.ports.map((p) => ({ name: p.name, protocol: p.protocol, port: p.port, nodePort: p.nodePort })) : s.ports,
          externalIPs: s.externalIPs,
          loadBalancerSourceRanges: s.loadBalancerSourceRanges,
          sessionAffinity: s.sessionAffinity,
          sessionAffinityConfig: s.sessionAffinityConfig,
          externalTrafficPolicy: s.externalTrafficPolicy,
          internalTrafficPolicy: s.internalTrafficPolicy,
          healthCheckNodePort: s.healthCheckNodePort,
          trafficDistribution: s.trafficDistribution,
        };
  const ingress = svc.status?.loadBalancer?.ingress;
  return {
    apiVersion: svc.apiVersion,
    kind: svc.kind,
    metadata: meta(svc.metadata, [SERVICE_PROXY_NAME_LABEL], [LB_SOURCE_RANGES_ANNOTATION, TOPOLOGY_MODE_ANNOTATION, TOPOLOGY_AWARE_HINTS_ANNOTATION]),
    spec,
    ...(Array.isArray(ingress) ? { status: { loadBalancer: { ingress: ingress.map((i) => ({ ip: i.ip, ipMode: i.ipMode })) } } } : {}),
  };
}

function trimEndpoint(e: EndpointSpec): EndpointSpec {
  if (e === null || typeof e !== 'object') return e;
  return { addresses: e.addresses, conditions: e.conditions, nodeName: e.nodeName, zone: e.zone, hints: e.hints };
}

/** An EndpointSlice reduced to what the endpoints tracker reads. */
export function trimEndpointSlice(slice: EndpointSliceObject): EndpointSliceObject {
  return {
    apiVersion: slice.apiVersion,
    kind: slice.kind,
    metadata: meta(slice.metadata, [SERVICE_NAME_LABEL], [LAST_CHANGE_TRIGGER_TIME]),
    addressType: slice.addressType,
    endpoints: Array.isArray(slice.endpoints) ? slice.endpoints.map(trimEndpoint) : slice.endpoints,
    ports: slice.ports,
  };
}

/** This node reduced to its identity and zone label (the proxy's node informer). */
export function trimNode(node: KubeObject): KubeObject {
  return { apiVersion: node.apiVersion, kind: node.kind, metadata: meta(node.metadata, [ZONE_LABEL], []) };
}
