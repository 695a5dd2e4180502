/**
 * The kubelet API servers: HTTPS on `address:port` (10250) with optional client certificates (verified against the
 * client CA, never required: requests without one fall through to tokens/anonymous), and — only when `readOnlyPort`
 * is set — plain HTTP on `address:readOnlyPort`. A change of the serving certificate or of the client CA is applied
 * with `setSecureContext` without dropping connections: new handshakes use the new material.
 */
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { TlsOptions } from 'node:tls';
import { errorFields } from '../../../util/errors.js';
import type { Logger } from '../../../util/logger.js';
import type { ApiHandler } from './handler.js';
import type { ClientCABundle, ClientCASource, ServingCertificateSource } from './types.js';

/** Options of {@link startKubeletApiServer}. */
export interface KubeletApiServerOptions {
  address: string;
  /** 0 = ephemeral (tests). */
  port: number;
  /** 0 = no read-only server. */
  readOnlyPort: number;
  /** Listen on an ephemeral read-only port (tests); overrides readOnlyPort 0. */
  readOnlyEphemeral?: boolean;
  certificates: ServingCertificateSource;
  /** The client CA (undefined = client certificates are not asked for); its changes apply to new handshakes. */
  clientCA: ClientCASource | undefined;
  tls: { minVersion?: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3'; ciphers?: string };
  handler: ApiHandler;
  logger: Logger;
}

/** Running servers. */
export interface KubeletApiServer {
  port: number;
  readOnlyPort: number | undefined;
  /** Closes both servers and every connection (streams included). Idempotent. */
  close(): Promise<void>;
}

function listen(server: http.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeServer(server: http.Server, sockets: Set<Socket>): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
    // Upgraded sockets (exec, port-forward) are no longer tracked by the HTTP server.
    for (const s of sockets) s.destroy();
  });
}

function contextOptions(pair: { certPem: string; keyPem: string } | undefined, ca: ClientCABundle | undefined, tls: KubeletApiServerOptions['tls']): TlsOptions {
  return { ...(pair === undefined ? {} : { cert: pair.certPem, key: pair.keyPem }), ...(ca === undefined ? {} : { ca: [...ca.certificates] }), ...tls };
}

/** Starts the servers; rejects (and closes what started) when a port cannot be bound. */
export async function startKubeletApiServer(o: KubeletApiServerOptions): Promise<KubeletApiServer> {
  const secure = https.createServer({
    ...contextOptions(o.certificates.current(), o.clientCA?.current(), o.tls),
    ...(o.clientCA === undefined ? {} : { requestCert: true, rejectUnauthorized: false }),
  });
  const sockets = new Set<Socket>();
  const track = (s: Socket): void => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  };
  secure.on('secureConnection', track);
  secure.on('request', (req, res) => void o.handler.handleSecure(req, res));
  secure.on('upgrade', (req, socket, head) => void o.handler.handleUpgrade(req, socket, head));
  secure.on('tlsClientError', (err) => o.logger.debug({ err: String(err) }, 'kubelet API TLS handshake failed'));
  secure.keepAliveTimeout = 30_000;
  const refresh = (what: string): void => {
    const pair = o.certificates.current();
    // No serving certificate yet (CSR pending): the context is built once the first one arrives.
    if (pair === undefined) return;
    try {
      secure.setSecureContext(contextOptions(pair, o.clientCA?.current(), o.tls));
      o.logger.info({ material: what }, 'kubelet API TLS material changed; new connections use it');
    } catch (err) {
      o.logger.error({ material: what, ...errorFields(err) }, 'cannot apply the new kubelet API TLS material; new connections keep the previous one');
    }
  };
  const unsubscribeCert = o.certificates.onChange(() => refresh('serving certificate'));
  const unsubscribeCA = o.clientCA?.onChange(() => refresh('client CA')) ?? ((): void => undefined);
  const unsubscribe = (): void => {
    unsubscribeCert();
    unsubscribeCA();
  };
  let readOnly: http.Server | undefined;
  const readOnlySockets = new Set<Socket>();
  try {
    const port = await listen(secure, o.port, o.address);
    let readOnlyPort: number | undefined;
    if (o.readOnlyPort !== 0 || o.readOnlyEphemeral === true) {
      readOnly = http.createServer((req, res) => void o.handler.handleReadOnly(req, res));
      readOnly.on('connection', (s: Socket) => {
        readOnlySockets.add(s);
        s.once('close', () => readOnlySockets.delete(s));
      });
      readOnlyPort = await listen(readOnly, o.readOnlyPort, o.address);
    }
    let closing: Promise<void> | undefined;
    return {
      port,
      readOnlyPort,
      close() {
        closing ??= (async () => {
          unsubscribe();
          await Promise.all([closeServer(secure, sockets), readOnly === undefined ? undefined : closeServer(readOnly, readOnlySockets)]);
        })();
        return closing;
      },
    };
  } catch (err) {
    unsubscribe();
    secure.close();
    readOnly?.close();
    throw err;
  }
}
