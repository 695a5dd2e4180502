import { Agent, request as httpsRequest, type RequestOptions } from 'node:https';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { accessDenials } from './access.js';
import { restClientMetricsOf } from './client-metrics.js';
import type { KubeConfig } from './kubeconfig.js';
import { serverProfile } from './server-profile.js';
import { stripUnknownFields, unknownFieldFromError, writtenKind } from './server-version.js';
import { NodeletError, type ErrorCode } from '../util/index.js';

/** A Status object as the API server sends it in error responses and watch ERROR events. */
export interface ApiStatus {
  kind?: string;
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: { name?: string; kind?: string; group?: string; causes?: { reason?: string; message?: string; field?: string }[] };
}

function codeFor(status: number, reason: string | undefined): ErrorCode {
  if (status === 404) return 'NOT_FOUND';
  if (status === 409) return reason === 'AlreadyExists' ? 'ALREADY_EXISTS' : 'CONFLICT';
  if (status === 422) return 'INVALID';
  if (status === 504 || reason === 'Timeout') return 'TIMEOUT';
  return 'API_ERROR';
}

/**
 * An error answered by the API server (non-2xx, or a watch ERROR event). `code` follows the nodelet error codes
 * (NOT_FOUND, ALREADY_EXISTS, CONFLICT, INVALID, API_ERROR), so `isNotFound(err)` / `isConflict(err)` work;
 * `httpStatus` and `reason` carry the server's answer (e.g. 410 / `Expired`).
 */
export class ApiStatusError extends NodeletError {
  readonly httpStatus: number;
  readonly reason: string | undefined;
  readonly apiStatus: ApiStatus | undefined;

  constructor(httpStatus: number, apiStatus: ApiStatus | undefined, what: string) {
    super(codeFor(httpStatus, apiStatus?.reason), `${what}: ${httpStatus} ${apiStatus?.reason ?? ''}: ${apiStatus?.message ?? 'no message'}`, {
      object: what,
    });
    this.httpStatus = httpStatus;
    this.reason = apiStatus?.reason;
    this.apiStatus = apiStatus;
  }
}

/** True for 410 Gone / Expired (a watch or continue token older than the server's history). */
export function isGone(err: unknown): boolean {
  return err instanceof ApiStatusError && (err.httpStatus === 410 || err.reason === 'Expired' || err.reason === 'Gone');
}

/** True when retrying later may help (5xx, 429, network errors) rather than a client mistake (4xx). */
export function isRetryable(err: unknown): boolean {
  if (err instanceof ApiStatusError) return err.httpStatus >= 500 || err.httpStatus === 429;
  return true;
}

/** Equal TLS credential values (Buffers by content: some kubeconfig loaders build a new Buffer per request). */
function samePem(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  return Buffer.isBuffer(a) && Buffer.isBuffer(b) && a.equals(b);
}

/** One API request. */
export interface ApiRequest {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Absolute API path, e.g. `/api/v1/namespaces/default/pods`. */
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  /** JSON-serialised unless a string or Buffer. */
  body?: unknown;
  /** Default `application/json` when there is a body. */
  contentType?: string;
  accept?: string;
  signal?: AbortSignal;
  /** Whole-request timeout (default 30 s; watches use an inactivity timeout instead). */
  timeoutMs?: number;
}

/** What informers and helpers need from an API client (ApiClient; fakes in tests). */
export interface ApiTransport {
  request<T = unknown>(req: ApiRequest): Promise<T>;
  stream(req: ApiRequest, onLine: (value: unknown) => void, idleTimeoutMs: number): Promise<void>;
}

/**
 * The pool of non-watch requests: at most 16 connections (more requests queue for one), and at most 4 kept open when
 * idle. Unbounded, a burst (100 pods starting: secrets, tokens, status patches, events at once) opened a TLS
 * connection per request in flight and kept all of them (≈ 120 at 100 pods, each with its TLS buffers and socket
 * objects: issue 14). The upstream kubelet multiplexes everything over one HTTP/2 connection.
 */
const REQUEST_AGENT = { maxSockets: 16, maxFreeSockets: 4 } as const;

/**
 * Reads a response body as text. Its listeners stay on the response (a keep-alive socket keeps it reachable) but
 * drop their hold on the promise and the chunks once it settles: a settled promise keeps its value, and a list
 * answer of 1,000 objects is ~0.5 MB of text that would otherwise stay in memory until the socket is reused.
 */
function readBody(res: IncomingMessage, onBytes: (n: number) => void, aborted: () => Error): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let settle: { resolve: (text: string) => void; reject: (err: Error) => void } | undefined = { resolve, reject };
    let chunks: Buffer[] = [];
    const done = (): typeof settle => {
      const s = settle;
      settle = undefined;
      return s;
    };
    res.on('data', (c: Buffer) => {
      onBytes(c.length);
      chunks.push(c);
    });
    res.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      chunks = [];
      done()?.resolve(text);
    });
    res.on('error', (err: Error) => done()?.reject(err));
    res.on('aborted', () => done()?.reject(aborted()));
  });
}

/**
 * A thin raw HTTP(S) client for the Kubernetes API built from a {@link KubeConfig} (TLS and credentials via
 * `applyToHTTPSOptions`, re-applied per request so rotating tokens work). Safe for concurrent use.
 */
export class ApiClient implements ApiTransport {
  readonly #kc: KubeConfig;
  readonly #base: URL;
  /** Watches: one long-lived connection each (HTTP/1.1), so no bound. */
  #watchAgent: Agent | undefined;
  /** Other requests: a bounded pool (see REQUEST_AGENT). */
  #requestAgent: Agent | undefined;

  constructor(kc: KubeConfig) {
    const cluster = kc.getCurrentCluster();
    if (cluster === null) throw new NodeletError('CONFIG_INVALID', 'kubeconfig has no current cluster', { field: 'current-context' });
    this.#kc = kc;
    this.#base = new URL(cluster.server);
  }

  async #options(req: ApiRequest, use: 'request' | 'watch' = 'request'): Promise<{ url: URL; opts: RequestOptions }> {
    const url = new URL(this.#base.toString().replace(/\/$/, '') + req.path);
    for (const [k, v] of Object.entries(req.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const opts: RequestOptions = { method: req.method ?? 'GET', headers: {} };
    await this.#kc.applyToHTTPSOptions(opts);
    if (url.protocol === 'https:') {
      // A new client certificate (rotation) gets a new agent; the old one's connections, watches included, are
      // closed so the server sees the new identity (as client-go does after a rotation).
      const current = this.#watchAgent ?? this.#requestAgent;
      if (current !== undefined && (!samePem(current.options.cert, opts.cert) || !samePem(current.options.key, opts.key))) this.close();
      const tls = { keepAlive: true, ca: opts.ca, cert: opts.cert, key: opts.key, rejectUnauthorized: opts.rejectUnauthorized, servername: opts.servername };
      opts.agent = use === 'watch' ? (this.#watchAgent ??= new Agent(tls)) : (this.#requestAgent ??= new Agent({ ...tls, ...REQUEST_AGENT }));
    }
    const headers = (opts.headers ?? {}) as Record<string, string>;
    headers.accept = req.accept ?? 'application/json';
    opts.headers = headers;
    return { url, opts };
  }

  #send(req: ApiRequest, url: URL, opts: RequestOptions, retried = false): Promise<IncomingMessage> {
    let payload: Buffer | undefined;
    if (req.body !== undefined) {
      payload = Buffer.isBuffer(req.body) ? req.body : Buffer.from(typeof req.body === 'string' ? req.body : JSON.stringify(req.body));
      const h = opts.headers as Record<string, string | number>;
      h['content-type'] = req.contentType ?? 'application/json';
      h['content-length'] = payload.length;
    }
    // rest_client_* (client-metrics.ts): one count per answer or failure, as client-go's request metrics.
    const metrics = restClientMetricsOf(this.#kc);
    const method = opts.method ?? 'GET';
    return new Promise((resolve, reject) => {
      const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
      let counted = false;
      const r = send(url, { ...opts, signal: req.signal }, (res) => {
        const length = res.headers['content-length'];
        counted = true;
        metrics?.request(method, url.host, res.statusCode ?? 0, payload?.length ?? 0, length === undefined ? undefined : Number(length));
        resolve(res);
      });
      r.on('error', (err: NodeJS.ErrnoException) => {
        if (!counted) metrics?.request(method, url.host, 0, payload?.length ?? 0, undefined);
        counted = true;
        // A kept-alive socket the server closed while idle resets as it is reused (seen on a busy agent): the
        // request never reached the server. Idempotent requests go once more, on a fresh connection.
        if (!retried && r.reusedSocket && (err.code === 'ECONNRESET' || err.code === 'EPIPE') && method !== 'POST' && req.signal?.aborted !== true) {
          resolve(this.#send(req, url, opts, true));
          return;
        }
        reject(err);
      });
      if (req.timeoutMs !== 0) {
        r.setTimeout(req.timeoutMs ?? 30_000, () => r.destroy(new NodeletError('TIMEOUT', `${opts.method} ${url.pathname} timed out`)));
      }
      r.end(payload);
    });
  }

  /**
   * Sends a request and parses the JSON answer; non-2xx throws {@link ApiStatusError}. Pod and Node bodies lose the
   * fields the server does not know (its {@link serverProfile}); a `500 unable to find api field …` teaches one more
   * and the request is sent again without it.
   */
  async request<T = unknown>(req: ApiRequest): Promise<T> {
    const kind = req.body === undefined || req.method === undefined || req.method === 'GET' ? undefined : writtenKind(req.path);
    if (kind === undefined || Buffer.isBuffer(req.body) || typeof req.body === 'string') return this.#request<T>(req);
    const profile = serverProfile(this.#kc);
    for (let attempt = 0; ; attempt++) {
      const body = stripUnknownFields(kind, req.body, profile.unknownFields).body;
      try {
        return await this.#request<T>({ ...req, body });
      } catch (err) {
        const field = err instanceof ApiStatusError && err.httpStatus === 500 ? unknownFieldFromError(err.apiStatus?.message) : undefined;
        if (field === undefined || attempt >= 5 || !profile.learn(field, stripUnknownFields(kind, req.body, new Set([field])).stripped)) throw err;
      }
    }
  }

  async #request<T>(req: ApiRequest): Promise<T> {
    const { url, opts } = await this.#options(req);
    const res = await this.#send(req, url, opts);
    const metrics = restClientMetricsOf(this.#kc);
    const text = await readBody(res, (n) => metrics?.received(url.host, n), () => new NodeletError('API_ERROR', `${opts.method} ${url.pathname}: response aborted`));
    const status = res.statusCode ?? 0;
    let body: unknown = undefined;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (status < 200 || status >= 300) {
      const st = typeof body === 'object' && body !== null ? (body as ApiStatus) : { message: text.slice(0, 200) };
      if (status === 403) accessDenials(this.#kc).denied(opts.method ?? 'GET', req.path, st.message ?? 'forbidden');
      throw new ApiStatusError(status, st, `${opts.method} ${req.path}`);
    }
    accessDenials(this.#kc).allowed(opts.method ?? 'GET', req.path);
    return body as T;
  }

  /**
   * Opens a streaming GET (a watch) and calls `onLine` for every JSON line. Resolves when the server ends the stream
   * or the connection drops (callers resume); rejects on a non-200 answer, on a network error before the answer,
   * or when no byte arrived for `idleTimeoutMs`. Aborting `signal` resolves.
   */
  async stream(req: ApiRequest, onLine: (value: unknown) => void, idleTimeoutMs: number): Promise<void> {
    const { url, opts } = await this.#options(req, 'watch');
    let res: IncomingMessage;
    try {
      res = await this.#send({ ...req, timeoutMs: 0 }, url, opts);
    } catch (err) {
      if (req.signal?.aborted) return;
      throw err;
    }
    if (res.statusCode !== 200) {
      const chunks: Buffer[] = [];
      for await (const c of res) chunks.push(c as Buffer);
      let st: ApiStatus | undefined;
      try {
        st = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ApiStatus;
      } catch {
        st = undefined;
      }
      if (res.statusCode === 403) accessDenials(this.#kc).denied('WATCH', req.path, st?.message ?? 'forbidden');
      throw new ApiStatusError(res.statusCode ?? 0, st, `watch ${req.path}`);
    }
    accessDenials(this.#kc).allowed('WATCH', req.path);
    const metrics = restClientMetricsOf(this.#kc);
    metrics?.watch(url.host, 1);
    await new Promise<void>((resolve) => {
      let buf = '';
      let idle: NodeJS.Timeout | undefined;
      const arm = (): void => {
        clearTimeout(idle);
        idle = setTimeout(() => res.destroy(), idleTimeoutMs);
      };
      arm();
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        arm();
        metrics?.received(url.host, Buffer.byteLength(chunk));
        buf += chunk;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (line === '') continue;
          let v: unknown;
          try {
            v = JSON.parse(line);
          } catch {
            continue;
          }
          onLine(v);
        }
      });
      let ended = false;
      const done = (): void => {
        clearTimeout(idle);
        if (!ended) metrics?.watch(url.host, -1);
        ended = true;
        resolve();
      };
      res.on('end', done);
      res.on('close', done);
      res.on('error', done);
    });
  }

  /** Closes the connections (watches end; callers resume them). */
  close(): void {
    this.#watchAgent?.destroy();
    this.#requestAgent?.destroy();
    this.#watchAgent = undefined;
    this.#requestAgent = undefined;
  }
}
