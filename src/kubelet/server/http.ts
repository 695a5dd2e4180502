/**
 * The kubelet's local HTTP server (default 127.0.0.1:10248): `/healthz` (and `/healthz/<check>`; `?verbose` for the
 * per-check list) and `/metrics` (Prometheus text). Upstream serves /metrics on the authenticated port 10250; nodelet
 * serves it here, on the loopback health port, and documents that.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Logger } from '../../util/logger.js';
import type { HealthChecks } from './health.js';

/** Options for {@link startHealthServer}. */
export interface HealthServerOptions {
  host: string;
  /** 0 = an ephemeral port (tests). */
  port: number;
  checks: HealthChecks;
  registry: Registry;
  logger: Logger;
  /** Called before each /metrics scrape (refresh gauges); must not throw. */
  beforeScrape?: () => Promise<void>;
}

/** A started server. */
export interface HealthServer {
  /** The port actually bound. */
  port: number;
  close(): Promise<void>;
}

async function handle(o: HealthServerOptions, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { 'content-type': 'text/plain; charset=utf-8' }).end('method not allowed\n');
    return;
  }
  if (url.pathname === '/metrics') {
    await o.beforeScrape?.();
    res.writeHead(200, { 'content-type': o.registry.contentType }).end(await o.registry.metrics());
    return;
  }
  const m = /^\/(healthz|livez|readyz)(?:\/([^/]+))?$/.exec(url.pathname);
  if (m === null) {
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('404 page not found\n');
    return;
  }
  const report = o.checks.run(m[2]);
  if (report === undefined) {
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('404 page not found\n');
    return;
  }
  const verbose = url.searchParams.has('verbose') || !report.ok;
  const body = verbose ? report.text : 'ok';
  res.writeHead(report.ok ? 200 : 500, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' }).end(body);
}

/** Starts listening; resolves once bound (rejects when the port is taken). */
export function startHealthServer(o: HealthServerOptions): Promise<HealthServer> {
  const server = http.createServer((req, res) => {
    handle(o, req, res).catch((err: unknown) => {
      o.logger.error({ err: String(err) }, 'health server request failed');
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  server.keepAliveTimeout = 5000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => {
      server.off('error', reject);
      const port = (server.address() as AddressInfo).port;
      resolve({
        port,
        close: () =>
          new Promise<void>((r) => {
            server.closeAllConnections();
            server.close(() => r());
          }),
      });
    });
  });
}
