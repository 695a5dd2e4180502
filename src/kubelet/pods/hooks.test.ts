import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeRuntime } from '../../cri/index.js';
import { FakeClock } from '../../util/clock.js';
import { runHandler, type HandlerContext } from './hooks.js';

let server: https.Server;
let port = 0;
let tmp = '';
const paths: string[] = [];

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'nlhook-tls-'));
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=nodelet-hook-test',
    '-keyout', join(tmp, 'key.pem'), '-out', join(tmp, 'cert.pem'),
  ], { stdio: 'ignore' });
  server = https.createServer({ key: readFileSync(join(tmp, 'key.pem')), cert: readFileSync(join(tmp, 'cert.pem')) }, (req, res) => {
    paths.push(req.url ?? '');
    if (req.url === '/fail') return void res.writeHead(500).end('broken');
    res.end('ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  rmSync(tmp, { recursive: true, force: true });
});

function ctx(): HandlerContext {
  const clock = new FakeClock();
  return {
    runtime: new FakeRuntime({ clock }),
    clock,
    container: { name: 'web', image: 'x' },
    containerId: 'c1',
    podFullName: 'p_default(u1)',
    podIP: '127.0.0.1',
    timeoutSeconds: 10,
  };
}

describe('lifecycle hooks over HTTPS', () => {
  it('do not verify the server certificate (upstream: InsecureSkipVerify), and report HTTP errors', async () => {
    await runHandler({ httpGet: { scheme: 'HTTPS', port, path: '/poststart' } }, ctx());
    expect(paths).toContain('/poststart');
    await expect(runHandler({ httpGet: { scheme: 'HTTPS', port, path: '/fail' } }, ctx())).rejects.toThrow(
      'HTTP lifecycle hook (/fail) for Container "web" in Pod "p_default(u1)" failed - error: HTTP status code 500, message: "broken"',
    );
  });
});
