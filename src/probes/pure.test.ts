import { describe, expect, it } from 'vitest';
import { expandCommandStatic } from './expand.js';
import { PROBE_DEFAULTS, resolveProbe } from './spec.js';
import { resolveProbeTarget } from './target.js';
import { podWithProbes, runningStatus } from './testing.js';
import { ResultsCache } from './results.js';

describe('probe spec resolution', () => {
  it('applies upstream defaults', () => {
    const r = resolveProbe({ tcpSocket: { port: 80 } }, 'liveness', 'p');
    expect(r).toMatchObject({ ...PROBE_DEFAULTS, terminationGracePeriodSeconds: undefined });
    expect(PROBE_DEFAULTS).toEqual({ initialDelaySeconds: 0, periodSeconds: 10, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 });
  });
  it('rejects bad values naming the field', () => {
    expect(() => resolveProbe({ exec: { command: ['x'] }, periodSeconds: -1 }, 'readiness', 'spec.containers[1].readinessProbe')).toThrow(
      'spec.containers[1].readinessProbe.periodSeconds: must be an integer ≥ 1, got -1',
    );
    expect(() => resolveProbe({ exec: { command: ['x'] }, successThreshold: 3 }, 'startup', 'p')).toThrow('p.successThreshold: must be 1 for startup probes');
    expect(() => resolveProbe({ exec: { command: ['x'] }, terminationGracePeriodSeconds: 5 }, 'readiness', 'p')).toThrow(
      'must not be set for readiness probes',
    );
    expect(() => resolveProbe({ exec: { command: [] } }, 'liveness', 'p')).toThrow('p.exec.command: must be a non-empty list');
    expect(() => resolveProbe({ exec: { command: ['x'] }, tcpSocket: { port: 1 } }, 'liveness', 'p')).toThrow('may not specify more than 1 handler type');
    expect(() => resolveProbe({ grpc: { port: 0 } }, 'liveness', 'p')).toThrow('p.grpc.port: must be between 1 and 65535');
  });
  it('keeps readiness successThreshold and a liveness terminationGracePeriodSeconds', () => {
    expect(resolveProbe({ exec: { command: ['x'] }, successThreshold: 3 }, 'readiness', 'p').successThreshold).toBe(3);
    expect(resolveProbe({ exec: { command: ['x'] }, terminationGracePeriodSeconds: 5 }, 'liveness', 'p').terminationGracePeriodSeconds).toBe(5);
  });
});

describe('probe targets', () => {
  const pod = podWithProbes({});
  const status = runningStatus('docker://a', new Date(0), '172.17.0.9');
  const ctx = { pod, status, nodeIP: '10.1.1.1' };
  it('allows pod IP, node IP, loopback and localhost', () => {
    expect(resolveProbeTarget(undefined, ctx)).toEqual({ ok: true, ip: '172.17.0.9', hostname: '172.17.0.9' });
    expect(resolveProbeTarget('10.1.1.1', ctx)).toMatchObject({ ok: true });
    expect(resolveProbeTarget('127.0.0.5', ctx)).toMatchObject({ ok: true });
    expect(resolveProbeTarget('[::1]', ctx)).toMatchObject({ ok: true, ip: '::1' });
    expect(resolveProbeTarget('localhost', ctx)).toEqual({ ok: true, ip: '127.0.0.1', hostname: 'localhost' });
  });
  it('never resolves names and refuses foreign IPs', () => {
    expect(resolveProbeTarget('example.com', ctx)).toMatchObject({ ok: false, pending: false });
    expect(resolveProbeTarget('172.17.0.10', ctx)).toMatchObject({ ok: false, pending: false });
  });
  it('hostNetwork pods default to the node IP', () => {
    const hn = podWithProbes({}, { hostNetwork: true });
    expect(resolveProbeTarget('', { ...ctx, pod: hn })).toMatchObject({ ok: true, ip: '10.1.1.1' });
    expect(resolveProbeTarget('', { ...ctx, status: { ...status, podIP: '' } })).toMatchObject({ ok: false, pending: true });
  });
});

describe('command expansion', () => {
  it('expands static env only, keeps unknown references, unescapes $$', () => {
    const env = [{ name: 'A', value: 'x' }, { name: 'B', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }];
    expect(expandCommandStatic(['$(A)-$(B)-$$(A)-$(C)', '$', 'a$b'], env)).toEqual(['x-$(B)-$(A)-$(C)', '$', 'a$b']);
  });
});

describe('results cache', () => {
  it('notifies only on change and forgets silently', () => {
    const c = new ResultsCache();
    const seen: string[] = [];
    const off = c.onChange((u) => seen.push(`${u.containerID}=${u.result}`));
    expect(c.set('a', 'failure', 'p')).toBe(true);
    expect(c.set('a', 'failure', 'p')).toBe(false);
    expect(c.set('a', 'success', 'p')).toBe(true);
    c.remove('a');
    expect(c.get('a')).toBeUndefined();
    expect(c.set('a', 'success', 'p')).toBe(true);
    off();
    c.set('a', 'failure', 'p');
    expect(seen).toEqual(['a=failure', 'a=success', 'a=success']);
  });
});
