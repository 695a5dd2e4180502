/**
 * Container lifecycle handlers (postStart / preStop): exec in the container, HTTP GET (host defaults to the pod IP),
 * or sleep. `runHandler` resolves on success and throws an Error whose message is the upstream-style description.
 */
import http from 'node:http';
import https from 'node:https';
import type { V1Container, V1LifecycleHandler } from '@kubernetes/client-node';
import type { ContainerRuntime } from '../../cri/types.js';
import type { Clock } from '../../util/clock.js';
import { errorMessage } from '../../util/errors.js';

/** Where and how a handler runs. */
export interface HandlerContext {
  runtime: ContainerRuntime;
  clock: Clock;
  container: V1Container;
  containerId: string;
  /** `name_namespace(uid)`. */
  podFullName: string;
  podIP: string;
  /** Upper bound for the handler (seconds, 0 = none). */
  timeoutSeconds: number;
  signal?: AbortSignal;
}

/** Enough of a failing hook's response body for the message. */
const MAX_BODY_BYTES = 10 * 1024;

function resolvePort(port: number | string | undefined, c: V1Container): number {
  if (typeof port === 'number') return port;
  if (port === undefined) return 80;
  const n = Number(port);
  if (Number.isInteger(n)) return n;
  const named = (c.ports ?? []).find((p) => p.name === port);
  if (named === undefined) throw new Error(`couldn't find port: ${port} in ${c.name}`);
  return named.containerPort;
}

async function httpGet(h: NonNullable<V1LifecycleHandler['httpGet']>, ctx: HandlerContext): Promise<void> {
  const host = h.host ?? ctx.podIP;
  if (host === '') throw new Error('no pod IP to send the HTTP request to');
  const port = resolvePort(h.port as number | string, ctx.container);
  const scheme = (h.scheme ?? 'HTTP').toLowerCase();
  const path = h.path === undefined ? '/' : h.path.startsWith('/') ? h.path : `/${h.path}`;
  const url = `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}${path}`;
  const headers: Record<string, string> = {};
  for (const x of h.httpHeaders ?? []) headers[x.name] = x.value;
  const signals = [ctx.signal, ctx.timeoutSeconds > 0 ? AbortSignal.timeout(ctx.timeoutSeconds * 1000) : undefined]
    .filter((s): s is AbortSignal => s !== undefined);
  const res = await get(url, headers, signals.length > 0 ? AbortSignal.any(signals) : undefined);
  if (res.status < 200 || res.status >= 400) {
    throw new Error(`HTTP lifecycle hook (${path}) for Container "${ctx.container.name}" in Pod "${ctx.podFullName}" failed - error: HTTP status code ${res.status}, message: "${res.body.slice(0, 200)}"`);
  }
}

/**
 * One GET. HTTPS hooks do not verify the server certificate, as upstream (its hook client sets InsecureSkipVerify,
 * like the probes'): a pod serving a self-signed certificate is the normal case.
 */
function get(url: string, headers: Record<string, string>, signal: AbortSignal | undefined): Promise<{ status: number; body: string }> {
  const u = new URL(url);
  const mod = u.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(u, { method: 'GET', headers, signal, rejectUnauthorized: false, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        if (size < MAX_BODY_BYTES) chunks.push(c);
        size += c.length;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Runs one handler; throws with a descriptive message on failure. */
export async function runHandler(h: V1LifecycleHandler, ctx: HandlerContext): Promise<void> {
  if (h.exec !== undefined) {
    const cmd = h.exec.command ?? [];
    const r = await ctx.runtime.execSync(ctx.containerId, cmd, ctx.timeoutSeconds);
    if (r.exitCode !== 0) {
      const out = `${r.stdout}${r.stderr}`.trim();
      throw new Error(`Exec lifecycle hook ([${cmd.join(' ')}]) for Container "${ctx.container.name}" in Pod "${ctx.podFullName}" failed - error: command '${cmd.join(' ')}' exited with ${r.exitCode}: ${out}, message: "${out}"`);
    }
    return;
  }
  if (h.httpGet !== undefined) {
    try {
      await httpGet(h.httpGet, ctx);
    } catch (err) {
      const m = errorMessage(err);
      if (m.startsWith('HTTP lifecycle hook')) throw err;
      throw new Error(`HTTP lifecycle hook (${h.httpGet.path ?? '/'}) for Container "${ctx.container.name}" in Pod "${ctx.podFullName}" failed - error: ${m}, message: ""`);
    }
    return;
  }
  if (h.sleep !== undefined) {
    await ctx.clock.sleep(h.sleep.seconds * 1000, ctx.signal);
    return;
  }
  if (h.tcpSocket !== undefined) return; // deprecated and never implemented upstream: a no-op
  throw new Error(`Cannot run handler: no handler specified for Container "${ctx.container.name}"`);
}

/** Runs `fn` but gives up after `ms`, resolving to 'timeout' (the handler keeps running in the background). */
export async function withDeadline<T>(clock: Clock, ms: number, fn: () => Promise<T>): Promise<T | 'timeout'> {
  let handle: ReturnType<Clock['setTimeout']> | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    handle = clock.setTimeout(() => resolve('timeout'), ms);
  });
  try {
    return await Promise.race([fn(), timeout]);
  } finally {
    if (handle !== undefined) clock.clearTimeout(handle);
  }
}
