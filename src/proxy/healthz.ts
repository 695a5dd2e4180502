/**
 * The proxy's own health (upstream ProxierHealthServer): healthy unless a sync was queued and nothing was synced
 * for `healthTimeoutMs` (upstream: 2 × syncPeriod). `/healthz` and `/livez` answer
 * `{"lastUpdated": "…","currentTime": "…"}` with 200 or 503.
 */
import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';
import type { Clock } from '../util/index.js';
import type { ProxyMetrics } from './metrics.js';
import type { ListenAddress } from './config.js';
import type { ProxierHealthSink } from './proxier.js';

/** Go's time.Time String() layout (without the monotonic part), as kube-proxy prints it. */
export function goTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}.${p(d.getUTCMilliseconds(), 3)} +0000 UTC`;
}

/** Health state fed by the proxier. */
export class ProxierHealth implements ProxierHealthSink {
  readonly #clock: Clock;
  readonly #timeoutMs: number;
  #lastUpdated = 0;
  #oldestQueued: number | undefined;

  constructor(clock: Clock, healthTimeoutMs: number) {
    this.#clock = clock;
    this.#timeoutMs = healthTimeoutMs;
  }

  queued(): void {
    this.#oldestQueued ??= this.#clock.now();
  }

  updated(): void {
    this.#lastUpdated = this.#clock.now();
    this.#oldestQueued = undefined;
  }

  /** Current verdict. */
  status(): { healthy: boolean; lastUpdated: number; currentTime: number } {
    const now = this.#clock.now();
    const healthy = this.#oldestQueued === undefined || now - this.#oldestQueued < this.#timeoutMs;
    return { healthy, lastUpdated: this.#lastUpdated, currentTime: now };
  }
}

/** A started HTTP server and its bound port. */
export interface StartedServer {
  port: number;
  close(): Promise<void>;
}

/** Listens on `addr`; resolves with the bound port. */
export function listen(server: Server, addr: ListenAddress): Promise<StartedServer> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(addr.port, addr.host, () => {
      server.off('error', reject);
      const a = server.address();
      const port = typeof a === 'object' && a !== null ? a.port : addr.port;
      resolve({ port, close: () => new Promise<void>((r) => server.close(() => r())) });
    });
  });
}

/** Starts the healthz server (`/healthz`, `/livez`). */
export function startHealthzServer(addr: ListenAddress, health: ProxierHealth, metrics: ProxyMetrics): Promise<StartedServer> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/healthz' && path !== '/livez') {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('404 page not found\n');
      return;
    }
    const s = health.status();
    const code = s.healthy ? 200 : 503;
    (path === '/healthz' ? metrics.healthzTotal : metrics.livezTotal).inc({ code: String(code) });
    res.writeHead(code, { 'Content-Type': 'application/json', 'X-Content-Type-Options': 'nosniff' });
    res.end(`{"lastUpdated": ${JSON.stringify(goTime(s.lastUpdated))},"currentTime": ${JSON.stringify(goTime(s.currentTime))}}`);
  });
  return listen(server, addr);
}

/** Starts the metrics server (`/metrics`): what `registry` holds at each scrape. */
export function startMetricsServer(addr: ListenAddress, registry: Registry): Promise<StartedServer> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('404 page not found\n');
      return;
    }
    registry.metrics().then(
      (body) => res.writeHead(200, { 'Content-Type': registry.contentType }).end(body),
      (err: unknown) => res.writeHead(500).end(String(err)),
    );
  });
  return listen(server, addr);
}
