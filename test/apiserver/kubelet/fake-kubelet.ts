/**
 * A recording stand-in for a kubelet's HTTPS port, for the test API server's own tests: it requires a client
 * certificate signed by the given CA, records every request (method, URL, headers, client subject), answers plain
 * requests through `respond`, and answers upgrade requests with 101 and an echo of every byte (or with `upgradeStatus`).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';

/** One recorded request. */
export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  /** Client certificate subject (CN, O). */
  subject: { CN?: string; O?: string } | undefined;
  upgrade: boolean;
  body: string;
}

/** A running fake kubelet. */
export interface FakeKubelet {
  host: string;
  port: number;
  requests: RecordedRequest[];
  /** Plain-request answer (default 200 `ok <url>`). */
  respond: (req: IncomingMessage, res: ServerResponse, body: string) => void;
  /** Non-101 answer to upgrades (e.g. 400), or undefined to upgrade and echo. */
  upgradeStatus: number | undefined;
  /** Takes over upgrades when set (after recording; `upgradeStatus` still wins): e.g. a SPDY remotecommand server. */
  upgradeHandler: ((req: IncomingMessage, socket: Duplex, head: Buffer) => void) | undefined;
  stop(): Promise<void>;
}

let serving: { certPem: string; keyPem: string } | undefined;

function servingCert(): { certPem: string; keyPem: string } {
  if (serving) return serving;
  const dir = mkdtempSync(join(tmpdir(), 'nl3-fake-kubelet-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(dir, 'k.key'), '-out', join(dir, 'k.crt'), '-subj', '/CN=fake-kubelet', '-days', '2'], { stdio: 'ignore' });
    serving = { certPem: readFileSync(join(dir, 'k.crt'), 'utf8'), keyPem: readFileSync(join(dir, 'k.key'), 'utf8') };
    return serving;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Starts a fake kubelet on host:port that trusts client certificates signed by `clientCaPem`. */
export async function startFakeKubelet(host: string, port: number, clientCaPem: string): Promise<FakeKubelet> {
  const cert = servingCert();
  const sockets = new Set<Socket | Duplex>();
  const subjectOf = (s: Socket): RecordedRequest['subject'] => {
    const c = (s as TLSSocket).getPeerCertificate?.();
    return c && c.subject ? { CN: String(c.subject.CN), O: String(c.subject.O) } : undefined;
  };
  const fk: FakeKubelet = {
    host,
    port,
    requests: [],
    respond: (req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'x-fake': '1' });
      res.end(`ok ${req.url ?? ''}`);
    },
    upgradeStatus: undefined,
    upgradeHandler: undefined,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  const server: Server = createServer({ key: cert.keyPem, cert: cert.certPem, ca: clientCaPem, requestCert: true, rejectUnauthorized: true }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      fk.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, subject: subjectOf(req.socket), upgrade: false, body });
      fk.respond(req, res, body);
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    sockets.add(socket);
    fk.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, subject: subjectOf(req.socket), upgrade: true, body: '' });
    if (fk.upgradeStatus !== undefined) {
      socket.end(`HTTP/1.1 ${fk.upgradeStatus} Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\nnot upgrade`);
      return;
    }
    if (fk.upgradeHandler !== undefined) {
      fk.upgradeHandler(req, socket, head);
      return;
    }
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ${String(req.headers.upgrade)}\r\nX-Stream-Protocol-Version: ${String(req.headers['x-stream-protocol-version'] ?? '').split(',')[0]!.trim()}\r\n\r\n`);
    if (head.length > 0) socket.write(head);
    socket.on('data', (c: Buffer) => socket.write(Buffer.concat([Buffer.from('echo:'), c])));
    socket.on('error', () => socket.destroy());
  });
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return fk;
}
