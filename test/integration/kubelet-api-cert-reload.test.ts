/**
 * Integration (issue 13): the kubelet API's HTTPS server with its certificate material read from real files through
 * the real watcher (NodeFileWatcher, inotify) and the real clock, as the daemon wires it for `--client-ca-file` and
 * `--tls-cert-file`/`--tls-private-key-file`:
 * - the CA file is replaced (rename over it) by another CA: a client certificate of the new CA is accepted, one of
 *   the old CA refused — on a new connection and on kept-alive connections opened before the rotation (the new CA's
 *   certificate, refused at that connection's handshake, is verified per request against the current bundle);
 * - the serving pair is rewritten in place (certificate, then key): a new connection sees the new certificate;
 * - garbage written to either file is logged with its code and the last good material stays in use.
 */
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContainerRuntime } from '../../src/cri/types.js';
import { clientCAFromFile, NodeFileWatcher, servingCertificateFromFiles, type DynamicFileContent } from '../../src/kubelet/certificate/index.js';
import { HealthChecks } from '../../src/kubelet/server/health.js';
import { alwaysAllow, createApiHandler, createAuthenticator, startKubeletApiServer, type KubeletApiServer } from '../../src/kubelet/server/api/index.js';
import { createSelfSigned, type CertificatePair } from '../../src/kubelet/server/api/certificate.js';
import { RealClock } from '../../src/util/clock.js';

const dir = mkdtempSync(join(tmpdir(), 'cr-reload-'));
const path = (n: string): string => join(dir, n);

/** A CA and a client certificate it signed (CN=`name`), made with openssl. */
function clientPki(name: string): { caPem: string; client: CertificatePair } {
  const ossl = (...args: string[]): void => {
    const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
  };
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  ossl('req', '-x509', ...ec, '-keyout', `${name}-ca.key`, '-out', `${name}-ca.crt`, '-days', '1', '-subj', `/CN=${name}-ca`);
  ossl('req', '-new', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/O=system:masters/CN=${name}-user`);
  ossl('x509', '-req', '-in', `${name}.csr`, '-CA', `${name}-ca.crt`, '-CAkey', `${name}-ca.key`, '-CAcreateserial', '-out', `${name}.crt`, '-days', '1');
  const f = (n: string): string => readFileSync(path(n), 'utf8');
  return { caPem: f(`${name}-ca.crt`), client: { certPem: f(`${name}.crt`), keyPem: f(`${name}.key`) } };
}

/** Log lines as objects, with a way to wait for one. */
function memoryLogger(): { logger: pino.Logger; waitFor: (match: (l: Record<string, unknown>) => boolean) => Promise<Record<string, unknown>> } {
  const lines: Record<string, unknown>[] = [];
  const waiters = new Set<() => void>();
  const logger = pino({ level: 'debug' }, {
    write: (s: string) => {
      lines.push(JSON.parse(s) as Record<string, unknown>);
      for (const w of [...waiters]) w();
    },
  });
  const waitFor = (match: (l: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> =>
    new Promise((resolve) => {
      const look = (): void => {
        const hit = lines.find(match);
        if (hit === undefined) return;
        waiters.delete(look);
        resolve(hit);
      };
      waiters.add(look);
      look();
    });
  return { logger, waitFor };
}

/** Resolves at the next change of `content`. */
const nextChange = (content: DynamicFileContent<unknown>): Promise<void> =>
  new Promise((resolve) => {
    const off = content.onChange(() => {
      off();
      resolve();
    });
  });

const a = clientPki('a');
const b = clientPki('b');
const serving1 = createSelfSigned('node-1', ['127.0.0.1'], Date.now());
const serving2 = createSelfSigned('node-2', ['127.0.0.1'], Date.now());
const fingerprint = (pem: string): string => new X509Certificate(pem).fingerprint256;
const { logger, waitFor } = memoryLogger();
const clock = new RealClock();
const files = new NodeFileWatcher();
const ca = clientCAFromFile(path('ca.crt'), { files, clock, logger });
const pair = servingCertificateFromFiles(path('tls.crt'), path('tls.key'), { files, clock, logger });
let server: KubeletApiServer;

interface Answer {
  status: number;
  serverCert: string;
  reused: boolean;
}

function get(client: CertificatePair, agent?: Agent): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const r = request({ host: '127.0.0.1', port: server.port, path: '/healthz', rejectUnauthorized: false, cert: client.certPem, key: client.keyPem, ...(agent === undefined ? { agent: false } : { agent }) }, (res) => {
      const serverCert = (res.socket as TLSSocket).getPeerCertificate().fingerprint256;
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, serverCert, reused: r.reusedSocket }));
    });
    r.on('error', reject);
    r.end();
  });
}

beforeAll(async () => {
  writeFileSync(path('ca.crt'), a.caPem);
  writeFileSync(path('tls.crt'), serving1.certPem);
  writeFileSync(path('tls.key'), serving1.keyPem, { mode: 0o600 });
  await ca.load();
  await pair.load();
  ca.start();
  pair.start();
  const registry = new Registry();
  const handler = createApiHandler({
    nodeName: 'cr-a',
    authenticator: createAuthenticator({ x509: true, clientCA: ca, tokenReviews: undefined, cacheTTLMs: 0, anonymous: false, clock, logger }),
    authorizer: alwaysAllow,
    lookup: { pods: () => [], findPod: () => undefined, resolveContainer: () => Promise.resolve(undefined) },
    runtime: {} as ContainerRuntime,
    logBackend: 'engine',
    checks: new HealthChecks(),
    registry,
    configz: () => ({}),
    enableDebuggingHandlers: true,
    enableSystemLogHandler: false,
    runTimeoutSeconds: 5,
    clock,
    logger,
  });
  server = await startKubeletApiServer({ address: '127.0.0.1', port: 0, readOnlyPort: 0, certificates: pair, clientCA: ca, tls: { minVersion: 'TLSv1.2' }, handler, logger });
});

afterAll(async () => {
  ca.stop();
  pair.stop();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('kubelet API certificate reload (real files, inotify, HTTPS)', () => {
  const keptAlive = new Agent({ keepAlive: true, maxSockets: 1 });
  const keptAliveB = new Agent({ keepAlive: true, maxSockets: 1 });
  afterAll(() => {
    keptAlive.destroy();
    keptAliveB.destroy();
  });

  it('starts with the first CA and serving pair', async () => {
    expect(await get(a.client)).toMatchObject({ status: 200, serverCert: fingerprint(serving1.certPem) });
    expect((await get(b.client)).status).toBe(401);
    expect(await get(a.client, keptAlive)).toMatchObject({ status: 200, reused: false });
    expect(await get(b.client, keptAliveB)).toMatchObject({ status: 401, reused: false });
  });

  it('a CA file replaced by another CA: the new CA is accepted, the old one refused, also on a kept-alive connection', async () => {
    const changed = nextChange(ca);
    writeFileSync(path('ca.crt.tmp'), b.caPem);
    renameSync(path('ca.crt.tmp'), path('ca.crt'));
    await changed;
    await waitFor((l) => l['msg'] === 'kubelet API TLS material changed; new connections use it' && l['material'] === 'client CA');
    expect((await get(b.client)).status).toBe(200);
    expect((await get(a.client)).status).toBe(401);
    expect(await get(a.client, keptAlive)).toMatchObject({ status: 401, reused: true });
    // Opened before the rotation, when the handshake could not verify b's certificate: verified per request now.
    expect(await get(b.client, keptAliveB)).toMatchObject({ status: 200, reused: true });
  });

  it('a serving pair rewritten in place (certificate, then key): new connections see the new certificate', async () => {
    const changed = nextChange(pair);
    writeFileSync(path('tls.crt'), serving2.certPem);
    writeFileSync(path('tls.key'), serving2.keyPem);
    await changed;
    expect(pair.current()?.certPem).toBe(serving2.certPem);
    expect(await get(b.client)).toMatchObject({ status: 200, serverCert: fingerprint(serving2.certPem) });
  });

  it('garbage in either file is logged with its code and the last good material stays', async () => {
    writeFileSync(path('ca.crt'), 'garbage\n');
    const caError = await waitFor((l) => l['code'] === 'CERTIFICATE_INVALID' && l['name'] === 'client-ca-bundle');
    expect(caError).toMatchObject({ level: 50, field: '--client-ca-file' });
    writeFileSync(path('tls.key'), serving1.keyPem);
    const pairError = await waitFor((l) => l['code'] === 'CERTIFICATE_INVALID' && l['name'] === 'kubelet-server-cert-files');
    expect(pairError).toMatchObject({ level: 50, field: '--tls-private-key-file' });
    expect(await get(b.client)).toMatchObject({ status: 200, serverCert: fingerprint(serving2.certPem) });
    expect((await get(a.client)).status).toBe(401);
    // Good content again is picked up.
    const back = nextChange(ca);
    writeFileSync(path('ca.crt'), `${a.caPem}${b.caPem}`);
    await back;
    expect((await get(a.client)).status).toBe(200);
    expect((await get(b.client)).status).toBe(200);
  });
});
