/**
 * pods/log and nodes/{name}/proxy of the test API server: requests forwarded to the node's kubelet over HTTPS with
 * the server's kubelet client certificate, answered as kube-apiserver v1.33 answers them (checked against the real
 * server: parameter validation, 200 with an empty body for a pod without a node, kubelet errors mapped by the
 * pods/log response checker, 500/503 texts for an unreachable kubelet, 301 to `proxy/`, "address not allowed").
 */
import { Agent, request as httpsRequest } from 'node:https';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Request } from '../http.js';
import { sendError } from '../http.js';
import type { Registry } from '../registry.js';
import { ApiError, badRequest, invalid, invalidValue, type StatusCause } from '../status.js';
import { BareStatusError, dialErrorText, isProxyableHost, kubeletOf, podTarget, type KubeletEndpoint } from './target.js';

/** The client identity the server presents to kubelets. */
export interface KubeletClientCert {
  certPem: string;
  keyPem: string;
}

/** Builds the HTTPS agent for kubelet connections (kubelet serving certificates are not verified, as kubeadm's default). */
export function kubeletAgent(cert: KubeletClientCert): Agent {
  return new Agent({ cert: cert.certPem, key: cert.keyPem, rejectUnauthorized: false, keepAlive: false });
}

/** Go's strconv.ParseBool as the query decoder uses it (errors read as false). */
export function queryBool(v: string | null): boolean {
  return v !== null && ['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v);
}

function queryInt(q: URLSearchParams, key: string): number | undefined {
  const v = q.get(key);
  if (v === null || v === '') return undefined;
  if (!/^[+-]?\d+$/.test(v)) throw badRequest(`strconv.ParseInt: parsing ${JSON.stringify(v)}: invalid syntax`);
  return Number(v);
}

const methodNotAllowed = (): ApiError => new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {});

/** The kubelet query of a pods/log request, validated like PodLogOptions (422/400 as upstream). */
export function logQuery(name: string, q: URLSearchParams): URLSearchParams {
  const tail = queryInt(q, 'tailLines');
  const limit = queryInt(q, 'limitBytes');
  const since = queryInt(q, 'sinceSeconds');
  const sinceTime = q.get('sinceTime');
  if (sinceTime !== null && sinceTime !== '' && Number.isNaN(Date.parse(sinceTime))) {
    throw badRequest(`parsing time ${JSON.stringify(sinceTime)} as "2006-01-02T15:04:05Z07:00": cannot parse ${JSON.stringify(sinceTime)} as "2006"`);
  }
  const causes: StatusCause[] = [];
  if (tail !== undefined && tail < 0) causes.push(invalidValue('tailLines', tail, 'must be greater than or equal to 0'));
  if (limit !== undefined && limit < 1) causes.push(invalidValue('limitBytes', limit, 'must be greater than 0'));
  if (since !== undefined && sinceTime) causes.push({ reason: 'FieldValueForbidden', message: 'Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified', field: '[]' });
  if (since !== undefined && since < 1) causes.push(invalidValue('sinceSeconds', since, 'must be greater than 0'));
  if (q.get('stream') !== null) causes.push({ reason: 'FieldValueForbidden', message: 'Forbidden: may not be specified', field: 'stream' });
  if (causes.length > 0) throw invalid('PodLogOptions', name, causes);
  // url.Values.Encode: keys sorted; only set options are sent.
  const out = new URLSearchParams();
  if (queryBool(q.get('follow'))) out.set('follow', 'true');
  if (queryBool(q.get('insecureSkipTLSVerifyBackend'))) out.set('insecureSkipTLSVerifyBackend', 'true');
  if (limit !== undefined) out.set('limitBytes', String(limit));
  if (queryBool(q.get('previous'))) out.set('previous', 'true');
  if (since !== undefined) out.set('sinceSeconds', String(since));
  if (sinceTime) out.set('sinceTime', new Date(sinceTime).toISOString().replace(/\.\d{3}Z$/, 'Z'));
  if (tail !== undefined) out.set('tailLines', String(tail));
  if (queryBool(q.get('timestamps'))) out.set('timestamps', 'true');
  return out;
}

/** The pods/log response checker: a kubelet's non-2xx answer as the Status the real server returns. */
export function logErrorFromKubelet(code: number, body: string, pod: string): ApiError {
  const tail = ` ( pods/log ${pod})`;
  const d = { name: pod, kind: 'pods/log' };
  if (code === 500) return new ApiError(500, 'InternalError', `Internal error occurred: ${body}`, { causes: [{ message: body }] });
  if (code === 400) return badRequest(body);
  switch (code) {
    case 404:
      return new ApiError(404, 'NotFound', `the server could not find the requested resource${tail}`, d);
    case 401:
      return new ApiError(401, 'Unauthorized', `the server has asked for the client to provide credentials${tail}`, d);
    case 403:
      return new ApiError(403, 'Forbidden', `${body}${tail}`, d);
    case 405:
      return new ApiError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource${tail}`, d);
    case 409:
      return new ApiError(409, 'Conflict', `the server reported a conflict${tail}`, d);
    case 422:
      return new ApiError(422, 'Invalid', `the server rejected our request due to an error in our request${tail}`, d);
    case 429:
      return new ApiError(429, 'TooManyRequests', `the server has received too many requests and has asked us to try again later${tail}`, d);
    case 503:
      return new ApiError(503, 'ServiceUnavailable', `the server is currently unable to handle the request${tail}`, d);
    case 504:
      return new ApiError(504, 'Timeout', `the server was unable to return a response in the time allotted, but may still be processing the request${tail}`, d);
    default:
      return code >= 500
        ? new ApiError(code, 'InternalError', `an error on the server (${JSON.stringify(body)}) has prevented the request from succeeding${tail}`, d)
        : new ApiError(code, 'Unknown', `the server responded with the status code ${code} but did not return more information${tail}`, d);
  }
}

function readAll(res: IncomingMessage, limit = 64 * 1024): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let n = 0;
    res.on('data', (c: Buffer) => {
      if (n < limit) chunks.push(c);
      n += c.length;
    });
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8').slice(0, limit)));
    res.on('error', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

function kubeletUrl(ep: KubeletEndpoint, path: string, query: URLSearchParams): string {
  const host = ep.host.includes(':') ? `[${ep.host}]` : ep.host;
  const qs = query.toString();
  return `https://${host}:${ep.port}${path}${qs ? `?${qs}` : ''}`;
}

/** GET /api/v1/namespaces/{ns}/pods/{name}/log. */
export function servePodLog(r: Request, reg: Registry, agent: Agent, namespace: string, name: string): void {
  if (r.method !== 'GET') throw methodNotAllowed();
  const t = podTarget(reg, namespace, name, r.query.get('container') ?? '', true);
  const q = logQuery(name, r.query);
  if (t.nodeName === '') {
    // No node yet: an empty stream (LocationStreamer with a nil location).
    r.res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'no-cache, private' });
    r.res.end();
    return;
  }
  const ep = kubeletOf(reg, t.nodeName, 'pods');
  const url = kubeletUrl(ep, `/containerLogs/${encodeURIComponent(t.namespace)}/${encodeURIComponent(t.name)}/${encodeURIComponent(t.container)}`, q);
  const up = httpsRequest(url, { agent, method: 'GET', headers: { 'user-agent': 'Go-http-client/1.1', 'accept-encoding': 'identity' } }, (kres) => {
    const code = kres.statusCode ?? 500;
    if (code < 200 || code > 206) {
      void readAll(kres).then((body) => sendError(r.res, logErrorFromKubelet(code, body, t.name)));
      return;
    }
    r.res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'no-cache, private' });
    r.res.flushHeaders();
    kres.on('data', (c: Buffer) => r.res.write(c));
    kres.on('end', () => r.res.end());
    kres.on('error', () => r.res.destroy());
  });
  up.on('error', (err) => {
    if (r.res.headersSent) {
      r.res.destroy();
      return;
    }
    sendError(r.res, new BareStatusError(500, '', `Get ${JSON.stringify(url)}: ${dialErrorText(err, ep)}`));
  });
  r.res.on('close', () => up.destroy()); // the client went away: stop following
  up.end();
}

const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'proxy-authorization', 'proxy-authenticate']);

function forwardHeaders(h: IncomingHttpHeaders, remote: string | undefined, originalPath: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined || HOP.has(k) || k === 'authorization') continue;
    out[k] = v;
  }
  out['x-forwarded-for'] = remote ?? '127.0.0.1';
  out['x-forwarded-uri'] = originalPath;
  return out;
}

/** `nodes/{name}` of a proxy request: `name`, `name:port` or `scheme:name:port`. */
export function parseNodeId(id: string): { name: string; port: number | undefined } {
  const parts = id.split(':');
  if (parts.length === 3) return { name: parts[1]!, port: Number(parts[2]) || undefined };
  if (parts.length === 2) return { name: parts[0]!, port: Number(parts[1]) || undefined };
  return { name: id, port: undefined };
}

/** Resolves the kubelet endpoint of a nodes/proxy request (400 "address not allowed" for loopback/link-local). */
export function nodeProxyEndpoint(reg: Registry, nodeId: string): KubeletEndpoint {
  const { name, port } = parseNodeId(nodeId);
  const ep = kubeletOf(reg, name, 'nodes');
  if (!isProxyableHost(ep.host)) throw badRequest('address not allowed');
  return { host: ep.host, port: port ?? ep.port };
}

/** ANY /api/v1/nodes/{name}/proxy[/{path}]: forwarded to the kubelet; its answer passes through unchanged. */
export function serveNodeProxy(r: Request, reg: Registry, agent: Agent, nodeId: string, rest: string | undefined): void {
  if (rest === undefined) {
    // `.../proxy` → 301 to `.../proxy/` (as the real server)
    r.res.writeHead(301, { location: `${r.path}/${r.raw.url?.includes('?') ? `?${r.raw.url.split('?')[1]}` : ''}`, 'cache-control': 'no-cache, private', 'content-length': 0 });
    r.res.end();
    return;
  }
  const ep = nodeProxyEndpoint(reg, nodeId);
  const url = kubeletUrl(ep, `/${rest}`, r.query);
  const up = httpsRequest(url, { agent, method: r.method, headers: forwardHeaders(r.headers, r.raw.socket.remoteAddress, r.path) }, (kres) => {
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(kres.headers)) if (v !== undefined && !HOP.has(k)) headers[k] = v;
    headers['cache-control'] = 'no-cache, private';
    r.res.writeHead(kres.statusCode ?? 502, headers);
    kres.pipe(r.res);
  });
  up.on('error', (err) => {
    if (r.res.headersSent) {
      r.res.destroy();
      return;
    }
    sendError(r.res, new ApiError(503, 'ServiceUnavailable', `error trying to reach service: ${dialErrorText(err, ep)}`));
  });
  r.res.on('close', () => up.destroy());
  up.end(r.body);
}

/** Matches the kubelet-proxied paths: pods/{log,exec,attach,portforward} and nodes/{name}/proxy[/...]. */
export type KubeletRoute =
  | { kind: 'log' | 'exec' | 'attach' | 'portforward'; namespace: string; name: string }
  | { kind: 'nodeProxy'; node: string; rest: string | undefined };

/** Parses a request path into a {@link KubeletRoute}; undefined for every other path. */
export function kubeletRoute(path: string): KubeletRoute | undefined {
  let m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/(log|exec|attach|portforward)\/?$/.exec(path);
  if (m) return { kind: m[3] as 'log', namespace: decodeURIComponent(m[1]!), name: decodeURIComponent(m[2]!) };
  m = /^\/api\/v1\/nodes\/([^/]+)\/proxy(?:\/(.*))?$/.exec(path);
  if (m) return { kind: 'nodeProxy', node: decodeURIComponent(m[1]!), rest: m[2] };
  return undefined;
}
