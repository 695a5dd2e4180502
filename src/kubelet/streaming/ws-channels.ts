/**
 * WebSocket channel protocols (k8s.io/apimachinery wsstream) for clients that call the kubelet directly: every
 * message starts with its channel number (one byte; in the base64 variants an ASCII digit followed by base64 text).
 * Exec/attach: 0 stdin, 1 stdout, 2 stderr, 3 error, 4 resize; v5 adds 255 "close channel" (stdin EOF).
 * Port-forward: channel 2i carries data of the i-th port, 2i+1 its errors; each channel starts with the port number
 * (2 bytes, little-endian).
 */
import { Duplex, PassThrough, Writable } from 'node:stream';
import type { WebSocket } from 'ws';
import type { Logger } from '../../util/index.js';
import type { CommandChannels, CommandOptions } from './command.js';
import { statusText, type Status } from './status.js';

/** Exec/attach WebSocket sub-protocols, in the server's order. */
export const WS_COMMAND_PROTOCOLS = [
  'v5.channel.k8s.io',
  'v4.channel.k8s.io',
  'v4.base64.channel.k8s.io',
  'channel.k8s.io',
  'base64.channel.k8s.io',
] as const;

/** Port-forward WebSocket sub-protocols, in the server's order. */
export const WS_PORTFORWARD_PROTOCOLS = [
  'v4.channel.k8s.io',
  'v4.base64.channel.k8s.io',
  'channel.k8s.io',
  'base64.channel.k8s.io',
] as const;

const CLOSE_CHANNEL = 255;

/** Encodes one message for `channel` in the protocol's framing. */
export function encodeChannelMessage(protocol: string, channel: number, payload: Buffer): Buffer | string {
  if (protocol.includes('base64')) return String.fromCharCode(48 + channel) + payload.toString('base64');
  return Buffer.concat([Buffer.from([channel]), payload]);
}

/** Decodes one message into channel and payload; undefined for an empty or malformed message. */
export function decodeChannelMessage(protocol: string, data: Buffer, isBinary: boolean): { channel: number; payload: Buffer } | undefined {
  if (data.length === 0) return undefined;
  if (protocol.includes('base64') && !isBinary) {
    const text = data.toString('utf8');
    const channel = text.charCodeAt(0) - 48;
    if (channel < 0 || channel > 9) return undefined;
    return { channel, payload: Buffer.from(text.slice(1), 'base64') };
  }
  return { channel: data[0] as number, payload: data.subarray(1) };
}

/** A writable that sends each chunk as a message on `channel`, honouring the socket's flow through send callbacks. */
function channelWriter(ws: WebSocket, protocol: string, channel: number): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      if (ws.readyState !== ws.OPEN) {
        cb();
        return;
      }
      ws.send(encodeChannelMessage(protocol, channel, chunk), (err) => cb(err ?? null));
    },
  });
}

function endAndWait(s: Writable | undefined): Promise<void> {
  if (s === undefined || s.destroyed || s.writableFinished) return Promise.resolve();
  return new Promise((resolve) => {
    s.once('finish', resolve);
    s.once('close', resolve);
    s.once('error', () => resolve());
    s.end();
  });
}

/** Presents an accepted exec/attach WebSocket as CommandChannels. */
export function wsCommandChannels(ws: WebSocket, protocol: string, options: CommandOptions, log: Logger): CommandChannels {
  const controller = new AbortController();
  const stdin = options.stdin ? new PassThrough() : undefined;
  const resize = options.tty ? new PassThrough() : undefined;
  const stdout = options.stdout ? channelWriter(ws, protocol, 1) : undefined;
  const stderr = options.stderr ? channelWriter(ws, protocol, 2) : undefined;
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    const m = decodeChannelMessage(protocol, data, isBinary);
    if (m === undefined) return;
    if (m.channel === 0) stdin?.write(m.payload);
    else if (m.channel === 4) resize?.write(m.payload);
    else if (m.channel === CLOSE_CHANNEL && protocol.startsWith('v5.') && m.payload[0] === 0) stdin?.end();
  });
  ws.on('close', () => {
    controller.abort();
    stdin?.destroy();
    resize?.destroy();
  });
  ws.on('error', (err) => log.debug({ err: err.message }, 'websocket error'));
  // Upstream announces the connection with an empty message on the lowest writable channel.
  const announce = options.stdout ? 1 : options.stderr ? 2 : 3;
  ws.send(encodeChannelMessage(protocol, announce, Buffer.alloc(0)));
  const channels: CommandChannels = {
    signal: controller.signal,
    writeStatus: (status: Status) => {
      const text = protocol.startsWith('v4.') || protocol.startsWith('v5.') ? JSON.stringify(status) : statusText(status);
      if (text === '' || ws.readyState !== ws.OPEN) return Promise.resolve();
      return new Promise<void>((resolve, reject) =>
        ws.send(encodeChannelMessage(protocol, 3, Buffer.from(text)), (err) => (err ? reject(err) : resolve())),
      );
    },
    finish: async () => {
      await Promise.all([endAndWait(stdout), endAndWait(stderr)]);
      if (ws.readyState === ws.OPEN) ws.close(1000);
      stdin?.destroy();
      resize?.destroy();
    },
  };
  if (stdin !== undefined) channels.stdin = stdin;
  if (stdout !== undefined) channels.stdout = stdout;
  if (stderr !== undefined) channels.stderr = stderr;
  if (resize !== undefined) channels.resize = resize;
  return channels;
}

/** Parses the `port` query parameters (repeated and/or comma-separated), as upstream. */
export function parseWsPorts(query: URLSearchParams): { ok: true; ports: number[] } | { ok: false; message: string } {
  const raw = query.getAll('port');
  if (raw.length === 0) return { ok: false, message: 'query parameter "port" is required' };
  const ports: number[] = [];
  for (const r of raw) {
    if (r === '') return { ok: false, message: 'query parameter "port" cannot be empty' };
    for (const p of r.split(',')) {
      const n = /^\d{1,5}$/.test(p) ? Number(p) : NaN;
      if (!(n >= 1 && n <= 65535)) return { ok: false, message: `unable to parse "${p}" as a port: must be 1-65535` };
      ports.push(n);
    }
  }
  return { ok: true, ports };
}

/**
 * Serves port-forward on an accepted WebSocket: one connection per requested port, each on its channel pair.
 * Closes the socket when every forward ended; aborts them all when the client goes away.
 */
export function serveWsPortForward(
  ws: WebSocket,
  protocol: string,
  ports: number[],
  forward: (port: number, stream: Duplex, signal: AbortSignal) => Promise<void>,
  describe: (port: number, err: Error) => string,
  log: Logger,
): Promise<void> {
  const controller = new AbortController();
  const inbound = new Map<number, PassThrough>();
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    const m = decodeChannelMessage(protocol, data, isBinary);
    if (m !== undefined && m.channel % 2 === 0) inbound.get(m.channel)?.write(m.payload);
  });
  ws.on('close', () => {
    controller.abort();
    for (const p of inbound.values()) p.destroy();
  });
  ws.on('error', (err) => log.debug({ err: err.message }, 'websocket error'));
  const runs = ports.map(async (port, i) => {
    const dataCh = 2 * i;
    const errCh = dataCh + 1;
    const prefix = Buffer.alloc(2);
    prefix.writeUInt16LE(port, 0);
    ws.send(encodeChannelMessage(protocol, dataCh, prefix));
    ws.send(encodeChannelMessage(protocol, errCh, prefix));
    const input = new PassThrough();
    inbound.set(dataCh, input);
    const out = channelWriter(ws, protocol, dataCh);
    const stream = Duplex.from({ readable: input, writable: out });
    stream.on('error', () => undefined);
    try {
      await forward(port, stream, controller.signal);
    } catch (err) {
      if (ws.readyState === ws.OPEN) ws.send(encodeChannelMessage(protocol, errCh, Buffer.from(describe(port, err as Error))));
    } finally {
      inbound.delete(dataCh);
      input.destroy();
    }
  });
  return Promise.all(runs).then(() => {
    if (ws.readyState === ws.OPEN) ws.close(1000);
  });
}
