/**
 * Maps a kubelet API path to the endpoint that serves it (pure). Names follow upstream's handlers
 * (pkg/kubelet/server/server.go).
 */
import type { StreamRoute } from './types.js';

/** A routed request. */
export type Route =
  | { kind: 'healthz'; check: string | undefined }
  | { kind: 'pods' }
  | { kind: 'runningpods' }
  | { kind: 'containerLogs'; namespace: string; pod: string; container: string }
  | { kind: 'run'; namespace: string; pod: string; uid: string | undefined; container: string }
  | { kind: 'stream'; stream: StreamRoute }
  | { kind: 'configz' }
  | { kind: 'metrics' }
  | { kind: 'metricsProbes' }
  | { kind: 'stats'; path: string }
  | { kind: 'systemLogs'; file: string }
  | { kind: 'notFound' };

/** Routes only the debugging handlers (disabled by enableDebuggingHandlers: false). */
export const DEBUGGING_KINDS: ReadonlySet<Route['kind']> = new Set(['runningpods', 'containerLogs', 'run', 'stream', 'systemLogs']);

function decode(parts: string[]): string[] | undefined {
  try {
    return parts.map((p) => decodeURIComponent(p));
  } catch {
    return undefined;
  }
}

/** Parses a streaming path `/exec|attach/{ns}/{pod}[/{uid}]/{container}`, `/portForward/{ns}/{pod}[/{uid}]`. */
export function parseStreamRoute(path: string, query: URLSearchParams): StreamRoute | undefined {
  const raw = path.split('/').slice(1);
  const segs = decode(raw);
  if (segs === undefined || segs.some((s) => s === '')) return undefined;
  const [head, namespace = '', pod = '', ...rest] = segs;
  if (head === 'exec' || head === 'attach') {
    if (rest.length === 1) return { kind: head, namespace, pod, uid: undefined, container: rest[0] ?? '', query };
    if (rest.length === 2) return { kind: head, namespace, pod, uid: rest[0], container: rest[1] ?? '', query };
    return undefined;
  }
  if (head === 'portForward') {
    if (rest.length === 0) return { kind: head, namespace, pod, uid: undefined, container: '', query };
    if (rest.length === 1) return { kind: head, namespace, pod, uid: rest[0], container: '', query };
  }
  return undefined;
}

/** The route of a path (without query). */
export function route(path: string, query: URLSearchParams): Route {
  const healthz = /^\/healthz(?:\/([^/]+))?\/?$/.exec(path);
  if (healthz !== null) return { kind: 'healthz', check: healthz[1] };
  if (path === '/pods' || path === '/pods/') return { kind: 'pods' };
  if (path === '/runningpods' || path === '/runningpods/') return { kind: 'runningpods' };
  if (path === '/configz') return { kind: 'configz' };
  if (path === '/metrics') return { kind: 'metrics' };
  if (path === '/metrics/probes') return { kind: 'metricsProbes' };
  if (path === '/metrics/resource' || path === '/metrics/cadvisor' || path === '/stats' || path.startsWith('/stats/')) return { kind: 'stats', path };
  if (path === '/logs' || path.startsWith('/logs/')) return { kind: 'systemLogs', file: path.slice('/logs'.length).replace(/^\//, '') };
  const segs = path.split('/').slice(1);
  const head = segs[0];
  if (head === 'containerLogs') {
    const d = decode(segs.slice(1));
    if (d?.length === 3 && d.every((s) => s !== '')) return { kind: 'containerLogs', namespace: d[0] ?? '', pod: d[1] ?? '', container: d[2] ?? '' };
    return { kind: 'notFound' };
  }
  if (head === 'run') {
    const d = decode(segs.slice(1));
    if (d === undefined || d.some((s) => s === '')) return { kind: 'notFound' };
    if (d.length === 3) return { kind: 'run', namespace: d[0] ?? '', pod: d[1] ?? '', uid: undefined, container: d[2] ?? '' };
    if (d.length === 4) return { kind: 'run', namespace: d[0] ?? '', pod: d[1] ?? '', uid: d[2], container: d[3] ?? '' };
    return { kind: 'notFound' };
  }
  if (head === 'exec' || head === 'attach' || head === 'portForward') {
    const stream = parseStreamRoute(path, query);
    return stream === undefined ? { kind: 'notFound' } : { kind: 'stream', stream };
  }
  return { kind: 'notFound' };
}
