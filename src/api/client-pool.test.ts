import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from './client.js';
import { parseKubeConfig } from './kubeconfig-file.js';
import { resolveContext } from './kubeconfig.js';

// Connections the client opens to the API server (issue 14): a burst of requests shares a bounded pool and leaves few
// idle connections behind; watches, each holding its connection, are not limited by that pool.
let dir: string;
let server: Server;
let client: ApiClient;
const open = new Set<Socket>();
let opened = 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'nodelet-api-pool-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
  server = createServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, (req, res) => {
    if (req.url?.includes('watch=true')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"type":"ADDED","object":{}}\n'); // and stays open
      return;
    }
    setTimeout(() => res.end('{"kind":"Status"}'), 20);
  });
  server.on('secureConnection', (s: Socket) => {
    opened++;
    open.add(s);
    s.on('close', () => open.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const kc = `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:${port}", insecure-skip-tls-verify: true}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n`;
  client = new ApiClient(resolveContext(parseKubeConfig(kc, 'kc', dir), 'kc')!);
});

afterAll(async () => {
  client.close();
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

describe('ApiClient connection pools', () => {
  it('serves a burst of 60 requests over at most 16 connections and keeps at most 4 idle; 20 watches get their own', async () => {
    const ac = new AbortController();
    const watches = Array.from({ length: 20 }, (_, i) => client.stream({ path: `/api/v1/pods?watch=true&i=${i}`, signal: ac.signal }, () => undefined, 60_000));
    await expect.poll(() => open.size).toBe(20);
    const answers = await Promise.all(Array.from({ length: 60 }, (_, i) => client.request({ path: `/api/v1/namespaces/default/configmaps/c${i}` })));
    expect(answers).toHaveLength(60);
    expect(opened).toBeLessThanOrEqual(20 + 16);
    await expect.poll(() => open.size).toBeLessThanOrEqual(20 + 4);
    ac.abort();
    await Promise.all(watches);
  });
});
