/**
 * Metrics of the API clients of one identity, under client-go's names so nodelet and the upstream kubelet are
 * measured the same way (k8s.io/client-go/tools/metrics as registered by component-base/metrics/prometheus/restclient):
 *
 * - `rest_client_requests_total{code,host,method}`: every request, watches included, by HTTP status code
 *   (`<error>` when no answer arrived) and method (a watch is a GET);
 * - `rest_client_request_size_bytes{verb,host}`: the request body size (0 without a body);
 * - `rest_client_response_size_bytes{verb,host}`: the response's Content-Length when the server sent one (as
 *   client-go, which skips chunked answers and watch streams);
 * - `nodelet_rest_client_watches{host}` (no upstream counterpart): watch streams open now;
 * - `nodelet_rest_client_received_bytes_total{host}` (no upstream counterpart): every body byte received, watch
 *   streams and chunked answers included.
 *
 * The metrics of an identity are bound to its KubeConfig object (a WeakMap, like {@link accessDenials}) by the daemon,
 * which registers them on its own registry; every ApiClient built over that KubeConfig then reports into them.
 * Clients of unbound kubeconfigs (tests, tools) count nothing.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { KubeConfig } from './kubeconfig.js';

/** client-go's buckets for the request/response size histograms. */
export const SIZE_BUCKETS = [64, 256, 512, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216];

/** The client metrics of one daemon (one registry). */
export interface RestClientMetrics {
  /** One finished request (or the answer of a watch): status code (0 = no answer), sizes in bytes. */
  request(method: string, host: string, code: number, requestBytes: number, responseContentLength: number | undefined): void;
  /** Body bytes received (also watch stream chunks). */
  received(host: string, bytes: number): void;
  /** A watch stream opened (+1) or ended (-1). */
  watch(host: string, delta: 1 | -1): void;
}

/** Registers the metrics on `registry`. */
export function createRestClientMetrics(registry: Registry): RestClientMetrics {
  const requests = new Counter({
    name: 'rest_client_requests_total',
    help: 'Number of HTTP requests, partitioned by status code, method, and host.',
    labelNames: ['code', 'host', 'method'],
    registers: [registry],
  });
  const requestSize = new Histogram({
    name: 'rest_client_request_size_bytes',
    help: 'Request size in bytes. Broken down by verb and host.',
    labelNames: ['verb', 'host'],
    buckets: SIZE_BUCKETS,
    registers: [registry],
  });
  const responseSize = new Histogram({
    name: 'rest_client_response_size_bytes',
    help: 'Response size in bytes. Broken down by verb and host.',
    labelNames: ['verb', 'host'],
    buckets: SIZE_BUCKETS,
    registers: [registry],
  });
  const watches = new Gauge({
    name: 'nodelet_rest_client_watches',
    help: 'Watch streams to the API server open now, by host (nodelet metric; client-go has none).',
    labelNames: ['host'],
    registers: [registry],
  });
  const receivedBytes = new Counter({
    name: 'nodelet_rest_client_received_bytes_total',
    help: 'Response body bytes received from the API server, watch streams included, by host (nodelet metric).',
    labelNames: ['host'],
    registers: [registry],
  });
  return {
    request(method, host, code, requestBytes, contentLength) {
      requests.inc({ code: code === 0 ? '<error>' : String(code), host, method });
      requestSize.observe({ verb: method, host }, requestBytes);
      if (contentLength !== undefined && contentLength >= 0) responseSize.observe({ verb: method, host }, contentLength);
    },
    received(host, bytes) {
      receivedBytes.inc({ host }, bytes);
    },
    watch(host, delta) {
      watches.inc({ host }, delta);
    },
  };
}

const bound = new WeakMap<KubeConfig, RestClientMetrics>();

/** Makes every ApiClient over `kc` report into `metrics` (the daemon does this per identity). */
export function bindRestClientMetrics(kc: KubeConfig, metrics: RestClientMetrics): void {
  bound.set(kc, metrics);
}

/** The metrics bound to `kc`, if any. */
export function restClientMetricsOf(kc: KubeConfig): RestClientMetrics | undefined {
  return bound.get(kc);
}
