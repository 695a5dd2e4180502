/**
 * The proxy role's informers (Services, EndpointSlices, this Node), built from the proxy's kubeconfig. The
 * transforms keep only the fields the proxy reads (no managedFields, targetRefs, …) in the caches.
 */
import { createInformer, type KubeConfig, type KubeObject } from '../api/index.js';
import { PROXY_LABEL_SELECTOR, trimEndpointSlice, trimNode, trimService, type EndpointSliceObject, type ProxyInformers, type ServiceObject } from '../proxy/index.js';
import { ConfigError } from '../util/errors.js';
import type { Logger } from '../util/logger.js';

/** Throws ConfigError when there is no kubeconfig (the proxy role cannot run without the API). */
export function createProxyInformers(kc: KubeConfig | undefined, nodeName: string, logger: Logger): ProxyInformers {
  if (kc === undefined) throw new ConfigError('the proxy role needs a kubeconfig (--kubeconfig or --proxy-kubeconfig)', { field: '--kubeconfig' });
  const log = logger.child({ component: 'proxy' });
  return {
    services: createInformer<ServiceObject>(kc, { path: '/api/v1/services', labelSelector: PROXY_LABEL_SELECTOR }, log, { transform: trimService }),
    endpointSlices: createInformer<EndpointSliceObject>(
      kc,
      { path: '/apis/discovery.k8s.io/v1/endpointslices', labelSelector: PROXY_LABEL_SELECTOR },
      log,
      { transform: trimEndpointSlice },
    ),
    node: createInformer<KubeObject>(kc, { path: '/api/v1/nodes', fieldSelector: `metadata.name=${nodeName}` }, log, { transform: trimNode }),
    // Started by the role in nftables mode only (the drop rule for unallocated ClusterIPs).
    serviceCIDRs: createInformer<KubeObject>(kc, { path: '/apis/networking.k8s.io/v1/servicecidrs' }, log),
  };
}
