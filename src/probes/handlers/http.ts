/**
 * The httpGet handler (upstream pkg/probe/http): GET with keep-alives off and no certificate verification;
 * 200 ≤ code < 400 is success; redirects are followed on the same host only (at most 10), and a redirect to another
 * host ends the chain with the 3xx response, which counts as success with a warning; the body is read up to 10 KiB.
 * Network errors are failures carrying Go-style texts (`Get "<url>": dial tcp <ip>:<port>: connect: connection
 * refused`).
 */
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import type { Clock } from '../../util/index.js';
import { type HttpProbeRequest, requestURL } from './http-request.js';
import { MAX_PROBE_OUTPUT_BYTES, goDialErrorText, joinHostPort, type ProbeOutcome } from './types.js';

/** Go's http.Client stops after this many redirects. */
const MAX_REDIRECTS = 10;
const REDIRECT_CODES = new Set([301, 302, 303, 307, 308]);

interface RawResponse {
  status: number;
  location: string | undefined;
  body: string;
}

class HttpProbeError extends Error {}

// Shared agents without keep-alive (upstream disables keep-alives): one connection per probe, no per-request agent.
const httpAgent = new http.Agent({ keepAlive: false });
const httpsAgent = new https.Agent({ keepAlive: false });

/** Cancels the request in flight when the probe's deadline passes. */
interface Deadline {
  expired: boolean;
  current: http.ClientRequest | undefined;
}

/** Runs one HTTP probe; never rejects (every problem is a failure with a message, as upstream). */
export async function httpProbe(req: HttpProbeRequest, timeoutMs: number, clock: Clock): Promise<ProbeOutcome> {
  const deadline: Deadline = { expired: false, current: undefined };
  const timer = clock.setTimeout(() => {
    deadline.expired = true;
    deadline.current?.destroy(new HttpProbeError('deadline exceeded'));
  }, timeoutMs);
  let current = req;
  try {
    for (let redirects = 0; ; redirects++) {
      const res = await getOnce(current, deadline);
      const next = REDIRECT_CODES.has(res.status) ? redirectTarget(current, res.location) : undefined;
      if (next === undefined) return classify(res);
      if (next.hostname.toLowerCase() !== req.hostname.toLowerCase()) return classify(res); // other host: stop here
      if (redirects + 1 >= MAX_REDIRECTS) {
        return { result: 'failure', output: `Get ${JSON.stringify(requestURL(next))}: stopped after 10 redirects` };
      }
      current = next;
    }
  } catch (err) {
    const url = requestURL(current);
    if (deadline.expired) {
      return {
        result: 'failure',
        output: `Get ${JSON.stringify(url)}: context deadline exceeded (Client.Timeout exceeded while awaiting headers)`,
      };
    }
    return { result: 'failure', output: `Get ${JSON.stringify(url)}: ${describe(current, err)}` };
  } finally {
    clock.clearTimeout(timer);
  }
}

function classify(res: RawResponse): ProbeOutcome {
  if (res.status >= 200 && res.status < 400) {
    if (res.status >= 300) {
      return { result: 'warning', output: `Probe terminated redirects, Response body: ${res.body}` };
    }
    return { result: 'success', output: res.body };
  }
  return { result: 'failure', output: `HTTP probe failed with statuscode: ${res.status}` };
}

/** The request for a redirect's Location, or undefined when there is none to follow. */
function redirectTarget(from: HttpProbeRequest, location: string | undefined): HttpProbeRequest | undefined {
  if (location === undefined || location === '') return undefined;
  let u: URL;
  try {
    u = new URL(location, requestURL({ ...from, pathAndQuery: from.pathAndQuery || '/' }));
  } catch {
    return undefined;
  }
  const scheme = u.protocol === 'https:' ? 'https' : u.protocol === 'http:' ? 'http' : undefined;
  if (scheme === undefined) return undefined;
  const hostname = u.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = u.port === '' ? (scheme === 'https' ? 443 : 80) : Number(u.port);
  const absolute = /^[a-z][a-z0-9+.-]*:/i.test(location) || location.startsWith('//');
  const headers = { ...from.headers };
  // Go keeps a custom Host header only across relative redirects (golang/go#22233).
  const hadCustomHost = from.headers['Host'] !== joinHostPort(from.hostname, from.port);
  if (absolute || !hadCustomHost) headers['Host'] = joinHostPort(hostname, port);
  return { ...from, scheme, hostname, port, pathAndQuery: `${u.pathname}${u.search}`, headers };
}

function getOnce(req: HttpProbeRequest, deadline: Deadline): Promise<RawResponse> {
  if (isIP(req.ip) === 0) return Promise.reject(new HttpProbeError(`refusing to resolve ${req.ip}`));
  if (deadline.expired) return Promise.reject(new HttpProbeError('deadline exceeded'));
  return new Promise<RawResponse>((resolve, reject) => {
    const options: https.RequestOptions = {
      host: req.ip,
      port: req.port,
      method: 'GET',
      path: req.pathAndQuery || '/',
      headers: req.headers,
      agent: req.scheme === 'https' ? httpsAgent : httpAgent,
    };
    if (req.scheme === 'https') {
      options.rejectUnauthorized = false;
      if (isIP(req.hostname) === 0) options.servername = req.hostname;
    }
    const r = (req.scheme === 'https' ? https : http).request(options, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const done = (): void => {
        const body = Buffer.concat(chunks).subarray(0, MAX_PROBE_OUTPUT_BYTES).toString('utf8');
        resolve({ status: res.statusCode ?? 0, location: res.headers.location, body });
      };
      res.on('data', (c: Buffer) => {
        chunks.push(c);
        size += c.length;
        if (size >= MAX_PROBE_OUTPUT_BYTES) {
          // Enough read: stop like upstream's ReadAtMost (the truncation is not an error).
          res.removeAllListeners('data');
          res.destroy();
          done();
        }
      });
      res.on('end', done);
      res.on('error', (e) => (size >= MAX_PROBE_OUTPUT_BYTES ? done() : reject(e)));
    });
    deadline.current = r;
    r.on('error', reject);
    r.end();
  });
}

function describe(req: HttpProbeRequest, err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'ECONNREFUSED' || e.code === 'EHOSTUNREACH' || e.code === 'ENETUNREACH' || e.code === 'ETIMEDOUT') {
    return `dial tcp ${joinHostPort(req.ip, req.port)}: ${goDialErrorText(e)}`;
  }
  if (e.code === 'ECONNRESET' && e.message === 'socket hang up') return 'EOF';
  if (e.code === 'ECONNRESET') return goDialErrorText(e);
  return e.message ?? String(err);
}
