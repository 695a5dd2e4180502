/**
 * `/metrics/resource`: the metrics metrics-server reads, as upstream's resourceMetricsCollector
 * (pkg/kubelet/metrics/collectors/resource_metrics.go, v1.33) renders them from the CPU-and-memory Summary: stable
 * families with a `[STABLE]` help prefix, labels container/pod/namespace, sample timestamps = the stats' time.
 */
import type { StatsSnapshot } from './collect.js';
import { renderFamilies, type Family } from './expfmt.js';
import { podTotals } from './summary.js';

/** Renders `/metrics/resource` from a snapshot (undefined = the scrape failed: only resource_scrape_error 1). */
export function renderResourceMetrics(snapshot: StatsSnapshot | undefined): string {
  const f = (name: string, help: string, type: 'counter' | 'gauge'): Family => ({ name, help: `[STABLE] ${help}`, type, samples: [] });
  const nodeCpu = f('node_cpu_usage_seconds_total', 'Cumulative cpu time consumed by the node in core-seconds', 'counter');
  const nodeMem = f('node_memory_working_set_bytes', 'Current working set of the node in bytes', 'gauge');
  const ctrStart = f('container_start_time_seconds', 'Start time of the container since unix epoch in seconds', 'gauge');
  const ctrCpu = f('container_cpu_usage_seconds_total', 'Cumulative cpu time consumed by the container in core-seconds', 'counter');
  const ctrMem = f('container_memory_working_set_bytes', 'Current working set of the container in bytes', 'gauge');
  const podCpu = f('pod_cpu_usage_seconds_total', 'Cumulative cpu time consumed by the pod in core-seconds', 'counter');
  const podMem = f('pod_memory_working_set_bytes', 'Current working set of the pod in bytes', 'gauge');
  const scrape = f('resource_scrape_error', '1 if there was an error while getting container metrics, 0 otherwise', 'gauge');
  scrape.samples.push({ labels: {}, value: 0 });
  if (snapshot !== undefined) {
    const t = snapshot.atMs;
    const n = snapshot.node.stats;
    if (n.cpuUsageNanos !== undefined) nodeCpu.samples.push({ labels: {}, value: n.cpuUsageNanos / 1e9, timestampMs: t });
    if (n.memory !== undefined) nodeMem.samples.push({ labels: {}, value: n.memory.workingSetBytes, timestampMs: t });
    for (const p of snapshot.pods) {
      const pl = { pod: p.name, namespace: p.namespace };
      for (const c of p.containers) {
        const cl = { container: c.name, ...pl };
        if (c.createdAtMs > 0) ctrStart.samples.push({ labels: cl, value: c.createdAtMs / 1000 });
        if (c.stats?.cpuUsageNanos !== undefined) ctrCpu.samples.push({ labels: cl, value: c.stats.cpuUsageNanos / 1e9, timestampMs: t });
        if (c.stats?.memory !== undefined) ctrMem.samples.push({ labels: cl, value: c.stats.memory.workingSetBytes, timestampMs: t });
      }
      const tot = podTotals(p);
      if (tot?.cpuUsageNanos !== undefined) podCpu.samples.push({ labels: pl, value: tot.cpuUsageNanos / 1e9, timestampMs: t });
      if (tot?.memory !== undefined) podMem.samples.push({ labels: pl, value: tot.memory.workingSetBytes, timestampMs: t });
    }
  }
  scrape.samples[0]!.value = snapshot === undefined || snapshot.partial ? 1 : 0;
  return renderFamilies([nodeCpu, nodeMem, ctrStart, ctrCpu, ctrMem, podCpu, podMem, scrape]);
}
