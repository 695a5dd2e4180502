/**
 * The Services and EndpointSlices the proxy benchmarks program (issue 17): service i in namespace ns<i % 50>, ClusterIP
 * 10.96.x.y, every tenth a NodePort; its slice has 5 ready endpoints on another node, and endpoint 0 moves with `gen`
 * (one endpoint replaced per change).
 */
import type { Logger } from 'pino';
import type { EndpointSliceObject, ServiceObject } from '../../src/proxy/apitypes.js';
import type { ResolvedProxyConfig } from '../../src/proxy/config.js';
import { createProxyMetrics, type ProxyMetrics } from '../../src/proxy/metrics.js';
import { RealClock, silentLogger } from '../../src/util/index.js';

/** Service i (without apiVersion/kind: add them for an API server). */
export function benchService(i: number): ServiceObject {
  const np = i % 10 === 0;
  return {
    metadata: { namespace: `ns${i % 50}`, name: `svc${i}` },
    spec: {
      clusterIP: `10.96.${1 + (i >> 8)}.${i & 255}`,
      type: np ? 'NodePort' : 'ClusterIP',
      ports: [{ port: 80, protocol: 'TCP', targetPort: 8080, ...(np ? { nodePort: 30000 + ((i / 10) % 2700) } : {}) }],
    },
  };
}

/** The EndpointSlice of service i at generation `gen` (without apiVersion/kind). */
export function benchSlice(i: number, gen: number): EndpointSliceObject {
  return {
    metadata: { namespace: `ns${i % 50}`, name: `svc${i}-abc`, labels: { 'kubernetes.io/service-name': `svc${i}` } },
    addressType: 'IPv4',
    ports: [{ name: '', port: 8080, protocol: 'TCP' }],
    endpoints: [0, 1, 2, 3, 4].map((e) => {
      const k = i * 5 + e + (e === 0 ? gen * 7919 : 0);
      return { addresses: [`10.${128 + (k >> 16)}.${(k >> 8) & 255}.${k & 255}`], nodeName: 'other', conditions: { ready: true } };
    }),
  };
}

/** The options every benchmark proxier shares: the node's name and IP, a silent logger, the real clock, fresh metrics. */
export function benchProxierBase(config: ResolvedProxyConfig): {
  config: ResolvedProxyConfig;
  nodeName: string;
  nodeIPs: string[];
  logger: Logger;
  clock: RealClock;
  metrics: ProxyMetrics;
} {
  return { config, nodeName: 'bench-node', nodeIPs: ['192.168.200.1'], logger: silentLogger(), clock: new RealClock(), metrics: createProxyMetrics() };
}
