/**
 * Health check node ports of externalTrafficPolicy=Local LoadBalancer services (upstream ServiceHealthServer): one
 * HTTP listener per port answering how many local endpoints the service has (200 when > 0, else 503).
 */
import { createServer } from 'node:http';
import { errorMessage, type Logger } from '../util/index.js';
import { listen, type StartedServer } from './healthz.js';
import type { ServiceHealthSink } from './proxier.js';

/** Body of one answer, byte-compatible with kube-proxy's (tab-indented JSON). */
export function serviceHealthBody(service: string, localEndpoints: number, proxyHealthy: boolean): string {
  const [namespace = '', name = ''] = service.split('/');
  return `{\n\t"service": {\n\t\t"namespace": ${JSON.stringify(namespace)},\n\t\t"name": ${JSON.stringify(name)}\n\t},\n\t"localEndpoints": ${localEndpoints},\n\t"serviceProxyHealthy": ${proxyHealthy}\n}`;
}

/** See the file comment. `sync` opens/closes listeners to match the wanted ports. */
export class ServiceHealthServer implements ServiceHealthSink {
  readonly #host: string;
  readonly #log: Logger;
  readonly #proxyHealthy: () => boolean;
  readonly #servers = new Map<number, { service: string; started: Promise<StartedServer | undefined> }>();
  #local = new Map<string, number>();

  constructor(options: { host?: string; logger: Logger; proxyHealthy: () => boolean }) {
    this.#host = options.host ?? '0.0.0.0';
    this.#log = options.logger;
    this.#proxyHealthy = options.proxyHealthy;
  }

  async sync(services: Map<number, string>, localEndpoints: Map<string, number>): Promise<void> {
    this.#local = localEndpoints;
    for (const [port, s] of this.#servers) {
      if (services.get(port) === s.service) continue;
      this.#servers.delete(port);
      await (await s.started)?.close();
    }
    for (const [port, service] of services) {
      if (this.#servers.has(port)) continue;
      const server = createServer((_req, res) => {
        const n = this.#local.get(service) ?? 0;
        const healthy = this.#proxyHealthy();
        res.writeHead(n > 0 && healthy ? 200 : 503, {
          'Content-Type': 'application/json',
          'X-Content-Type-Options': 'nosniff',
          'X-Load-Balancing-Endpoint-Weight': String(n),
        });
        res.end(serviceHealthBody(service, n, healthy));
      });
      const started = listen(server, { host: this.#host, port }).catch((err: unknown) => {
        this.#log.error({ port, service, err: errorMessage(err) }, 'Failed to start healthcheck node port');
        return undefined;
      });
      this.#servers.set(port, { service, started });
    }
  }

  /** Closes every listener. */
  async close(): Promise<void> {
    const all = [...this.#servers.values()];
    this.#servers.clear();
    for (const s of all) await (await s.started)?.close();
  }
}
