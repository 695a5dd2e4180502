/**
 * The kubelet's streaming endpoints (`/exec`, `/attach`, `/portForward`), called by the API server
 * (src/kubelet/server/api) after authentication and authorization: resolves the pod/container, negotiates the
 * transport (SPDY/3.1 or WebSocket) and sub-protocol, and drives the session on the runtime's ContainerStreaming.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { ContainerStreaming, StreamIO } from '../../cri/types.js';
import type { Logger } from '../../util/index.js';
import type { KubeletPodLookup, StreamingHandler, StreamRoute } from '../server/api/types.js';
import { parseCommandOptions, runCommandSession, type CommandOptions } from './command.js';
import { SpdyConnection, type SpdyStream } from '../../spdy/index.js';
import { acceptSpdyCommandStreams, SPDY_COMMAND_PROTOCOLS } from './spdy-command.js';
import { servePortForwardSpdy, SPDY_PORTFORWARD_PROTOCOL } from './spdy-portforward.js';
import { httpErrorStatus } from './status.js';
import {
  headerValues,
  negotiate,
  STREAM_PROTOCOL_HEADER,
  upgradeKind,
  writeSpdyUpgrade,
  writeUpgradeError,
} from './upgrade.js';
import { execPreparerOf } from './runtime.js';
import { parseWsPorts, serveWsPortForward, WS_COMMAND_PROTOCOLS, WS_PORTFORWARD_PROTOCOLS, wsCommandChannels } from './ws-channels.js';

/** Dependencies of {@link createStreamingHandler}. */
export interface StreamingHandlerDeps {
  lookup: KubeletPodLookup;
  runtime: ContainerStreaming;
  logger: Logger;
  /** Closes a streaming connection idle this long (upstream streamingConnectionIdleTimeout, default 4 h; 0 = never). */
  idleTimeoutMs?: number;
  /** How long the client gets to open its streams (upstream 30 s). */
  streamCreationTimeoutMs?: number;
}

/** A resolved target: the runtime id to stream into and names for messages. */
interface Target {
  id: string;
  podName: string;
  podUid: string;
}

/** Creates the StreamingHandler the API server routes `/exec`, `/attach` and `/portForward` to. */
export function createStreamingHandler(deps: StreamingHandlerDeps): StreamingHandler {
  const log = deps.logger.child({ component: 'streaming' });
  const idleTimeoutMs = deps.idleTimeoutMs ?? 4 * 3600_000;
  const creationTimeoutMs = deps.streamCreationTimeoutMs ?? 30_000;
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, clientTracking: false });
  // A runtime that can prepare an exec does so while the client opens its streams (one round trip less to wait).
  const preparer = execPreparerOf(deps.runtime);

  /** Finds the container (exec/attach) or sandbox (portForward); writes 404 and returns undefined when unknown. */
  const resolve = async (route: StreamRoute, fail: (code: number, msg: string) => void): Promise<Target | undefined> => {
    const uid = route.uid;
    if (route.kind === 'portForward') {
      const pod = deps.lookup.findPod(route.namespace, route.pod, uid);
      const first = pod?.spec?.containers[0]?.name;
      const resolved = first === undefined ? undefined : await deps.lookup.resolveContainer(route.namespace, route.pod, first, uid);
      if (pod === undefined || resolved === undefined) return void fail(404, 'pod does not exist');
      if (resolved.sandboxId === undefined) return void fail(404, `pod ${route.namespace}/${route.pod} has no running sandbox`);
      return { id: resolved.sandboxId, podName: route.pod, podUid: pod.metadata?.uid ?? '' };
    }
    const pod = deps.lookup.findPod(route.namespace, route.pod, uid);
    if (pod === undefined) return void fail(404, 'pod does not exist');
    const resolved = await deps.lookup.resolveContainer(route.namespace, route.pod, route.container, uid, { sandbox: false });
    if (resolved?.containerId === undefined) return void fail(404, `container not found (${JSON.stringify(route.container)})`);
    return { id: resolved.containerId, podName: route.pod, podUid: pod.metadata?.uid ?? '' };
  };

  const serveSpdy = (socket: Duplex, head: Buffer, route: StreamRoute, target: Target, protocol: string, options?: CommandOptions): void => {
    writeSpdyUpgrade(socket, protocol);
    let onStream: (s: SpdyStream) => void = (s) => s.reset();
    const conn = new SpdyConnection(socket, { logger: log, idleTimeoutMs, onStream: (s) => onStream(s) });
    if (route.kind === 'portForward') {
      onStream = servePortForwardSpdy(
        conn,
        target.podName,
        target.podUid,
        (port, stream, signal) => deps.runtime.portForward(target.id, port, stream, signal),
        creationTimeoutMs,
        log,
      );
    } else {
      const kind = route.kind;
      const opts = options as CommandOptions;
      const accepted = acceptSpdyCommandStreams(conn, protocol, opts, creationTimeoutMs, log);
      onStream = accepted.onStream;
      const prepared = kind === 'exec' ? preparer?.prepareExec(target.id, opts.command, opts) : undefined;
      prepared?.catch(() => undefined); // a failure is reported when the session starts
      const begin = prepared === undefined ? (io: StreamIO) => start(kind, target.id, opts.command, io) : (io: StreamIO) => prepared.then((p) => p.start(io));
      void accepted.streams
        .then((channels) => (channels === undefined ? undefined : runCommandSession(kind, opts, channels, begin, log)))
        .finally(() => void prepared?.then((p) => p.cancel(), () => undefined)); // no-op once started
    }
    conn.feed(head);
  };

  const start = (kind: 'exec' | 'attach', id: string, cmd: string[], io: Parameters<ContainerStreaming['attach']>[1]) =>
    kind === 'exec' ? deps.runtime.exec(id, cmd, io) : deps.runtime.attach(id, io);

  const serveWs = (req: IncomingMessage, socket: Duplex, head: Buffer, route: StreamRoute, target: Target, options?: CommandOptions): void => {
    const supported: readonly string[] = route.kind === 'portForward' ? WS_PORTFORWARD_PROTOCOLS : WS_COMMAND_PROTOCOLS;
    const offered = headerValues(req, 'sec-websocket-protocol');
    if (offered.length > 0 && !offered.some((p) => supported.includes(p))) {
      writeUpgradeError(socket, 400, `unable to upgrade: no supported websocket protocol in [${offered.join(' ')}]`);
      return;
    }
    const protocol = offered.find((p) => supported.includes(p)) ?? '';
    let ports: number[] = [];
    if (route.kind === 'portForward') {
      const parsed = parseWsPorts(route.query);
      if (!parsed.ok) return writeUpgradeError(socket, 400, parsed.message);
      ports = parsed.ports;
    }
    wss.handleUpgrade(req, socket, head, (conn: WebSocket) => {
      const timed = socket as Duplex & { setTimeout?: (ms: number, cb: () => void) => void };
      if (idleTimeoutMs > 0 && typeof timed.setTimeout === 'function') timed.setTimeout(idleTimeoutMs, () => conn.terminate());
      if (route.kind === 'portForward') {
        void serveWsPortForward(
          conn,
          protocol,
          ports,
          (port, stream, signal) => deps.runtime.portForward(target.id, port, stream, signal),
          (port, err) => `error forwarding port ${port} to pod ${target.podName}, uid ${target.podUid}: ${err.message}`,
          log,
        );
        return;
      }
      const opts = options as CommandOptions;
      const kind = route.kind;
      const channels = wsCommandChannels(conn, protocol, opts, log);
      void runCommandSession(kind, opts, channels, (io) => start(kind, target.id, opts.command, io), log);
    });
  };

  const handleUpgrade = async (req: IncomingMessage, socket: Duplex, head: Buffer, route: StreamRoute): Promise<void> => {
    socket.on('error', () => undefined);
    const fail = (code: number, msg: string): void => writeUpgradeError(socket, code, msg);
    const transport = upgradeKind(req);
    log.debug({ kind: route.kind, pod: `${route.namespace}/${route.pod}`, query: route.query.toString(), upgrade: req.headers.upgrade }, 'streaming request');
    if (transport === undefined) return fail(400, 'unable to upgrade: missing upgrade headers in request');
    let options: CommandOptions | undefined;
    if (route.kind !== 'portForward') {
      const parsed = parseCommandOptions(route.kind, route.query);
      if (!parsed.ok) return fail(400, parsed.message);
      options = parsed.options;
    }
    const target = await resolve(route, fail);
    if (target === undefined || socket.destroyed) return;
    if (transport === 'websocket') return serveWs(req, socket, head, route, target, options);
    const server = route.kind === 'portForward' ? [SPDY_PORTFORWARD_PROTOCOL] : SPDY_COMMAND_PROTOCOLS;
    const n = negotiate(headerValues(req, STREAM_PROTOCOL_HEADER), server);
    if (!n.ok) {
      writeUpgradeError(socket, 403, n.message, { 'X-Accepted-Stream-Protocol-Versions': server.join(', ') });
      return;
    }
    serveSpdy(socket, head, route, target, n.protocol, options);
  };

  return {
    handleUpgrade(req, socket, head, route) {
      handleUpgrade(req, socket, head, route).catch((err: unknown) => {
        log.warn({ err: err instanceof Error ? err.message : String(err), kind: route.kind }, 'streaming request failed');
        if (!socket.destroyed) writeUpgradeError(socket, 500, err instanceof Error ? err.message : String(err));
      });
    },
    handleRequest(_req: IncomingMessage, res: ServerResponse, route: StreamRoute) {
      const body = JSON.stringify(httpErrorStatus(400, `${route.kind} requires an upgrade to SPDY/3.1 or WebSocket: Upgrade request required`));
      res.writeHead(400, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
    },
  };
}
