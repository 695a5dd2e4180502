/**
 * The request pipeline of the kubelet API: authenticate (401 `Unauthorized`), authorize with upstream's attributes
 * (403 `Forbidden (user=…, verb=…, resource=nodes, subresource(s)=[…])`, 500 when the authorizer cannot decide),
 * then route to the endpoint. Upgrade requests (exec/attach/portForward over SPDY or WebSocket) take the same steps
 * before they reach the {@link StreamingHandler}. The read-only port skips authentication and serves only
 * `/healthz`, `/pods`, `/stats/` and `/metrics*`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Registry } from 'prom-client';
import type { ContainerLogs, ContainerRuntime } from '../../../cri/types.js';
import type { Clock } from '../../../util/clock.js';
import type { Logger } from '../../../util/logger.js';
import type { HealthChecks } from '../health.js';
import { forbiddenMessage, requestAttributes, type RequestAttributes } from './attributes.js';
import type { RequestAuthenticator } from './authn.js';
import type { RequestAuthorizer } from './authz.js';
import { serveContainerLogs, type LogBackend } from './container-logs.js';
import type { EngineLogReader } from './docker-logs.js';
import { probeMetrics, servePods, serveRun, serveRunningPods, serveSystemLogs } from './endpoints.js';
import { rawResponse, sendJson, sendStatus, sendText } from './respond.js';
import { DEBUGGING_KINDS, route, type Route } from './router.js';
import type { KubeletPodLookup, StatsHandler, StreamingHandler } from './types.js';

/** Everything the endpoints need. */
export interface ApiHandlerOptions {
  nodeName: string;
  /** KubeletFineGrainedAuthz (default on in v1.33): check pods/healthz/configz before proxy. */
  fineGrainedAuthz?: boolean;
  authenticator: RequestAuthenticator;
  authorizer: RequestAuthorizer;
  lookup: KubeletPodLookup;
  runtime: ContainerRuntime & Partial<ContainerLogs>;
  logBackend: LogBackend;
  /** The Docker engine's log stream (logBackend 'engine'). */
  engineLogs?: EngineLogReader;
  checks: HealthChecks;
  registry: Registry;
  /** Called before a /metrics scrape (refresh gauges); must not throw. */
  beforeScrape?: () => Promise<void>;
  /** The `kubeletconfig` object of /configz. */
  configz: () => unknown;
  streaming?: StreamingHandler;
  stats?: StatsHandler;
  enableDebuggingHandlers: boolean;
  enableSystemLogHandler: boolean;
  /** Directory served under /logs/ (default /var/log). */
  systemLogDir?: string;
  /** Timeout of /run commands in seconds (runtimeRequestTimeout). */
  runTimeoutSeconds: number;
  clock: Clock;
  logger: Logger;
  /** Follow poll period of CRI log files (tests). */
  logPollMs?: number;
}

const READ_ONLY_KINDS: ReadonlySet<Route['kind']> = new Set(['healthz', 'pods', 'stats', 'metrics', 'metricsProbes']);

/** The request handlers of one API server (secure and read-only share the endpoints). */
export interface ApiHandler {
  /** A request on the secure port. */
  handleSecure(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** A request on the read-only port (no authentication; read-only endpoints only). */
  handleReadOnly(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** An HTTP Upgrade on the secure port. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void>;
}

type Gate = { ok: true; attrs: RequestAttributes } | { ok: false; code: 401 | 403 | 500; body: string };

/** Builds the handlers. */
export function createApiHandler(o: ApiHandlerOptions): ApiHandler {
  const log = o.logger;

  const gate = async (req: IncomingMessage, path: string): Promise<Gate> => {
    const user = await o.authenticator.authenticate(req);
    if (user === undefined) return { ok: false, code: 401, body: 'Unauthorized' };
    const attrs = requestAttributes(user, req.method, path, o.nodeName, o.fineGrainedAuthz ?? true);
    const d = await o.authorizer.authorize(attrs);
    if (d.error !== undefined) {
      log.warn({ user: user.name, verb: attrs.verb, subresources: attrs.subresources, err: d.error }, 'kubelet API authorization error');
      return { ok: false, code: 500, body: `Authorization error (user=${user.name}, verb=${attrs.verb}, resource=nodes, subresource=${attrs.subresources[0] ?? ''})` };
    }
    if (!d.allowed) {
      log.debug({ user: user.name, verb: attrs.verb, subresources: attrs.subresources, path }, 'kubelet API request forbidden');
      return { ok: false, code: 403, body: forbiddenMessage(attrs) };
    }
    return { ok: true, attrs };
  };

  const dispatch = async (req: IncomingMessage, res: ServerResponse, r: Route, query: URLSearchParams, path: string): Promise<void> => {
    if (!o.enableDebuggingHandlers && DEBUGGING_KINDS.has(r.kind)) return sendText(res, 405, 'Debug endpoints are disabled.\n');
    switch (r.kind) {
      case 'healthz': {
        const report = o.checks.run(r.check);
        if (report === undefined) return sendText(res, 404, '404 page not found\n');
        return sendText(res, report.ok ? 200 : 500, query.has('verbose') || !report.ok ? report.text : 'ok');
      }
      case 'pods':
        return servePods(res, o.lookup);
      case 'runningpods':
        return serveRunningPods(res, o.runtime);
      case 'containerLogs':
        return serveContainerLogs({ lookup: o.lookup, runtime: o.runtime, backend: o.logBackend, engineLogs: o.engineLogs, clock: o.clock, logger: log, pollMs: o.logPollMs }, req, res, r, query);
      case 'run':
        return serveRun(req, res, o.lookup, o.runtime, r, query, o.runTimeoutSeconds);
      case 'configz':
        return sendJson(res, { kubeletconfig: o.configz() });
      case 'metrics':
        await o.beforeScrape?.();
        res.writeHead(200, { 'content-type': o.registry.contentType }).end(await o.registry.metrics());
        return;
      case 'metricsProbes':
        res.writeHead(200, { 'content-type': o.registry.contentType }).end(await probeMetrics(o.registry));
        return;
      case 'stats':
        if (o.stats?.handle(req, res, path) === true) return;
        return sendStatus(res, 404, `${path} is not served by this kubelet (no stats provider)`);
      case 'systemLogs':
        if (!o.enableSystemLogHandler) return sendText(res, 404, '404 page not found\n');
        return serveSystemLogs(res, o.systemLogDir ?? '/var/log', r.file);
      case 'stream':
        if (o.streaming === undefined) return sendStatus(res, 501, `${r.stream.kind} is not implemented by this kubelet`);
        o.streaming.handleRequest(req, res, r.stream);
        return;
      case 'notFound':
        return sendText(res, 404, '404 page not found\n');
    }
  };

  const parse = (req: IncomingMessage): { path: string; query: URLSearchParams } => {
    const url = new URL(req.url ?? '/', 'https://kubelet');
    return { path: url.pathname, query: url.searchParams };
  };

  const guard = async (res: ServerResponse, fn: () => Promise<void>): Promise<void> => {
    try {
      await fn();
    } catch (err) {
      log.error({ err: String(err) }, 'kubelet API request failed');
      sendStatus(res, 500, String(err instanceof Error ? err.message : err));
    }
  };

  return {
    handleSecure: (req, res) =>
      guard(res, async () => {
        const { path, query } = parse(req);
        const g = await gate(req, path);
        if (!g.ok) return sendText(res, g.code, g.body);
        await dispatch(req, res, route(path, query), query, path);
      }),
    handleReadOnly: (req, res) =>
      guard(res, async () => {
        const { path, query } = parse(req);
        const r = route(path, query);
        if (!READ_ONLY_KINDS.has(r.kind) || (req.method !== 'GET' && req.method !== 'HEAD')) return sendText(res, 404, '404 page not found\n');
        await dispatch(req, res, r, query, path);
      }),
    async handleUpgrade(req, socket, head) {
      socket.on('error', () => socket.destroy());
      try {
        const { path, query } = parse(req);
        const g = await gate(req, path);
        if (!g.ok) {
          socket.end(rawResponse(g.code, g.code === 401 ? 'Unauthorized' : g.code === 403 ? 'Forbidden' : 'Internal Server Error', g.body));
          return;
        }
        const r = route(path, query);
        if (r.kind !== 'stream') {
          socket.end(rawResponse(404, 'Not Found', '404 page not found\n'));
          return;
        }
        if (!o.enableDebuggingHandlers) {
          socket.end(rawResponse(405, 'Method Not Allowed', 'Debug endpoints are disabled.\n'));
          return;
        }
        if (o.streaming === undefined) {
          socket.end(rawResponse(501, 'Not Implemented', `${r.stream.kind} is not implemented by this kubelet\n`));
          return;
        }
        o.streaming.handleUpgrade(req, socket, head, r.stream);
      } catch (err) {
        log.error({ err: String(err) }, 'kubelet API upgrade failed');
        socket.destroy();
      }
    },
  };
}
