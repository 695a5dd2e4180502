/**
 * Building the HTTP probe request (pure), after upstream pkg/probe/http/request.go: scheme (lower-cased, default
 * http), path as given (query kept), headers with canonical names, `User-Agent: kube-probe/<major>.<minor>` and
 * `Accept: *\/*` unless overridden (an empty Accept removes it), and a Host header override.
 */
import type { V1Container, V1HTTPGetAction } from '@kubernetes/client-node';
import { InvalidError } from '../../util/index.js';
import { joinHostPort } from './types.js';
import { resolveContainerPort } from './port.js';

/** A ready-to-send probe request. */
export interface HttpProbeRequest {
  scheme: 'http' | 'https';
  /** The host as written in the URL (IP literal or `localhost`, no brackets). */
  hostname: string;
  /** The IP actually connected to. */
  ip: string;
  port: number;
  /** Path plus query as given ('' or starting with `/`); '' is sent as `/`. */
  pathAndQuery: string;
  /** Header name (canonical form) → value; includes `Host`. */
  headers: Record<string, string>;
}

/** Canonical MIME header key like Go's http.CanonicalHeaderKey (`x-custom-header` → `X-Custom-Header`). */
export function canonicalHeaderKey(name: string): string {
  if (!/^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/.test(name)) return name;
  return name
    .split('-')
    .map((part) => (part.length === 0 ? part : part[0]!.toUpperCase() + part.slice(1).toLowerCase()))
    .join('-');
}

/** The probe User-Agent for a kubelet version like `v1.24.3` → `kube-probe/1.24`. */
export function probeUserAgent(kubeletVersion: string): string {
  const m = /^v?(\d+)\.(\d+)/.exec(kubeletVersion);
  return m ? `kube-probe/${m[1]}.${m[2]}` : `kube-probe/${kubeletVersion}`;
}

/** The URL string as Go prints it in errors (`http://10.0.0.5:8080/healthz`). */
export function requestURL(req: Pick<HttpProbeRequest, 'scheme' | 'hostname' | 'port' | 'pathAndQuery'>): string {
  return `${req.scheme}://${joinHostPort(req.hostname, req.port)}${req.pathAndQuery}`;
}

/** Inputs of {@link buildHttpProbeRequest}. */
export interface BuildHttpRequestInput {
  action: V1HTTPGetAction;
  container: V1Container;
  /** Resolved target (the action's host, or the pod/node IP). */
  hostname: string;
  ip: string;
  userAgent: string;
}

/** Builds the request; throws InvalidError (a prober error upstream) for a bad port or scheme. */
export function buildHttpProbeRequest(input: BuildHttpRequestInput): HttpProbeRequest {
  const scheme = (input.action.scheme ?? '').toLowerCase() || 'http';
  if (scheme !== 'http' && scheme !== 'https') {
    throw new InvalidError(`unsupported protocol scheme ${JSON.stringify(scheme)}`, { field: 'httpGet.scheme' });
  }
  const port = resolveContainerPort(input.action.port, input.container);
  const rawPath = input.action.path ?? '';
  const pathAndQuery = rawPath === '' ? '' : rawPath.startsWith('/') ? rawPath : `/${rawPath}`;
  const headers: Record<string, string> = {};
  for (const h of input.action.httpHeaders ?? []) {
    const key = canonicalHeaderKey(h.name);
    // Go's Header.Add keeps every value; the first one is what Get (and Host) sees.
    headers[key] = headers[key] === undefined ? h.value : `${headers[key]}, ${h.value}`;
  }
  if (headers['User-Agent'] === undefined) headers['User-Agent'] = input.userAgent;
  if (headers['Accept'] === undefined) headers['Accept'] = '*/*';
  else if (headers['Accept'] === '') delete headers['Accept'];
  const hostOverride = (input.action.httpHeaders ?? []).find((h) => canonicalHeaderKey(h.name) === 'Host');
  headers['Host'] = hostOverride?.value || joinHostPort(input.hostname, port);
  return { scheme, hostname: input.hostname, ip: input.ip, port, pathAndQuery, headers };
}
