/** Test harness: a Proxier over FakeIptables with a FakeClock, fed directly (no informers). */
import { FakeClock, silentLogger } from '../../util/index.js';
import { objectKey } from '../../api/types.js';
import type { EndpointSliceObject, ServiceObject } from '../apitypes.js';
import { defaultProxyConfig, resolveProxyConfig, type ProxyConfig } from '../config.js';
import { createProxyMetrics } from '../metrics.js';
import { Proxier, type ProxierOptions } from '../proxier.js';
import { FakeIptables } from './fake-iptables.js';
import { PacketTracer } from './tracer.js';

/** Node IP used by the harness. */
export const NODE_IP = '192.168.99.2';

/** Options of {@link newHarness}. */
export interface HarnessOptions {
  config?: (c: ProxyConfig) => void;
  nodeName?: string;
  proxier?: Partial<ProxierOptions>;
}

/** Builds a Proxier on a FakeIptables; `load` feeds objects and marks both lists synced. */
export function newHarness(o: HarnessOptions = {}) {
  const cfg = defaultProxyConfig();
  cfg.clusterCIDR = '10.244.0.0/16';
  o.config?.(cfg);
  const ipt = new FakeIptables();
  const clock = new FakeClock();
  const metrics = createProxyMetrics();
  const proxier = new Proxier({
    iptables: ipt,
    config: resolveProxyConfig(cfg),
    nodeName: o.nodeName ?? 'kpnode',
    nodeIPs: [NODE_IP],
    logger: silentLogger(),
    clock,
    metrics,
    ...o.proxier,
  });
  const tracer = new PacketTracer(ipt, [NODE_IP]);
  return {
    ipt,
    clock,
    metrics,
    proxier,
    tracer,
    load(services: ServiceObject[], slices: EndpointSliceObject[]): void {
      for (const s of services) proxier.onService(objectKey(s), s);
      for (const s of slices) proxier.onEndpointSlice(s, false);
      proxier.onServicesSynced();
      proxier.onEndpointSlicesSynced();
    },
  };
}
