import { describe, expect, it } from 'vitest';
import { buildHttpProbeRequest, canonicalHeaderKey, probeUserAgent, requestURL } from './http-request.js';
import { resolveContainerPort } from './port.js';
import { decodeHealthCheckRequest, decodeHealthCheckResponse, encodeHealthCheckRequest, encodeHealthCheckResponse } from './grpc-health.js';
import { boundOutput, joinHostPort } from './types.js';

describe('http request building', () => {
  const container = { name: 'c', ports: [{ name: 'web', containerPort: 8080 }] };
  it('defaults: http, pod IP, User-Agent and Accept, Host from the URL', () => {
    const r = buildHttpProbeRequest({ action: { port: 'web', path: '/healthz?x=1' }, container, hostname: '172.17.0.5', ip: '172.17.0.5', userAgent: 'kube-probe/1.24' });
    expect(r).toEqual({
      scheme: 'http',
      hostname: '172.17.0.5',
      ip: '172.17.0.5',
      port: 8080,
      pathAndQuery: '/healthz?x=1',
      headers: { 'User-Agent': 'kube-probe/1.24', Accept: '*/*', Host: '172.17.0.5:8080' },
    });
    expect(requestURL(r)).toBe('http://172.17.0.5:8080/healthz?x=1');
  });
  it('scheme is case-insensitive; unsupported schemes are errors', () => {
    expect(buildHttpProbeRequest({ action: { port: 1, scheme: 'HTTPS' }, container, hostname: '::1', ip: '::1', userAgent: 'u' }).scheme).toBe('https');
    expect(() => buildHttpProbeRequest({ action: { port: 1, scheme: 'ftp' }, container, hostname: 'a', ip: 'a', userAgent: 'u' })).toThrow('unsupported protocol scheme "ftp"');
  });
  it('canonical header keys and version parsing', () => {
    expect(canonicalHeaderKey('x-custom-HEADER')).toBe('X-Custom-Header');
    expect(probeUserAgent('v1.30.2')).toBe('kube-probe/1.30');
    expect(joinHostPort('fd00::1', 80)).toBe('[fd00::1]:80');
  });
});

describe('container port resolution (upstream ResolveContainerPort)', () => {
  const c = { name: 'c', ports: [{ name: 'http', containerPort: 8080 }] };
  it('number, name, numeric string', () => {
    expect(resolveContainerPort(80, c)).toBe(80);
    expect(resolveContainerPort('http', c)).toBe(8080);
    expect(resolveContainerPort('9090', c)).toBe(9090);
  });
  it('errors', () => {
    expect(() => resolveContainerPort('grpc', c)).toThrow('strconv.Atoi: parsing "grpc": invalid syntax');
    expect(() => resolveContainerPort(0, c)).toThrow('invalid port number: 0');
    expect(() => resolveContainerPort(70000, c)).toThrow('invalid port number: 70000');
  });
});

describe('grpc health codec', () => {
  it('round-trips', () => {
    expect(decodeHealthCheckRequest(encodeHealthCheckRequest('svc.v1'))).toEqual({ service: 'svc.v1' });
    expect(encodeHealthCheckRequest('')).toHaveLength(0);
    expect(decodeHealthCheckResponse(encodeHealthCheckResponse(2))).toEqual({ status: 2 });
    expect(decodeHealthCheckResponse(Buffer.alloc(0))).toEqual({ status: 0 });
    // unknown fields are skipped
    expect(decodeHealthCheckResponse(Buffer.from([0x12, 0x01, 0x41, 0x08, 0x01]))).toEqual({ status: 1 });
    expect(() => decodeHealthCheckResponse(Buffer.from([0x08]))).toThrow('truncated varint');
  });
});

describe('output bounding', () => {
  it('keeps at most the given bytes', () => {
    expect(boundOutput('abcdef', 3)).toBe('abc');
    expect(boundOutput('abc', 3)).toBe('abc');
  });
});
