/**
 * Byte-for-byte proxy of a streaming upgrade to the runtime's own streaming server, as the upstream kubelet serves
 * CRI streaming (its UpgradeAwareHandler): the upgrade request goes to the URL the runtime handed out (with the
 * client's offered sub-protocols), the runtime's answer — 101 or an HTTP error — goes back to the client unchanged,
 * then bytes are copied both ways until either side closes. The SPDY frames are neither parsed nor re-framed: the
 * runtime speaks the protocol, nodelet only moves bytes (for port-forward that is almost all of the cost).
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { PooledRelay, type Logger } from '../../util/index.js';
import { writeUpgradeError } from './upgrade.js';

/** Options of {@link proxyUpgrade}. */
export interface ProxyUpgradeOptions {
  /** The client's upgraded socket (the API server's connection), and the bytes that came with the request. */
  socket: Duplex;
  head: Buffer;
  /** The runtime's streaming URL (single use). */
  url: string;
  /** Request headers to send: the upgrade and the client's sub-protocols. */
  headers: Record<string, string | string[]>;
  /** Closes both sides after this long without traffic on the client's socket (0 = never). */
  idleTimeoutMs: number;
  logger: Logger;
}

/**
 * How much may wait in the writing side's buffer before the reading side is paused. pipe() pauses as soon as a
 * write returns false, which on a socket (16 KiB high-water mark) is after every 64 KiB read: a pause, a resume
 * and a wait for the buffer to empty per read.
 */
const RELAY_HIGH_WATER = 1024 * 1024;

/** Copies `from` into `to` with back-pressure at {@link RELAY_HIGH_WATER}; ends `to` when `from` ends. */
export function relayBytes(from: Duplex, to: Duplex): void {
  from.on('data', (chunk: Buffer) => {
    to.write(chunk);
    if (to.writableLength > RELAY_HIGH_WATER && to.writableNeedDrain) from.pause();
  });
  to.on('drain', () => from.resume());
  from.once('end', () => to.end());
}

/** The status line and headers of `res`, as they came (names keep their case), ending with the blank line. */
export function responseHead(res: IncomingMessage): string {
  const lines = [`HTTP/1.1 ${String(res.statusCode ?? 502)} ${res.statusMessage ?? ''}`];
  for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) lines.push(`${res.rawHeaders[i] ?? ''}: ${res.rawHeaders[i + 1] ?? ''}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/**
 * Connects the client's socket to the runtime's streaming server. Resolves once the connection is set up (101
 * relayed and both directions piped) or the runtime's error answer was relayed; never rejects (a failure to reach the
 * runtime is answered with 502 and a Status). Either side closing or failing destroys the other.
 */
export function proxyUpgrade(o: ProxyUpgradeOptions): Promise<void> {
  return new URL(o.url).protocol === 'http:' ? proxyPlain(o) : proxyHttps(o);
}

/** Largest response head accepted from the runtime. */
const MAX_HEAD = 64 * 1024;

/** The upgrade request for `u`, one header line per value. */
function requestText(u: URL, headers: Record<string, string | string[]>): string {
  const lines = [`POST ${u.pathname}${u.search} HTTP/1.1`, `Host: ${u.host}`];
  for (const [name, value] of Object.entries(headers)) for (const v of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${v}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/**
 * The plain-HTTP runtime server (containerd's default): dialed directly, the request written by hand, and the
 * runtime's bytes read into pooled buffers (src/util/read-pool.ts) — the bulk direction of port-forward.
 */
function proxyPlain(o: ProxyUpgradeOptions): Promise<void> {
  const client = o.socket;
  const u = new URL(o.url);
  return new Promise((resolve) => {
    let head: Buffer | undefined = Buffer.alloc(0); // undefined once the response head was passed on
    let settled = false;
    let bodyLeft = Infinity; // bytes of a non-101 answer's body still to pass on
    const settle = (): void => {
      if (!settled) {
        settled = true;
        resolve();
      }
    };
    const relay = new PooledRelay({ sink: { write: (chunk, cb) => client.write(chunk, cb) } });
    const closeBoth = (): void => {
      client.destroy();
      upstream.destroy();
      settle();
    };
    const upstream = connect({
      host: u.hostname,
      port: Number(u.port === '' ? 80 : u.port),
      onread: {
        buffer: () => relay.pool.take(),
        callback: (nread: number, buf: Buffer): boolean => {
          if (head === undefined) {
            relay.onRead(nread, buf);
            bodyLeft -= nread;
            if (bodyLeft <= 0) client.end(); // the whole error body was passed on
            return true;
          }
          head = Buffer.concat([head, buf.subarray(0, nread)]);
          relay.pool.give(buf);
          const end = head.indexOf('\r\n\r\n');
          if (end < 0) {
            if (head.length > MAX_HEAD) closeBoth();
            return true;
          }
          // The runtime's answer goes to the client as it is: a 101 and then the stream, or an error and its body.
          const text = head.toString('latin1', 0, end);
          const upgraded = /^HTTP\/1\.[01] 101 /.test(text);
          client.write(head);
          if (upgraded) {
            if (o.head.length > 0) upstream.write(o.head);
            relayBytes(client, upstream);
          } else {
            const length = /\r\ncontent-length:\s*(\d+)/i.exec(text);
            bodyLeft = length === null ? Infinity : Number(length[1]) - (head.length - end - 4);
            if (bodyLeft <= 0) client.end();
          }
          head = undefined;
          settle();
          return true;
        },
      },
    });
    relay.attach(upstream);
    upstream.setNoDelay(true);
    upstream.once('connect', () => upstream.write(requestText(u, o.headers)));
    upstream.once('end', () => {
      if (head === undefined) client.end();
    });
    upstream.on('error', (err) => {
      if (head !== undefined && !client.destroyed) {
        o.logger.info({ err: err.message, host: u.host }, 'cannot reach the runtime streaming server');
        writeUpgradeError(client, 502, `error dialing the runtime streaming server: ${err.message}`);
        upstream.destroy();
        settle();
        return;
      }
      closeBoth();
    });
    client.on('error', closeBoth);
    client.once('close', closeBoth);
    upstream.once('close', () => {
      if (head === undefined) client.destroy();
      else if (!client.destroyed) writeUpgradeError(client, 502, 'the runtime streaming server closed the connection without an answer');
      settle();
    });
    const timed = client as Duplex & { setTimeout?: (ms: number, cb: () => void) => void };
    if (o.idleTimeoutMs > 0 && typeof timed.setTimeout === 'function') timed.setTimeout(o.idleTimeoutMs, closeBoth);
  });
}

/** A TLS runtime server: through node:https, the bytes relayed as they are read. */
function proxyHttps(o: ProxyUpgradeOptions): Promise<void> {
  const client = o.socket;
  return new Promise((resolve) => {
    const u = new URL(o.url);
    const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(u, { method: 'POST', headers: o.headers, agent: false });
    const abort = (): void => {
      req.destroy();
    };
    client.once('close', abort);
    req.on('upgrade', (res, upstream: Socket, upHead: Buffer) => {
      client.off('close', abort);
      if (client.destroyed) {
        upstream.destroy();
        return resolve();
      }
      upstream.setNoDelay(true);
      client.write(responseHead(res));
      if (upHead.length > 0) client.write(upHead);
      if (o.head.length > 0) upstream.write(o.head);
      const closeBoth = (): void => {
        client.destroy();
        upstream.destroy();
      };
      client.on('error', closeBoth);
      upstream.on('error', closeBoth);
      client.once('close', closeBoth);
      upstream.once('close', closeBoth);
      const timed = client as Duplex & { setTimeout?: (ms: number, cb: () => void) => void };
      if (o.idleTimeoutMs > 0 && typeof timed.setTimeout === 'function') timed.setTimeout(o.idleTimeoutMs, closeBoth);
      relayBytes(client, upstream);
      relayBytes(upstream, client);
      resolve();
    });
    req.on('response', (res) => {
      client.off('close', abort);
      // Not upgraded: relay the runtime's answer (a Status body, usually) and close.
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        const type = res.headers['content-type'] ?? 'text/plain';
        const headers = [`HTTP/1.1 ${String(res.statusCode ?? 502)} ${res.statusMessage ?? ''}`, `Content-Type: ${type}`, `Content-Length: ${body.length}`, 'Connection: close'];
        if (client.writable) client.end(Buffer.concat([Buffer.from(`${headers.join('\r\n')}\r\n\r\n`), body]));
        else client.destroy();
        resolve();
      });
      res.on('error', () => {
        client.destroy();
        resolve();
      });
    });
    req.on('error', (err) => {
      client.off('close', abort);
      o.logger.info({ err: err.message, host: u.host }, 'cannot reach the runtime streaming server');
      if (!client.destroyed) writeUpgradeError(client, 502, `error dialing the runtime streaming server: ${err.message}`);
      resolve();
    });
    req.end();
  });
}
