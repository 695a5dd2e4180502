import { request } from 'node:https';
import type { TestApiServer } from './server.js';

/** A raw answer (status and parsed JSON body) for assertions on exactly what the server sent. */
export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- test helper: assertions index freely into answers
  body: any;
  text: string;
}

/** Options of {@link raw}. */
export interface RawOptions {
  body?: unknown;
  contentType?: string;
  accept?: string;
  token?: string | null;
  /** A client certificate to authenticate with (then no token is sent unless `token` is given). */
  clientCert?: { certPem: string; keyPem: string };
}

/** Sends one request to the test server with its token (or `token`) and returns status and parsed body. */
export function raw(server: TestApiServer, method: string, path: string, opts: RawOptions = {}): Promise<RawResponse> {
  const payload = opts.body === undefined ? undefined : Buffer.from(typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body));
  const headers: Record<string, string | number> = { accept: opts.accept ?? 'application/json' };
  const token = opts.token === undefined ? (opts.clientCert === undefined ? server.token : null) : opts.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (payload) {
    headers['content-type'] = opts.contentType ?? 'application/json';
    headers['content-length'] = payload.length;
  }
  return new Promise((resolve, reject) => {
    const req = request(`${server.url}${path}`, { method, headers, ca: server.caCertPem, cert: opts.clientCert?.certPem, key: opts.clientCert?.keyPem }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          body = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text });
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** The watch lines a request returns until the server closes it (use a short timeoutSeconds). */
export async function watchLines(server: TestApiServer, path: string, accept?: string): Promise<{ type: string; object: Record<string, unknown> }[]> {
  const r = await raw(server, 'GET', path, { accept });
  return r.text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as { type: string; object: Record<string, unknown> });
}
