/**
 * Plain GETs straight to a kubelet's API port as the API server or metrics-server makes them: the API server's x509
 * kubelet client certificate, one kept-alive TLS connection per target (as a Go http.Client reuses it), no
 * Accept-Encoding (uncompressed bodies). Used by bench/stats-summary-vs-upstream.ts.
 */
import { Agent, request } from 'node:https';
import type { KubeletClientCert } from './direct-exec.js';

/** One GET's result. */
export interface DirectGet {
  status: number;
  body: string;
  /** Request start to the last body byte, ms. */
  ms: number;
}

/** A kept-alive client for one agent. */
export interface DirectGetClient {
  get(path: string): Promise<DirectGet>;
  close(): void;
}

/** A client of `host:port` with one connection kept alive between calls. */
export function directGetClient(host: string, port: number, client: KubeletClientCert): DirectGetClient {
  const agent = new Agent({ keepAlive: true, maxSockets: 1, cert: client.cert, key: client.key, rejectUnauthorized: false });
  return {
    get(path) {
      const t0 = process.hrtime.bigint();
      return new Promise((resolve, reject) => {
        const req = request({ host, port, path, method: 'GET', agent }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (d: Buffer) => chunks.push(d));
          res.on('error', reject);
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), ms: Number(process.hrtime.bigint() - t0) / 1e6 }));
        });
        req.setTimeout(60_000, () => req.destroy(new Error(`GET ${path} on :${port} timed out`)));
        req.on('error', reject);
        req.end();
      });
    },
    close() {
      agent.destroy();
    },
  };
}
