/**
 * The kubelet's Prometheus metrics on one prom-client registry shared by all roles, with upstream names so existing
 * dashboards work. Roles observe into the objects returned here; process_* metrics come from prom-client defaults.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Upstream kubelet metric objects. */
export interface KubeletMetrics {
  registry: Registry;
  nodeName: Gauge<'node'>;
  runningPods: Gauge;
  runningContainers: Gauge<'container_state'>;
  podStartDuration: Histogram;
  podWorkerDuration: Histogram<'operation_type'>;
  runtimeOperations: Counter<'operation_type'>;
  runtimeOperationsErrors: Counter<'operation_type'>;
  runtimeOperationsDuration: Histogram<'operation_type'>;
  plegRelistDuration: Histogram;
  /** nodelet's own: the kubelet's handler of a pod source's set threw (logged with its code, retried). */
  podSourceHandlerErrors: Counter<'source'>;
}

/**
 * A registry holding prom-client's default nodejs_* / process_* metrics. Each call starts its own collectors: build
 * one per daemon and share it (the kubelet registry and the proxy role's /metrics serve the same metric objects).
 */
export function createProcessMetrics(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

/**
 * Creates the registry (when not given) with the process metrics and the kubelet metrics: the metric objects of
 * `processMetrics` (see {@link createProcessMetrics}) when given, else fresh default metrics of its own.
 */
export function createKubeletMetrics(nodeName: string, registry = new Registry(), processMetrics?: Registry): KubeletMetrics {
  if (processMetrics === undefined) collectDefaultMetrics({ register: registry });
  for (const { name } of processMetrics?.getMetricsAsArray() ?? []) {
    const metric = processMetrics?.getSingleMetric(name);
    if (metric !== undefined) registry.registerMetric(metric);
  }
  const m: KubeletMetrics = {
    registry,
    nodeName: new Gauge({ name: 'kubelet_node_name', help: "The node's name. The count is always 1.", labelNames: ['node'], registers: [registry] }),
    runningPods: new Gauge({ name: 'kubelet_running_pods', help: 'Number of pods that have a running pod sandbox', registers: [registry] }),
    runningContainers: new Gauge({ name: 'kubelet_running_containers', help: 'Number of containers currently running', labelNames: ['container_state'], registers: [registry] }),
    podStartDuration: new Histogram({
      name: 'kubelet_pod_start_duration_seconds',
      help: 'Duration in seconds from kubelet seeing a pod for the first time to the pod starting to run',
      buckets: [0.5, 1, 2, 3, 4, 5, 6, 8, 10, 20, 30, 45, 60, 120, 180, 240, 300, 360, 480, 600, 900, 1200, 1800, 2700, 3600],
      registers: [registry],
    }),
    podWorkerDuration: new Histogram({
      name: 'kubelet_pod_worker_duration_seconds',
      help: 'Duration in seconds to sync a single pod. Broken down by operation type: create, update, or sync',
      labelNames: ['operation_type'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    runtimeOperations: new Counter({ name: 'kubelet_runtime_operations_total', help: 'Cumulative number of runtime operations by operation type.', labelNames: ['operation_type'], registers: [registry] }),
    runtimeOperationsErrors: new Counter({ name: 'kubelet_runtime_operations_errors_total', help: 'Cumulative number of runtime operation errors by operation type.', labelNames: ['operation_type'], registers: [registry] }),
    runtimeOperationsDuration: new Histogram({
      name: 'kubelet_runtime_operations_duration_seconds',
      help: 'Duration in seconds of runtime operations. Broken down by operation type.',
      labelNames: ['operation_type'],
      buckets: [0.005, 0.0125, 0.03125, 0.078125, 0.1953125, 0.48828125, 1.220703125, 3.0517578125, 7.62939453125, 19.073486328125, 47.6837158203125, 119.20928955078125, 298.0232238769531, 745.0580596923828],
      registers: [registry],
    }),
    plegRelistDuration: new Histogram({
      name: 'kubelet_pleg_relist_duration_seconds',
      help: 'Duration in seconds for relisting pods in PLEG.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    podSourceHandlerErrors: new Counter({
      name: 'nodelet_pod_source_handler_errors_total',
      help: 'Times the handler of a pod source (api, file, http) threw on a pod set; the set is delivered again.',
      labelNames: ['source'],
      registers: [registry],
    }),
  };
  m.nodeName.set({ node: nodeName }, 1);
  return m;
}
