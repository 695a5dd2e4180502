import { findResource } from './resources.js';
import type { Registry } from './registry.js';

/** Namespaces every cluster starts with. */
export const INITIAL_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

/**
 * Creates the initial namespaces and `default/kubernetes` (Service 10.96.0.1:443 → this server, with its Endpoints and
 * EndpointSlice, as the apiserver's own endpoint reconciler keeps them). Idempotent.
 */
export function bootstrap(reg: Registry, port: number, address = '127.0.0.1'): void {
  const nsDef = findResource('', 'v1', 'namespaces')!;
  for (const name of INITIAL_NAMESPACES) {
    if (reg.store.get('namespaces', name) === undefined) reg.create(nsDef, undefined, { metadata: { name, labels: { 'kubernetes.io/metadata.name': name } } });
  }
  const svcDef = findResource('', 'v1', 'services')!;
  if (reg.store.get('services', 'default/kubernetes') === undefined) {
    reg.create(svcDef, 'default', {
      metadata: { name: 'kubernetes', labels: { component: 'apiserver', provider: 'kubernetes' } },
      spec: { clusterIP: '10.96.0.1', ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: port }] },
    });
  }
  const subsets = [{ addresses: [{ ip: address }], ports: [{ name: 'https', port, protocol: 'TCP' }] }];
  const epDef = findResource('', 'v1', 'endpoints')!;
  const ep = reg.store.get('endpoints', 'default/kubernetes');
  if (ep === undefined) reg.create(epDef, 'default', { metadata: { name: 'kubernetes', labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } }, subsets });
  else reg.update(epDef, 'default', 'kubernetes', { ...ep, subsets });
  const esDef = findResource('discovery.k8s.io', 'v1', 'endpointslices')!;
  const slice = {
    metadata: { name: 'kubernetes', labels: { 'kubernetes.io/service-name': 'kubernetes' } },
    addressType: 'IPv4',
    endpoints: [{ addresses: [address], conditions: { ready: true } }],
    ports: [{ name: 'https', port, protocol: 'TCP' }],
  };
  const es = reg.store.get('endpointslices.discovery.k8s.io', 'default/kubernetes');
  if (es === undefined) reg.create(esDef, 'default', slice);
  else reg.update(esDef, 'default', 'kubernetes', { ...es, endpoints: slice.endpoints, ports: slice.ports });
}
