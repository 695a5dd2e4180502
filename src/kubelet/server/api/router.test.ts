import { describe, expect, it } from 'vitest';
import { parseStreamRoute, route } from './router.js';

const q = new URLSearchParams('command=ls&stdout=1');

describe('kubelet API routes', () => {
  it('parses streaming paths with and without the pod UID', () => {
    expect(parseStreamRoute('/exec/ns/p/c', q)).toEqual({ kind: 'exec', namespace: 'ns', pod: 'p', uid: undefined, container: 'c', query: q });
    expect(parseStreamRoute('/attach/ns/p/u1/c', q)).toMatchObject({ kind: 'attach', uid: 'u1', container: 'c' });
    expect(parseStreamRoute('/portForward/ns/p', q)).toMatchObject({ kind: 'portForward', uid: undefined, container: '' });
    expect(parseStreamRoute('/portForward/ns/p/u1', q)).toMatchObject({ kind: 'portForward', uid: 'u1' });
    expect(parseStreamRoute('/exec/ns/p', q)).toBeUndefined();
    expect(parseStreamRoute('/exec/ns//c', q)).toBeUndefined();
    expect(parseStreamRoute('/exec/ns/p/u/c/extra', q)).toBeUndefined();
  });

  it('routes every endpoint', () => {
    const r = (p: string): unknown => route(p, q);
    expect(r('/healthz')).toEqual({ kind: 'healthz', check: undefined });
    expect(r('/healthz/syncloop')).toEqual({ kind: 'healthz', check: 'syncloop' });
    expect(r('/pods')).toEqual({ kind: 'pods' });
    expect(r('/runningpods/')).toEqual({ kind: 'runningpods' });
    expect(r('/containerLogs/ns/p/c')).toEqual({ kind: 'containerLogs', namespace: 'ns', pod: 'p', container: 'c' });
    expect(r('/containerLogs/ns/p')).toEqual({ kind: 'notFound' });
    expect(r('/run/ns/p/c')).toMatchObject({ kind: 'run', uid: undefined, container: 'c' });
    expect(r('/run/ns/p/u/c')).toMatchObject({ kind: 'run', uid: 'u', container: 'c' });
    expect(r('/configz')).toEqual({ kind: 'configz' });
    expect(r('/metrics')).toEqual({ kind: 'metrics' });
    expect(r('/metrics/probes')).toEqual({ kind: 'metricsProbes' });
    expect(r('/metrics/resource')).toEqual({ kind: 'stats', path: '/metrics/resource' });
    expect(r('/metrics/cadvisor')).toEqual({ kind: 'stats', path: '/metrics/cadvisor' });
    expect(r('/stats/summary')).toEqual({ kind: 'stats', path: '/stats/summary' });
    expect(r('/logs/')).toEqual({ kind: 'systemLogs', file: '' });
    expect(r('/logs/apt/history.log')).toEqual({ kind: 'systemLogs', file: 'apt/history.log' });
    expect(r('/exec/ns/p/c')).toMatchObject({ kind: 'stream', stream: { kind: 'exec' } });
    expect(r('/containerLogs/ns/%E0%A4%A/c')).toEqual({ kind: 'notFound' });
    expect(r('/other')).toEqual({ kind: 'notFound' });
  });
});
