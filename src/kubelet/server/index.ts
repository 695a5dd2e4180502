export { HealthChecks, freshnessCheck, type HealthCheck, type HealthReport } from './health.js';
export { createKubeletMetrics, createProcessMetrics, type KubeletMetrics } from './metrics.js';
export { instrumentRuntime, refreshRunningCounts } from './instrument.js';
export { startHealthServer, type HealthServer, type HealthServerOptions } from './http.js';
