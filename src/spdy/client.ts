import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';
import { NodeletError, type Logger } from '../util/index.js';
import { SpdyConnection } from './connection.js';

/**
 * Client side of a Kubernetes streaming upgrade: requests `url` with `Upgrade: SPDY/3.1` offering `protocols`
 * (X-Stream-Protocol-Version), and returns the connection and the protocol the server chose. Rejects with the
 * server's answer when it does not switch protocols. Aborting `signal` closes the connection. `socket`, when given,
 * is a plain TCP connection (made or being made) to the URL's host and port, used instead of a new one.
 */
export function connectSpdy(
  url: string,
  protocols: string[],
  signal: AbortSignal,
  logger: Logger,
  socket?: Socket,
): Promise<{ conn: SpdyConnection; protocol: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const headers = { Connection: 'Upgrade', Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': protocols };
    const req =
      socket !== undefined && u.protocol === 'http:'
        ? httpRequest(u, { method: 'POST', headers, agent: false, createConnection: () => socket })
        : (u.protocol === 'https:' ? httpsRequest : httpRequest)(u, { method: 'POST', headers });
    if (socket !== undefined && u.protocol !== 'http:') socket.destroy();
    const onAbort = (): void => {
      req.destroy();
      reject(new NodeletError('CANCELLED', `streaming request to ${url} aborted`));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    req.on('upgrade', (res, socket, head) => {
      signal.removeEventListener('abort', onAbort);
      const conn = new SpdyConnection(socket, { logger, onStream: (s) => s.reset() });
      conn.feed(head);
      if (signal.aborted) conn.close('aborted');
      else signal.addEventListener('abort', () => conn.close('aborted'), { once: true });
      resolve({ conn, protocol: String(res.headers['x-stream-protocol-version'] ?? '') });
    });
    req.on('response', (res) => {
      signal.removeEventListener('abort', onAbort);
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => reject(new NodeletError('RUNTIME_ERROR', `streaming server answered ${res.statusCode ?? '?'}: ${body.trim()}`)));
    });
    req.on('error', (err) => {
      signal.removeEventListener('abort', onAbort);
      reject(new NodeletError('RUNTIME_ERROR', `streaming server ${u.host}: ${err.message}`, { cause: err }));
    });
    req.end();
  });
}
