/**
 * Upgrade requests of the test API server: pods/exec, pods/attach, pods/portforward and nodes/proxy.
 *
 * What kube-apiserver v1.33 does (observed with kubectl v1.33 against the real server and a recording kubelet):
 * kubectl first asks for WebSocket (`v5.channel.k8s.io` for exec/attach, `SPDY/3.1+portforward.k8s.io` for
 * port-forward); the server always speaks SPDY/3.1 to the kubelet — it translates exec/attach
 * (TranslateStreamCloseWebsocketRequests) and tunnels port-forward's SPDY frames inside WebSocket messages
 * (PortForwardWebsockets). kubectl falls back to plain SPDY when the WebSocket upgrade is refused.
 *
 * Here as upstream: port-forward tunnelling (SPDY frames inside WebSocket messages), a `v5.channel.k8s.io` WebSocket
 * exec/attach translated to SPDY toward the kubelet (translate.ts); every other WebSocket upgrade (older channel
 * protocols) and every SPDY upgrade is passed through to the kubelet byte for byte (the upgrade-aware proxy).
 */
import type { IncomingMessage } from 'node:http';
import type { Agent } from 'node:https';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Registry } from '../registry.js';
import { ApiError, badRequest, unauthorized } from '../status.js';
import { kubeletRoute, nodeProxyEndpoint, queryBool } from './proxy.js';
import { BareStatusError, dialErrorText, kubeletOf, podTarget, type KubeletEndpoint } from './target.js';
import { translateExec, V5_PROTOCOL } from './translate.js';

/** What the upgrade handler needs from the server. */
export interface UpgradeContext {
  registry: Registry;
  agent: Agent;
  authenticated(req: IncomingMessage): boolean;
  /** Sockets to destroy when the server stops. */
  track(s: Duplex): void;
}

const TUNNEL_PROTOCOL = 'SPDY/3.1+portforward.k8s.io';
const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 422: 'Unprocessable Entity', 500: 'Internal Server Error', 503: 'Service Unavailable' };

/** Writes an API error as a plain HTTP response on a not-yet-upgraded socket and closes it. */
export function writeSocketError(socket: Duplex, err: unknown): void {
  const e = err instanceof ApiError ? err : new BareStatusError(500, '', err instanceof Error ? err.message : String(err));
  const body = Buffer.from(JSON.stringify(e.toStatus()));
  socket.end(
    Buffer.concat([
      Buffer.from(
        `HTTP/1.1 ${e.code} ${STATUS_TEXT[e.code] ?? 'Error'}\r\nContent-Type: application/json\r\nCache-Control: no-cache, private\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`,
      ),
      body,
    ]),
  );
}

/** The kubelet path and query for a pods/exec|attach|portforward request (apiserver → kubelet parameter names). */
export function streamLocation(kind: 'exec' | 'attach' | 'portforward', namespace: string, pod: string, container: string, q: URLSearchParams): string {
  const out = new URLSearchParams();
  if (kind === 'portforward') {
    for (const p of q.getAll('ports').flatMap((v) => v.split(','))) {
      if (!/^\d+$/.test(p.trim()) || Number(p) > 65535) throw badRequest(`cannot convert to []int32: strconv.ParseUint: parsing ${JSON.stringify(p)}: invalid syntax`);
      out.append('port', p.trim());
    }
    return `/portForward/${encodeURIComponent(namespace)}/${encodeURIComponent(pod)}${out.size ? `?${out.toString()}` : ''}`;
  }
  // url.Values.Encode sorts keys: command, error, input, output, tty. stdout/stderr default to true as in v1 defaults.
  if (kind === 'exec') for (const c of q.getAll('command')) out.append('command', c);
  const flag = (k: string, dflt: boolean): boolean => (q.get(k) === null ? dflt : queryBool(q.get(k)));
  if (flag('stderr', true)) out.set('error', '1');
  if (flag('stdin', false)) out.set('input', '1');
  if (flag('stdout', true)) out.set('output', '1');
  if (flag('tty', false)) out.set('tty', '1');
  return `/${kind}/${encodeURIComponent(namespace)}/${encodeURIComponent(pod)}/${encodeURIComponent(container)}?${out.toString()}`;
}

function requestHead(req: IncomingMessage, path: string, ep: KubeletEndpoint): string {
  const lines = [`${req.method ?? 'GET'} ${path} HTTP/1.1`];
  let hasHost = false;
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const k = req.rawHeaders[i]!;
    const lk = k.toLowerCase();
    if (lk === 'authorization' || lk === 'x-forwarded-for') continue;
    if (lk === 'host') hasHost = true;
    lines.push(`${k}: ${req.rawHeaders[i + 1]!}`);
  }
  if (!hasHost) lines.push(`Host: ${ep.host}:${ep.port}`);
  lines.push(`X-Forwarded-For: ${req.socket.remoteAddress ?? '127.0.0.1'}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

function dial(ctx: UpgradeContext, ep: KubeletEndpoint): Promise<TLSSocket> {
  const o = ctx.agent.options;
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: ep.host, port: ep.port, cert: o.cert, key: o.key, rejectUnauthorized: false, servername: undefined, ALPNProtocols: ['http/1.1'] });
    s.once('secureConnect', () => {
      s.off('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
}

/** Pipes two sockets until either closes. */
function splice(a: Duplex, b: Duplex): void {
  a.pipe(b);
  b.pipe(a);
  const done = (): void => {
    a.destroy();
    b.destroy();
  };
  a.on('close', done);
  b.on('close', done);
  a.on('error', done);
  b.on('error', done);
}

/** Reads the kubelet's response head; resolves with its status and every byte read so far. */
function readHead(s: TLSSocket): Promise<{ code: number; bytes: Buffer; headEnd: number }> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const onData = (c: Buffer): void => {
      buf = Buffer.concat([buf, c]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) {
        if (buf.length > 64 * 1024) fail(new Error('response head too large'));
        return;
      }
      s.off('data', onData);
      s.off('error', fail);
      s.off('end', onEnd);
      s.pause();
      const code = Number(/^HTTP\/1\.[01] (\d{3})/.exec(buf.subarray(0, end).toString('latin1'))?.[1] ?? 502);
      resolve({ code, bytes: buf, headEnd: end + 4 });
    };
    const fail = (e: Error): void => reject(e);
    const onEnd = (): void => reject(new Error('EOF'));
    s.on('data', onData);
    s.once('error', fail);
    s.once('end', onEnd);
  });
}

// kubectl's tunnelling sub-protocol contains '/', which `ws` rejects as a token: the header is taken off the request
// before the handshake and the chosen protocol is put back on the answer.
const tunnelled = new WeakSet<IncomingMessage>();
const wss = new WebSocketServer({ noServer: true });
wss.on('headers', (headers: string[], req: IncomingMessage) => {
  if (tunnelled.has(req)) headers.push(`Sec-WebSocket-Protocol: ${TUNNEL_PROTOCOL}`);
});

async function tunnelPortForward(ctx: UpgradeContext, req: IncomingMessage, socket: Duplex, head: Buffer, ep: KubeletEndpoint, path: string): Promise<void> {
  let kubelet: TLSSocket;
  try {
    kubelet = await dial(ctx, ep);
  } catch (err) {
    writeSocketError(socket, new BareStatusError(500, '', `error dialing backend: ${dialErrorText(err, ep)}`));
    return;
  }
  ctx.track(kubelet);
  const lines = [`POST ${path} HTTP/1.1`, `Host: ${ep.host}:${ep.port}`, 'Content-Length: 0', 'Connection: Upgrade', 'Upgrade: SPDY/3.1', 'X-Stream-Protocol-Version: portforward.k8s.io', `X-Forwarded-For: ${req.socket.remoteAddress ?? '127.0.0.1'}`];
  const ua = req.headers['user-agent'];
  if (ua) lines.push(`User-Agent: ${ua}`);
  kubelet.write(`${lines.join('\r\n')}\r\n\r\n`);
  let resp: Awaited<ReturnType<typeof readHead>>;
  try {
    resp = await readHead(kubelet);
  } catch (err) {
    kubelet.destroy();
    writeSocketError(socket, new BareStatusError(500, '', `error dialing backend: ${err instanceof Error ? err.message : String(err)}`));
    return;
  }
  if (resp.code !== 101) {
    // The kubelet refused: its answer goes to the client as is (kubectl then falls back to SPDY).
    socket.write(resp.bytes);
    splice(socket, kubelet);
    return;
  }
  const rest = resp.bytes.subarray(resp.headEnd);
  delete req.headers['sec-websocket-protocol'];
  tunnelled.add(req);
  wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
    if (rest.length > 0) ws.send(rest);
    kubelet.on('data', (c: Buffer) => ws.send(c));
    kubelet.resume();
    ws.on('message', (data: Buffer) => kubelet.write(data));
    const done = (): void => {
      kubelet.destroy();
      ws.terminate();
    };
    ws.on('close', done);
    ws.on('error', done);
    kubelet.on('close', () => ws.close());
    kubelet.on('error', done);
  });
}

async function passThrough(ctx: UpgradeContext, req: IncomingMessage, socket: Duplex, head: Buffer, ep: KubeletEndpoint, path: string): Promise<void> {
  let kubelet: TLSSocket;
  try {
    kubelet = await dial(ctx, ep);
  } catch (err) {
    writeSocketError(socket, new BareStatusError(500, '', `error dialing backend: ${dialErrorText(err, ep)}`));
    return;
  }
  ctx.track(kubelet);
  kubelet.write(requestHead(req, path, ep));
  if (head.length > 0) kubelet.write(head);
  splice(socket, kubelet);
}

/**
 * Resolves a pods/exec|attach|portforward request to the kubelet endpoint and path, with the real server's checks in
 * its order: method (405), port list (400), pod (404), container (400), node assigned (400), node and address.
 */
export function resolveStream(reg: Registry, method: string, kind: 'exec' | 'attach' | 'portforward', namespace: string, name: string, q: URLSearchParams): { ep: KubeletEndpoint; path: string } {
  if (method !== 'GET' && method !== 'POST') throw new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {});
  if (kind === 'portforward') streamLocation(kind, namespace, name, '', q);
  const t = podTarget(reg, namespace, name, q.get('container') ?? '', kind !== 'portforward');
  const path = streamLocation(kind, t.namespace, t.name, t.container, q);
  if (t.nodeName === '') throw badRequest(`pod ${t.name} does not have a host assigned`);
  return { ep: kubeletOf(reg, t.nodeName, 'pods'), path };
}

/** Handles one upgrade request (the server's `upgrade` event). Never throws. */
export function handleUpgrade(ctx: UpgradeContext, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  ctx.track(socket);
  socket.on('error', () => socket.destroy());
  try {
    const url = new URL(req.url ?? '/', 'https://localhost');
    const rt = kubeletRoute(url.pathname);
    if (rt === undefined || rt.kind === 'log') throw new ApiError(404, 'NotFound', 'the server could not find the requested resource', {});
    if (!ctx.authenticated(req)) throw unauthorized();
    const isWs = String(req.headers.upgrade ?? '').toLowerCase() === 'websocket';
    if (rt.kind === 'nodeProxy') {
      const ep = nodeProxyEndpoint(ctx.registry, rt.node);
      void passThrough(ctx, req, socket, head, ep, `/${rt.rest ?? ''}${url.search}`);
      return;
    }
    const { ep, path } = resolveStream(ctx.registry, req.method ?? 'GET', rt.kind, rt.namespace, rt.name, url.searchParams);
    if (isWs) {
      const protocols = String(req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
      if (rt.kind === 'portforward' && protocols.includes(TUNNEL_PROTOCOL)) {
        void tunnelPortForward(ctx, req, socket, head, ep, path);
        return;
      }
      if (rt.kind !== 'portforward' && protocols.includes(V5_PROTOCOL)) {
        const q = url.searchParams;
        const flag = (k: string, dflt: boolean): boolean => (q.get(k) === null ? dflt : queryBool(q.get(k)));
        const o = { stdin: flag('stdin', false), stdout: flag('stdout', true), stderr: flag('stderr', true), tty: flag('tty', false) };
        const host = ep.host.includes(':') ? `[${ep.host}]` : ep.host;
        const dialKubelet = (): Promise<TLSSocket> =>
          dial(ctx, ep).then(
            (s) => {
              ctx.track(s);
              return s;
            },
            (err: unknown) => {
              throw new Error(dialErrorText(err, ep));
            },
          );
        translateExec(req, socket, head, o, ep, path, `https://${host}:${ep.port}${path}`, dialKubelet);
        return;
      }
      // Any other WebSocket (older exec/attach protocols, port-forward's own): passed through to the kubelet as is.
    }
    void passThrough(ctx, req, socket, head, ep, path);
  } catch (err) {
    writeSocketError(socket, err);
  }
}
