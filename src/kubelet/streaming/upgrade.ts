/**
 * HTTP Upgrade plumbing shared by the streaming endpoints (pure parsing plus raw socket replies): which transport a
 * request asks for, SPDY sub-protocol negotiation (X-Stream-Protocol-Version, as k8s.io/apimachinery httpstream
 * Handshake), and error answers written straight to the socket before any upgrade happened.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { httpErrorStatus } from './status.js';

/** The header carrying the client's (request) and the chosen (response) stream protocol. */
export const STREAM_PROTOCOL_HEADER = 'x-stream-protocol-version';

/** Which upgrade a request asks for. */
export function upgradeKind(req: IncomingMessage): 'spdy' | 'websocket' | undefined {
  const upgrade = String(req.headers.upgrade ?? '').toLowerCase();
  if (upgrade.split(',').some((u) => u.trim() === 'websocket')) return 'websocket';
  if (upgrade.split(',').some((u) => u.trim() === 'spdy/3.1')) return 'spdy';
  return undefined;
}

/** Every value of a possibly repeated, comma-joined header. */
export function headerValues(req: IncomingMessage, name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    if ((req.rawHeaders[i] ?? '').toLowerCase() !== name) continue;
    for (const v of (req.rawHeaders[i + 1] ?? '').split(',')) if (v.trim() !== '') out.push(v.trim());
  }
  return out;
}

/** Result of negotiating a sub-protocol: the chosen one ('' = the client sent none: legacy v1), or a refusal. */
export type Negotiation = { ok: true; protocol: string } | { ok: false; message: string };

/** Picks the first of the client's protocols (client order) that the server supports. */
export function negotiate(clientProtocols: string[], serverProtocols: readonly string[]): Negotiation {
  if (clientProtocols.length === 0) return { ok: true, protocol: '' };
  const hit = clientProtocols.find((p) => serverProtocols.includes(p));
  if (hit !== undefined) return { ok: true, protocol: hit };
  return {
    ok: false,
    message: `unable to upgrade: unable to negotiate protocol: client supports [${clientProtocols.join(' ')}], server accepts [${serverProtocols.join(' ')}]`,
  };
}

/** Writes the 101 answer for a SPDY/3.1 upgrade with the chosen protocol. */
export function writeSpdyUpgrade(socket: Duplex, protocol: string): void {
  const lines = ['HTTP/1.1 101 Switching Protocols', 'Connection: Upgrade', 'Upgrade: SPDY/3.1'];
  if (protocol !== '') lines.push(`X-Stream-Protocol-Version: ${protocol}`);
  socket.write(`${lines.join('\r\n')}\r\n\r\n`);
}

/** Answers an upgrade request with an HTTP error and a Status body, then closes the socket. */
export function writeUpgradeError(socket: Duplex, code: number, message: string, extraHeaders: Record<string, string> = {}): void {
  const body = JSON.stringify(httpErrorStatus(code, message));
  const text: Record<number, string> = { 400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found', 500: 'Internal Server Error' };
  const lines = [
    `HTTP/1.1 ${code} ${text[code] ?? 'Error'}`,
    'Content-Type: application/json',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    ...Object.entries(extraHeaders).map(([k, v]) => `${k}: ${v}`),
  ];
  if (socket.writable) socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`);
  else socket.destroy();
}
