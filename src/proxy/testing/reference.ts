/**
 * The kube-proxy v1.24 reference case set (src/proxy/testdata, copied from the project's reference material) as
 * API objects with the cluster IPs and node ports the API server allocated, plus the `kubernetes` service.
 */
import { readFileSync } from 'node:fs';
import type { EndpointSliceObject, ServiceObject } from '../apitypes.js';

const dir = new URL('../testdata/', import.meta.url);

/** Node name of the reference run. */
export const REF_NODE = 'kpnode';
/** Cluster CIDR of the reference run. */
export const REF_CLUSTER_CIDR = '10.244.0.0/16';

/** The reference iptables-save output. */
export function referenceDump(): string {
  return readFileSync(new URL('iptables-save.txt', dir), 'utf8');
}

/** Services (with allocated cluster IPs, LB status) and EndpointSlices of the reference run. */
export function referenceObjects(): { services: ServiceObject[]; slices: EndpointSliceObject[] } {
  const list = JSON.parse(readFileSync(new URL('services-and-endpointslices.json', dir), 'utf8')) as { items: (ServiceObject & EndpointSliceObject)[] };
  const allocated = new Map<string, string>();
  for (const line of readFileSync(new URL('services-as-allocated.txt', dir), 'utf8').split('\n').slice(1)) {
    const [name, , ip] = line.trim().split(/\s+/);
    if (name !== undefined && ip !== undefined) allocated.set(name, ip);
  }
  const services: ServiceObject[] = [];
  const slices: EndpointSliceObject[] = [];
  for (const item of list.items) {
    if (item.kind === 'Service') {
      const name = item.metadata?.name ?? '';
      const svc: ServiceObject = structuredClone(item);
      svc.spec = { ...svc.spec, clusterIP: allocated.get(name), clusterIPs: [allocated.get(name) ?? ''] };
      if (name === 'lb') svc.status = { loadBalancer: { ingress: [{ ip: '198.51.100.20' }] } };
      services.push(svc);
    } else {
      slices.push(structuredClone(item));
    }
  }
  services.push({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { namespace: 'default', name: 'kubernetes' },
    spec: { clusterIP: '10.96.0.1', clusterIPs: ['10.96.0.1'], ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }] },
  });
  slices.push({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { namespace: 'default', name: 'kubernetes', labels: { 'kubernetes.io/service-name': 'kubernetes' } },
    addressType: 'IPv4',
    ports: [{ name: 'https', port: 6443, protocol: 'TCP' }],
    endpoints: [{ addresses: ['172.17.0.1'], conditions: { ready: true } }],
  });
  return { services, slices };
}
