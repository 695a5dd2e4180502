/**
 * The parts of core/v1 Service and discovery.k8s.io/v1 EndpointSlice the proxy reads, as they arrive in JSON from
 * the API (informers deliver plain objects). Every field is optional: bad or partial objects must never crash.
 */
import type { KubeObject } from '../api/types.js';

/** core/v1 ServicePort. */
export interface ServicePortSpec {
  name?: string;
  protocol?: string;
  port?: number;
  targetPort?: number | string;
  nodePort?: number;
}

/** core/v1 Service (subset). */
export interface ServiceObject extends KubeObject {
  spec?: {
    type?: string;
    clusterIP?: string;
    clusterIPs?: string[];
    ipFamilies?: string[];
    ports?: ServicePortSpec[];
    externalIPs?: string[];
    loadBalancerSourceRanges?: string[];
    sessionAffinity?: string;
    sessionAffinityConfig?: { clientIP?: { timeoutSeconds?: number } };
    externalTrafficPolicy?: string;
    internalTrafficPolicy?: string;
    healthCheckNodePort?: number;
    /** v1.30+: PreferClose (PreferSameZone) asks for topology-aware routing like the topology-mode annotation. */
    trafficDistribution?: string;
  };
  status?: { loadBalancer?: { ingress?: { ip?: string; hostname?: string; ipMode?: string }[] } };
}

/** discovery.k8s.io/v1 Endpoint. */
export interface EndpointSpec {
  addresses?: string[];
  conditions?: { ready?: boolean | null; serving?: boolean | null; terminating?: boolean | null };
  nodeName?: string;
  zone?: string;
  hints?: { forZones?: { name: string }[]; forNodes?: { name: string }[] };
}

/** discovery.k8s.io/v1 EndpointSlice (subset). */
export interface EndpointSliceObject extends KubeObject {
  addressType?: string;
  endpoints?: EndpointSpec[] | null;
  ports?: { name?: string | null; port?: number | null; protocol?: string | null }[] | null;
}

/** Label on an EndpointSlice naming its Service. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
/** Label opting a Service out of this proxy (kube-proxy ignores objects carrying it). */
export const SERVICE_PROXY_NAME_LABEL = 'service.kubernetes.io/service-proxy-name';
/** Label marking headless services' slices. */
export const HEADLESS_LABEL = 'service.kubernetes.io/headless';
/** Annotation with the time of the change that triggered an EndpointSlice update (network programming latency). */
export const LAST_CHANGE_TRIGGER_TIME = 'endpoints.kubernetes.io/last-change-trigger-time';
