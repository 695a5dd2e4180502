/** kube-proxy's metrics (upstream names and help texts, see reference metrics-help.txt) on a prom-client Registry. */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

const SYNC_BUCKETS = [0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1.024, 2.048, 4.096, 8.192, 16.384];
const NPL_BUCKETS = [0.25, 0.5, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 120, 180, 240, 300];

/** The proxy's metric set. */
export interface ProxyMetrics {
  registry: Registry;
  syncDuration: Histogram;
  syncFullDuration: Histogram;
  syncPartialDuration: Histogram;
  networkProgramming: Histogram;
  lastTimestamp: Gauge;
  lastQueuedTimestamp: Gauge;
  restoreFailures: Counter;
  partialRestoreFailures: Counter;
  rulesTotal: Gauge<'table'>;
  rulesLastSync: Gauge<'table'>;
  serviceChangesPending: Gauge;
  serviceChangesTotal: Counter;
  endpointChangesPending: Gauge;
  endpointChangesTotal: Counter;
  noLocalEndpoints: Gauge<'traffic_policy'>;
  /**
   * Invalid Services / EndpointSlices (or parts of them) the proxy skipped, both modes (validate.ts); kind = service |
   * endpointslice. nodelet's own: upstream kube-proxy v1.33 has no such metric.
   */
  invalidObjects: Counter<'kind'>;
  healthzTotal: Counter<'code'>;
  livezTotal: Counter<'code'>;
}

/** Creates the metrics on `registry` (a fresh one by default, so tests and several instances never collide). */
export function createProxyMetrics(registry: Registry = new Registry()): ProxyMetrics {
  const registers = [registry];
  return {
    registry,
    syncDuration: new Histogram({ name: 'kubeproxy_sync_proxy_rules_duration_seconds', help: '[ALPHA] SyncProxyRules latency in seconds', buckets: SYNC_BUCKETS, registers }),
    syncFullDuration: new Histogram({ name: 'kubeproxy_sync_full_proxy_rules_duration_seconds', help: '[ALPHA] SyncProxyRules latency in seconds for full resyncs', buckets: SYNC_BUCKETS, registers }),
    syncPartialDuration: new Histogram({ name: 'kubeproxy_sync_partial_proxy_rules_duration_seconds', help: '[ALPHA] SyncProxyRules latency in seconds for partial resyncs', buckets: SYNC_BUCKETS, registers }),
    networkProgramming: new Histogram({ name: 'kubeproxy_network_programming_duration_seconds', help: '[ALPHA] In Cluster Network Programming Latency in seconds', buckets: NPL_BUCKETS, registers }),
    lastTimestamp: new Gauge({ name: 'kubeproxy_sync_proxy_rules_last_timestamp_seconds', help: '[ALPHA] The last time proxy rules were successfully synced', registers }),
    lastQueuedTimestamp: new Gauge({ name: 'kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds', help: '[ALPHA] The last time a sync of proxy rules was queued', registers }),
    restoreFailures: new Counter({ name: 'kubeproxy_sync_proxy_rules_iptables_restore_failures_total', help: '[ALPHA] Cumulative proxy iptables restore failures', registers }),
    partialRestoreFailures: new Counter({ name: 'kubeproxy_sync_proxy_rules_iptables_partial_restore_failures_total', help: '[ALPHA] Cumulative proxy iptables partial restore failures', registers }),
    rulesTotal: new Gauge({ name: 'kubeproxy_sync_proxy_rules_iptables_total', help: '[ALPHA] Total number of iptables rules owned by kube-proxy', labelNames: ['table'], registers }),
    rulesLastSync: new Gauge({ name: 'kubeproxy_sync_proxy_rules_iptables_last', help: '[ALPHA] Number of iptables rules written by kube-proxy in last sync', labelNames: ['table'], registers }),
    serviceChangesPending: new Gauge({ name: 'kubeproxy_sync_proxy_rules_service_changes_pending', help: '[ALPHA] Pending proxy rules Service changes', registers }),
    serviceChangesTotal: new Counter({ name: 'kubeproxy_sync_proxy_rules_service_changes_total', help: '[ALPHA] Cumulative proxy rules Service changes', registers }),
    endpointChangesPending: new Gauge({ name: 'kubeproxy_sync_proxy_rules_endpoint_changes_pending', help: '[ALPHA] Pending proxy rules Endpoint changes', registers }),
    endpointChangesTotal: new Counter({ name: 'kubeproxy_sync_proxy_rules_endpoint_changes_total', help: '[ALPHA] Cumulative proxy rules Endpoint changes', registers }),
    noLocalEndpoints: new Gauge({ name: 'kubeproxy_sync_proxy_rules_no_local_endpoints_total', help: '[ALPHA] Number of services with a Local traffic policy and no endpoints', labelNames: ['traffic_policy'], registers }),
    invalidObjects: new Counter({ name: 'kubeproxy_sync_proxy_rules_invalid_objects_total', help: '[ALPHA] Cumulative Services and EndpointSlices skipped in whole or in part as invalid', labelNames: ['kind'], registers }),
    healthzTotal: new Counter({ name: 'kubeproxy_proxy_healthz_total', help: '[ALPHA] Cumulative proxy healthz HTTP status', labelNames: ['code'], registers }),
    livezTotal: new Counter({ name: 'kubeproxy_proxy_livez_total', help: '[ALPHA] Cumulative proxy livez HTTP status', labelNames: ['code'], registers }),
  };
}
