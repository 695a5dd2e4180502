import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock, RealClock } from '../../util/index.js';

/** Called when a /hang request arrived (event-driven wait instead of wall-clock timing). */
let onHang: (() => void) | undefined;
import { buildHttpProbeRequest, probeUserAgent } from './http-request.js';
import { httpProbe } from './http.js';

const clock = new RealClock();
let server: http.Server;
let tlsServer: https.Server;
let port = 0;
let tlsPort = 0;
let tmp = '';
const seen: { url: string; headers: http.IncomingHttpHeaders }[] = [];

function handler(req: http.IncomingMessage, res: http.ServerResponse): void {
  seen.push({ url: req.url ?? '', headers: req.headers });
  const url = req.url ?? '/';
  if (url === '/ok') return void res.end('fine');
  if (url === '/404') return void res.writeHead(404).end('missing');
  if (url === '/503') return void res.writeHead(503).end();
  if (url === '/399') return void res.writeHead(399).end('odd but fine');
  if (url === '/same') return void res.writeHead(302, { Location: '/ok' }).end();
  if (url === '/other') return void res.writeHead(302, { Location: `http://127.0.0.2:${port}/ok` }).end('moved away');
  if (url === '/loop') return void res.writeHead(302, { Location: '/loop' }).end();
  if (url === '/headers') return void res.end(JSON.stringify(req.headers));
  if (url === '/big') return void res.end('x'.repeat(64 * 1024));
  if (url === '/hang') return void onHang?.(); // never answers
  res.writeHead(500).end();
}

beforeAll(async () => {
  server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
  tmp = mkdtempSync(join(tmpdir(), 'nlpr-tls-'));
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=nodelet-probe-test',
    '-keyout', join(tmp, 'key.pem'), '-out', join(tmp, 'cert.pem'),
  ], { stdio: 'ignore' });
  tlsServer = https.createServer({ key: readFileSync(join(tmp, 'key.pem')), cert: readFileSync(join(tmp, 'cert.pem')) }, handler);
  await new Promise<void>((r) => tlsServer.listen(0, '127.0.0.1', r));
  tlsPort = (tlsServer.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  tlsServer.closeAllConnections();
  await new Promise((r) => server.close(r));
  await new Promise((r) => tlsServer.close(r));
  rmSync(tmp, { recursive: true, force: true });
});

const probe = (path: string, extra: { scheme?: string; headers?: { name: string; value: string }[]; p?: number; timeoutMs?: number } = {}) =>
  httpProbe(
    buildHttpProbeRequest({
      action: { path, port: extra.p ?? (extra.scheme === 'HTTPS' ? tlsPort : port), scheme: extra.scheme, httpHeaders: extra.headers },
      container: { name: 'c' },
      hostname: '127.0.0.1',
      ip: '127.0.0.1',
      userAgent: probeUserAgent('v1.24.3'),
    }),
    extra.timeoutMs ?? 2000,
    clock,
  );

describe('httpGet handler against a local server', () => {
  it('200 and 399 are success; 404 and 503 fail with the upstream text', async () => {
    expect(await probe('/ok')).toEqual({ result: 'success', output: 'fine' });
    expect(await probe('/399')).toMatchObject({ result: 'warning' }); // 3xx that is not followed ends as a warning
    expect(await probe('/404')).toEqual({ result: 'failure', output: 'HTTP probe failed with statuscode: 404' });
    expect(await probe('/503')).toEqual({ result: 'failure', output: 'HTTP probe failed with statuscode: 503' });
  });

  it('follows a redirect on the same host', async () => {
    seen.length = 0;
    expect(await probe('/same')).toEqual({ result: 'success', output: 'fine' });
    expect(seen.map((s) => s.url)).toEqual(['/same', '/ok']);
  });

  it('keeps a Host override across a relative redirect (as Go does)', async () => {
    seen.length = 0;
    await probe('/same', { headers: [{ name: 'Host', value: 'web.example' }] });
    expect(seen.map((s) => [s.url, s.headers.host])).toEqual([
      ['/same', 'web.example'],
      ['/ok', 'web.example'],
    ]);
  });

  it('does not follow a redirect to another host: success with a warning', async () => {
    seen.length = 0;
    expect(await probe('/other')).toEqual({
      result: 'warning',
      output: 'Probe terminated redirects, Response body: moved away',
    });
    expect(seen.map((s) => s.url)).toEqual(['/other']);
  });

  it('stops after 10 redirects', async () => {
    seen.length = 0;
    expect(await probe('/loop')).toEqual({
      result: 'failure',
      output: `Get "http://127.0.0.1:${port}/loop": stopped after 10 redirects`,
    });
    expect(seen).toHaveLength(10);
  });

  it('sends kube-probe User-Agent, Accept */*, custom headers and a Host override', async () => {
    seen.length = 0;
    await probe('/headers');
    expect(seen[0]!.headers).toMatchObject({ 'user-agent': 'kube-probe/1.24', accept: '*/*', host: `127.0.0.1:${port}` });
    seen.length = 0;
    await probe('/headers', {
      headers: [
        { name: 'host', value: 'web.example' },
        { name: 'x-custom', value: 'v' },
        { name: 'Accept', value: 'application/json' },
        { name: 'User-Agent', value: 'mine' },
      ],
    });
    expect(seen[0]!.headers).toMatchObject({ host: 'web.example', 'x-custom': 'v', accept: 'application/json', 'user-agent': 'mine' });
    seen.length = 0;
    await probe('/headers', { headers: [{ name: 'Accept', value: '' }] });
    expect(seen[0]!.headers.accept).toBeUndefined();
  });

  it('reads at most 10 KiB of the body', async () => {
    const r = await probe('/big');
    expect(r.result).toBe('success');
    expect(r.output.length).toBe(10 * 1024);
  });

  it('HTTPS without certificate verification (self-signed)', async () => {
    expect(await probe('/ok', { scheme: 'HTTPS' })).toEqual({ result: 'success', output: 'fine' });
    expect(await probe('/404', { scheme: 'HTTPS' })).toMatchObject({ result: 'failure' });
  });

  it('connection refused and timeout are failures with Go-style texts', async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const dead = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    expect(await probe('/x', { p: dead })).toEqual({
      result: 'failure',
      output: `Get "http://127.0.0.1:${dead}/x": dial tcp 127.0.0.1:${dead}: connect: connection refused`,
    });
    // The deadline runs on a fake clock: advanced once the server holds the request, no wall-clock timing.
    const fake = new FakeClock();
    const arrived = new Promise<void>((r) => (onHang = r));
    const req = buildHttpProbeRequest({ action: { path: '/hang', port }, container: { name: 'c' }, hostname: '127.0.0.1', ip: '127.0.0.1', userAgent: probeUserAgent('v1.24.3') });
    const pending = httpProbe(req, 300, fake);
    await arrived;
    fake.advance(299);
    fake.advance(1);
    expect(await pending).toEqual({
      result: 'failure',
      output: `Get "http://127.0.0.1:${port}/hang": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`,
    });
  });
});
