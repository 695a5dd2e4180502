/**
 * The stream translator of the test API server: a WebSocket `v5.channel.k8s.io` exec/attach from the client becomes a
 * SPDY/3.1 remotecommand session toward the kubelet, as kube-apiserver v1.33 does it (StreamTranslatorHandler, gate
 * TranslateStreamCloseWebsocketRequests, on by default). Observed against the real server with a recording kubelet:
 * - the client's upgrade is answered 101 (`v5.channel.k8s.io` only) BEFORE the kubelet is dialled, then an empty
 *   message goes on the lowest writable channel (1 stdout, else 2 stderr, else 3 error);
 * - the kubelet gets `POST /exec|attach/...` with `Upgrade: SPDY/3.1` and
 *   `X-Stream-Protocol-Version: v5.channel.k8s.io, v4.channel.k8s.io, v3.channel.k8s.io, v2.channel.k8s.io, channel.k8s.io`;
 * - the end of the session is a Status on channel 3 (Success, NonZeroExitCode with the ExitCode cause, or an
 *   InternalError such as `Internal error occurred: unable to upgrade connection: <kubelet's body>` or
 *   `error sending request: Post "<url>": dial tcp …`), then a close frame 1000.
 * Client → kubelet: channel 0 is stdin, channel 4 resize (JSON), channel 255 + [0] closes stdin (v5's close signal).
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { WebSocketServer, type WebSocket } from 'ws';
import { SpdyConnection, type SpdyStream } from '../../../src/spdy/index.js';
import { silentLogger } from '../../../src/util/logger.js';
import type { KubeletEndpoint } from './target.js';

/** The only WebSocket sub-protocol the translator speaks. */
export const V5_PROTOCOL = 'v5.channel.k8s.io';

/** What the translator offers the kubelet over SPDY (client-go's SPDY executor list). */
export const SPDY_OFFER = 'v5.channel.k8s.io, v4.channel.k8s.io, v3.channel.k8s.io, v2.channel.k8s.io, channel.k8s.io';

/** Streams the client asked for (pods/exec|attach query). */
export interface StreamOptions {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

/** How the translator reaches the kubelet: a connected TLS socket, or an error to report to the client. */
export type KubeletDialer = () => Promise<TLSSocket>;

const CH_STDIN = 0;
const CH_STDOUT = 1;
const CH_STDERR = 2;
const CH_ERROR = 3;
const CH_RESIZE = 4;
const CH_CLOSE = 255;
const HIGH_WATER = 1 << 20;

/** Go's encoding/json escapes &, < and > in strings. */
export function goJson(v: unknown): string {
  return JSON.stringify(v).replace(/[&<>]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`);
}

/** The Status of an InternalError as apierrors.NewInternalError builds it. */
export function internalError(message: string): Record<string, unknown> {
  return { metadata: {}, status: 'Failure', message: `Internal error occurred: ${message}`, reason: 'InternalError', details: { causes: [{ message }] }, code: 500 };
}

/**
 * The Status the translator sends for the kubelet's final v4 error-stream text: Success for none, the exit code
 * for NonZeroExitCode (client-go's CodeExitError wrapped again, as upstream), an InternalError otherwise.
 */
export function finalStatus(errorText: string): Record<string, unknown> {
  if (errorText.trim() === '') return { metadata: {}, status: 'Success' };
  let st: { status?: string; reason?: string; message?: string; details?: { causes?: { reason?: string; message?: string }[] } };
  try {
    st = JSON.parse(errorText) as typeof st;
  } catch {
    return internalError(`error stream protocol error: ${errorText}`);
  }
  if (st.status === 'Success') return { metadata: {}, status: 'Success' };
  if (st.status === 'Failure' && st.reason === 'NonZeroExitCode') {
    // client-go's errorDecoderV4: the ExitCode cause as a uint8, else a protocol error.
    const cause = st.details?.causes?.find((c) => c.reason === 'ExitCode');
    if (cause === undefined) return internalError(st.details === undefined ? 'error stream protocol error: details must be set' : 'error stream protocol error: no ExitCode cause given');
    if (!/^\d+$/.test(cause.message ?? '') || Number(cause.message) > 255) return internalError(`error stream protocol error: invalid exit code value ${JSON.stringify(cause.message ?? '')}`);
    const inner = `command terminated with exit code ${Number(cause.message)}`;
    return {
      metadata: {},
      status: 'Failure',
      message: `command terminated with non-zero exit code: ${inner}`,
      reason: 'NonZeroExitCode',
      details: { causes: [{ reason: 'ExitCode', message: String(Number(cause.message)) }] },
    };
  }
  if (st.status !== 'Failure') return internalError('error stream protocol error: unknown error');
  return internalError(st.message ?? '');
}

/** Reads the kubelet's response head: status, headers, body bytes read so far and the rest after the head. */
function readResponse(s: TLSSocket): Promise<{ code: number; headers: Map<string, string>; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const cleanup = (): void => {
      s.off('data', onData);
      s.off('error', reject);
      s.off('end', onEnd);
    };
    const onData = (c: Buffer): void => {
      buf = Buffer.concat([buf, c]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      cleanup();
      s.pause();
      const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
      const headers = new Map<string, string>();
      for (const l of lines.slice(1)) {
        const i = l.indexOf(':');
        if (i > 0) headers.set(l.slice(0, i).trim().toLowerCase(), l.slice(i + 1).trim());
      }
      resolve({ code: Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '')?.[1] ?? 502), headers, rest: buf.subarray(end + 4) });
    };
    const onEnd = (): void => {
      cleanup();
      reject(new Error('EOF'));
    };
    s.on('data', onData);
    s.once('error', reject);
    s.once('end', onEnd);
  });
}

/** Reads the body of a refused upgrade (Content-Length or until EOF, bounded). */
function readBody(s: TLSSocket, headers: Map<string, string>, already: Buffer): Promise<string> {
  const want = Number(headers.get('content-length') ?? NaN);
  return new Promise((resolve) => {
    let buf = already;
    const done = (): void => {
      s.destroy();
      resolve(buf.toString('utf8', 0, Number.isFinite(want) ? Math.min(want, buf.length) : buf.length));
    };
    if (Number.isFinite(want) && buf.length >= want) {
      done();
      return;
    }
    s.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      if ((Number.isFinite(want) && buf.length >= want) || buf.length > 64 * 1024) done();
    });
    s.once('end', done);
    s.once('error', done);
    s.resume();
  });
}

/** The error client-go's SPDY upgrader reports for a non-101 answer (a Status body is passed on as is). */
function refusedStatus(body: string): Record<string, unknown> {
  try {
    const st = JSON.parse(body) as Record<string, unknown>;
    if (st.kind === 'Status') {
      const { kind: _k, apiVersion: _a, ...rest } = st;
      return rest;
    }
  } catch {
    // not a Status
  }
  return internalError(`unable to upgrade connection: ${body}`);
}

const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, handleProtocols: (p: Set<string>) => (p.has(V5_PROTOCOL) ? V5_PROTOCOL : false) });

/** Sends one channel message; resolves false when the socket is gone. */
function sendChannel(ws: WebSocket, channel: number, payload: Buffer | string, cb?: () => void): void {
  if (ws.readyState !== ws.OPEN) return;
  ws.send(Buffer.concat([Buffer.from([channel]), Buffer.isBuffer(payload) ? payload : Buffer.from(payload)]), { binary: true }, cb);
}

/**
 * Handles a `v5.channel.k8s.io` WebSocket upgrade: answers it, dials the kubelet with `dial`, sends it `POST path`
 * as a SPDY/3.1 upgrade and relays the remotecommand streams until the kubelet reports the end or either side goes.
 * `kubeletUrl` appears in dial error messages as upstream prints it.
 */
export function translateExec(req: IncomingMessage, socket: Duplex, head: Buffer, o: StreamOptions, ep: KubeletEndpoint, path: string, kubeletUrl: string, dial: KubeletDialer): void {
  wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
    void run(ws, o, ep, path, kubeletUrl, dial);
  });
}

async function run(ws: WebSocket, o: StreamOptions, ep: KubeletEndpoint, path: string, kubeletUrl: string, dial: KubeletDialer): Promise<void> {
  let finished = false;
  const finish = (status: Record<string, unknown>): void => {
    if (finished) return;
    finished = true;
    sendChannel(ws, CH_ERROR, goJson(status), () => ws.close(1000));
  };
  // Connection established: an empty message on the lowest writable channel.
  sendChannel(ws, o.stdout ? CH_STDOUT : o.stderr ? CH_STDERR : CH_ERROR, Buffer.alloc(0));
  let clientGone = ws.readyState !== ws.OPEN;
  ws.once('close', () => (clientGone = true));
  // What the client sends before the kubelet session is up (stdin, resizes, a close signal) is kept for it.
  const early: [Buffer, boolean][] = [];
  const keep = (data: Buffer, isBinary: boolean): void => void early.push([data, isBinary]);
  ws.on('message', keep);
  let sock: TLSSocket;
  try {
    sock = await dial();
  } catch (err) {
    finish(internalError(`error sending request: Post ${JSON.stringify(kubeletUrl)}: ${err instanceof Error ? err.message : String(err)}`));
    return;
  }
  if (clientGone) {
    sock.destroy();
    return;
  }
  const lines = [`POST ${path} HTTP/1.1`, `Host: ${ep.host.includes(':') ? `[${ep.host}]` : ep.host}:${ep.port}`, 'User-Agent: Go-http-client/1.1', 'Content-Length: 0', 'Connection: Upgrade', 'Upgrade: SPDY/3.1', `X-Stream-Protocol-Version: ${SPDY_OFFER}`];
  sock.write(`${lines.join('\r\n')}\r\n\r\n`);
  let resp: Awaited<ReturnType<typeof readResponse>>;
  try {
    resp = await readResponse(sock);
  } catch (err) {
    sock.destroy();
    finish(internalError(`error sending request: Post ${JSON.stringify(kubeletUrl)}: ${err instanceof Error ? err.message : String(err)}`));
    return;
  }
  if (resp.code !== 101) {
    finish(refusedStatus(await readBody(sock, resp.headers, resp.rest)));
    return;
  }
  const conn = new SpdyConnection(sock, { logger: silentLogger(), onStream: (s) => s.reset() });
  sock.resume();
  conn.feed(resp.rest);
  ws.off('message', keep);
  relay(ws, conn, o, resp.headers.get('x-stream-protocol-version') ?? '', finish, early);
}

function ended(s: SpdyStream): Promise<void> {
  return new Promise((resolve) => {
    if (s.readableEnded || s.destroyed) resolve();
    s.once('end', resolve);
    s.once('close', resolve);
  });
}

/** Pipes a kubelet output stream into a WebSocket channel with back-pressure. */
function pump(s: SpdyStream, ws: WebSocket, channel: number): Promise<void> {
  s.on('data', (c: Buffer) => {
    sendChannel(ws, channel, c, () => {
      if (ws.bufferedAmount < HIGH_WATER && s.isPaused()) s.resume();
    });
    if (ws.bufferedAmount >= HIGH_WATER) s.pause();
  });
  return ended(s);
}

function relay(ws: WebSocket, conn: SpdyConnection, o: StreamOptions, protocol: string, finish: (st: Record<string, unknown>) => void, early: [Buffer, boolean][]): void {
  // client-go's v4 stream order: error, stdin, stdout, stderr, resize.
  const error = conn.openStream({ streamtype: 'error' });
  error.end();
  let errorText = '';
  error.on('data', (d: Buffer) => (errorText += d.toString()));
  const stdin = o.stdin ? conn.openStream({ streamtype: 'stdin' }) : undefined;
  const outputs: Promise<void>[] = [];
  if (o.stdout) {
    const s = conn.openStream({ streamtype: 'stdout' });
    s.end();
    outputs.push(pump(s, ws, CH_STDOUT));
  }
  if (o.stderr && !o.tty) {
    const s = conn.openStream({ streamtype: 'stderr' });
    s.end();
    outputs.push(pump(s, ws, CH_STDERR));
  }
  const resize = o.tty && protocol !== 'v2.channel.k8s.io' && protocol !== 'channel.k8s.io' ? conn.openStream({ streamtype: 'resize' }) : undefined;
  for (const s of [stdin, resize]) s?.on('error', () => undefined);
  const onMessage = (data: Buffer, isBinary: boolean): void => {
    if (!isBinary || data.length === 0) return;
    const ch = data[0]!;
    const payload = data.subarray(1);
    if (ch === CH_STDIN && stdin !== undefined && !stdin.writableEnded) {
      if (!stdin.write(payload)) {
        ws.pause();
        stdin.once('drain', () => ws.resume());
      }
    } else if (ch === CH_RESIZE && resize !== undefined && !resize.writableEnded) {
      resize.write(payload);
    } else if (ch === CH_CLOSE && payload[0] === CH_STDIN && stdin !== undefined) {
      stdin.end();
    }
  };
  for (const [data, isBinary] of early) onMessage(data, isBinary);
  ws.on('message', onMessage);
  const gone = (): void => conn.close('client went away');
  ws.once('close', gone);
  ws.once('error', gone);
  void (async () => {
    await ended(error);
    await Promise.all(outputs);
    ws.off('close', gone);
    conn.close('session finished');
    finish(finalStatus(errorText));
  })();
}
