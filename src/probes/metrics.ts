/**
 * Prober metrics with upstream names and labels: `prober_probe_total{probe_type,result,container,pod,namespace,pod_uid}`
 * (result: successful | failed | unknown) and `prober_probe_duration_seconds{probe_type,container,pod,namespace}`
 * (observed, as upstream, for successful and unknown probes). probe_type values: Liveness | Readiness | Startup.
 */
import { Counter, Histogram, Registry } from 'prom-client';
import type { ProbeResult } from './types.js';

/** Labels identifying one worker. */
export interface WorkerMetricLabels {
  probe_type: string;
  container: string;
  pod: string;
  namespace: string;
  pod_uid: string;
}

const RESULT_LABEL: Record<ProbeResult, string> = { success: 'successful', failure: 'failed', unknown: 'unknown' };

/** Labels in upstream order (prom-client prints them in insertion order). */
function withResult(l: WorkerMetricLabels, result: string): Record<string, string> {
  return { probe_type: l.probe_type, result, container: l.container, pod: l.pod, namespace: l.namespace, pod_uid: l.pod_uid };
}

/** The prober's metrics in one registry (metrics already registered there by another manager are reused). */
export class ProbeMetrics {
  readonly #total: Counter<string>;
  readonly #duration: Histogram<string>;

  constructor(registry: Registry = new Registry()) {
    this.#total =
      (registry.getSingleMetric('prober_probe_total') as Counter<string> | undefined) ??
      new Counter({
        name: 'prober_probe_total',
        help: 'Cumulative number of a liveness, readiness or startup probe for a container by result.',
        labelNames: ['probe_type', 'result', 'container', 'pod', 'namespace', 'pod_uid'],
        registers: [registry],
      });
    this.#duration =
      (registry.getSingleMetric('prober_probe_duration_seconds') as Histogram<string> | undefined) ??
      new Histogram({
        name: 'prober_probe_duration_seconds',
        help: 'Duration in seconds for a probe response.',
        labelNames: ['probe_type', 'container', 'pod', 'namespace'],
        registers: [registry],
      });
  }

  /** Counts one probe and, for success/unknown, observes its duration. */
  record(labels: WorkerMetricLabels, result: ProbeResult, seconds: number): void {
    this.#total.inc(withResult(labels, RESULT_LABEL[result]));
    if (result !== 'failure') {
      const { pod_uid: _uid, ...d } = labels;
      this.#duration.observe(d, seconds);
    }
  }

  /** Drops the worker's series (when the worker ends). */
  remove(labels: WorkerMetricLabels): void {
    for (const r of Object.values(RESULT_LABEL)) this.#total.remove(withResult(labels, r));
    const { pod_uid: _uid, ...d } = labels;
    try {
      this.#duration.remove(d);
    } catch {
      // not observed yet
    }
  }
}
