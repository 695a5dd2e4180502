import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import type { ContainerRuntime } from '../../../cri/types.js';
import { FakeClock } from '../../../util/clock.js';
import { silentLogger } from '../../../util/logger.js';
import { HealthChecks } from '../health.js';
import type { RequestAttributes } from './attributes.js';
import { createAuthenticator } from './authn.js';
import type { RequestAuthorizer } from './authz.js';
import { createSelfSigned, staticCertificateSource, staticClientCA, type CertificatePair } from './certificate.js';
import { createApiHandler, type ApiHandlerOptions } from './handler.js';
import { startKubeletApiServer, type KubeletApiServer } from './server.js';
import type { KubeletPodLookup, StreamRoute } from './types.js';

/** A CA and client certificates it signed (CN=`cn`, O=`o`; and CN=nobody), made with openssl in a temp dir. */
function clientPki(cn: string, o: string): { caPem: string; client: CertificatePair; nobody: CertificatePair } {
  const dir = mkdtempSync(join(tmpdir(), 'nl1-pki-'));
  try {
    const ossl = (...args: string[]): void => {
      const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
    };
    ossl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=test-ca');
    ossl('req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'c.key', '-out', 'c.csr', '-subj', `/O=${o}/CN=${cn}`);
    ossl('x509', '-req', '-in', 'c.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'c.crt', '-days', '1');
    ossl('req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'n.key', '-out', 'n.csr', '-subj', '/CN=nobody');
    ossl('x509', '-req', '-in', 'n.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'n.crt', '-days', '1');
    const f = (n: string): string => readFileSync(join(dir, n), 'utf8');
    return { caPem: f('ca.crt'), client: { certPem: f('c.crt'), keyPem: f('c.key') }, nobody: { certPem: f('n.crt'), keyPem: f('n.key') } };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const POD: V1Pod = { metadata: { name: 'web', namespace: 'ns', uid: 'u1' }, spec: { containers: [{ name: 'app' }] }, status: { containerStatuses: [{ name: 'app', image: 'i', imageID: '', ready: true, restartCount: 0, containerID: 'docker://c1', state: { running: {} } }] } };

const lookup: KubeletPodLookup = {
  pods: () => [POD],
  findPod: (ns, name) => (ns === 'ns' && name === 'web' ? POD : undefined),
  resolveContainer: (ns, name, c) => Promise.resolve(ns === 'ns' && name === 'web' && c === 'app' ? { pod: POD, containerName: 'app', containerId: 'c1', previousContainerId: undefined, sandboxId: 's1' } : undefined),
};

const runtime = {
  readLogs: (_id: string, o: { tailLines?: number }, out: NodeJS.WritableStream) => {
    out.write(o.tailLines === 1 ? 'two\n' : 'one\ntwo\n');
    return Promise.resolve();
  },
  execSync: (_id: string, cmd: string[]) => Promise.resolve({ exitCode: 0, stdout: `ran ${cmd.join('+')}\n`, stderr: '' }),
  listPodSandboxes: () => Promise.resolve([]),
  listContainers: () => Promise.resolve([]),
  containerStatus: () => Promise.reject(new Error('unused')),
} as unknown as ContainerRuntime;

/** Allows users whose name starts with "ok", recording what was asked. */
const asked: RequestAttributes[] = [];
const authorizer: RequestAuthorizer = { authorize: (a) => (asked.push(a), Promise.resolve({ allowed: a.user.name.startsWith('ok') })) };

let server: KubeletApiServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
  asked.length = 0;
});

async function start(o: Partial<ApiHandlerOptions> = {}, readOnly = false): Promise<{ caPem: string; client: CertificatePair; nobody: CertificatePair; denied: CertificatePair }> {
  const pki = clientPki('ok-apiserver', 'system:masters');
  const other = clientPki('nobody', 'x');
  const denied = { certPem: other.client.certPem, keyPem: other.client.keyPem };
  const registry = new Registry();
  registry.setDefaultLabels({});
  const handler = createApiHandler({
    nodeName: 'n1',
    authenticator: createAuthenticator({ x509: true, tokenReviews: undefined, cacheTTLMs: 0, anonymous: false, clock: new FakeClock(), logger: silentLogger() }),
    authorizer,
    lookup,
    runtime,
    logBackend: 'engine',
    checks: new HealthChecks(),
    registry,
    configz: () => ({ port: 10250 }),
    enableDebuggingHandlers: true,
    enableSystemLogHandler: true,
    runTimeoutSeconds: 5,
    clock: new FakeClock(),
    logger: silentLogger(),
    ...o,
  });
  server = await startKubeletApiServer({
    address: '127.0.0.1',
    port: 0,
    readOnlyPort: 0,
    readOnlyEphemeral: readOnly,
    certificates: staticCertificateSource(createSelfSigned('n1', ['127.0.0.1'], Date.now())),
    clientCA: staticClientCA(pki.caPem),
    tls: { minVersion: 'TLSv1.2' },
    handler,
    logger: silentLogger(),
  });
  return { ...pki, denied };
}

function get(path: string, o: { cert?: CertificatePair; method?: string; body?: string } = {}): Promise<{ status: number; body: string; type: string }> {
  return new Promise((resolve, reject) => {
    const r = request({ host: '127.0.0.1', port: server?.port, path, method: o.method ?? 'GET', rejectUnauthorized: false, ...(o.cert === undefined ? {} : { cert: o.cert.certPem, key: o.cert.keyPem }) }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, type: String(res.headers['content-type']) }));
    });
    r.on('error', reject);
    r.end(o.body);
  });
}

describe('kubelet API server', () => {
  it('answers 401 without credentials and 403 with upstream bodies for a user without rights', async () => {
    const { denied, nobody } = await start();
    expect(await get('/pods')).toMatchObject({ status: 401, body: 'Unauthorized' });
    expect(await get('/pods', { cert: nobody })).toMatchObject({ status: 403, body: 'Forbidden (user=nobody, verb=get, resource=nodes, subresource(s)=[pods proxy])\n' });
    expect(await get('/containerLogs/ns/web/app', { cert: nobody })).toMatchObject({ status: 403, body: 'Forbidden (user=nobody, verb=get, resource=nodes, subresource(s)=[proxy])\n' });
    asked.length = 0;
    // A certificate from another CA does not verify: it is no identity at all.
    expect(await get('/pods', { cert: denied })).toMatchObject({ status: 401 });
    expect(asked).toHaveLength(0);
  });

  it('authenticates the client certificate (CN/O) and serves the endpoints', async () => {
    const { client } = await start();
    const pods = await get('/pods', { cert: client });
    expect(pods.status).toBe(200);
    expect(JSON.parse(pods.body)).toMatchObject({ kind: 'PodList', apiVersion: 'v1', items: [{ metadata: { name: 'web' } }] });
    expect(asked[0]).toMatchObject({ user: { name: 'ok-apiserver', groups: ['system:masters', 'system:authenticated'] }, verb: 'get', subresources: ['pods', 'proxy'], name: 'n1' });
    expect(await get('/healthz', { cert: client })).toMatchObject({ status: 200, body: 'ok' });
    expect(JSON.parse((await get('/configz', { cert: client })).body)).toEqual({ kubeletconfig: { port: 10250 } });
    expect(await get('/containerLogs/ns/web/app', { cert: client })).toMatchObject({ status: 200, body: 'one\ntwo\n' });
    expect(await get('/containerLogs/ns/web/app?tailLines=1', { cert: client })).toMatchObject({ status: 200, body: 'two\n' });
    expect(await get('/run/ns/web/app', { cert: client, method: 'POST', body: 'cmd=echo%20hi' })).toMatchObject({ status: 200, body: 'ran echo+hi\n' });
    expect(await get('/runningpods/', { cert: client })).toMatchObject({ status: 200 });
    expect((await get('/metrics/probes', { cert: client })).status).toBe(200);
  });

  it('answers 404 Status bodies for unknown pods and containers, 400 text for bad options', async () => {
    const { client } = await start();
    const pod = await get('/containerLogs/ns/nope/app', { cert: client });
    expect(pod.status).toBe(404);
    expect(JSON.parse(pod.body)).toEqual({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'pod "nope" does not exist', reason: 'NotFound', code: 404 });
    expect(JSON.parse((await get('/containerLogs/ns/web/nope', { cert: client })).body)).toMatchObject({ code: 404, message: 'container "nope" not found in pod "web"' });
    expect(await get('/containerLogs/ns/web/app?previous=true', { cert: client })).toMatchObject({ status: 400, body: 'previous terminated container "app" in pod "web" not found' });
    expect(await get('/containerLogs/ns/web/app?tailLines=-3', { cert: client })).toMatchObject({ status: 400 });
    expect(await get('/nothing/here', { cert: client })).toMatchObject({ status: 404 });
    expect(await get('/stats/summary', { cert: client })).toMatchObject({ status: 404 });
    expect(await get('/exec/ns/web/app?command=ls', { cert: client, method: 'POST' })).toMatchObject({ status: 501 });
  });

  it('delegates stats and streaming (plain and upgrade) after authorization, refusing unauthenticated upgrades', async () => {
    const routes: StreamRoute[] = [];
    const { client } = await start({
      stats: { handle: (_req, res, path) => (path === '/stats/summary' ? (res.end('{"node":{}}'), true) : false) },
      streaming: {
        handleRequest: (_req, res, route) => (routes.push(route), res.writeHead(400).end('upgrade required')),
        handleUpgrade: (_req, socket, _head, route) => (routes.push(route), socket.end('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n\r\n')),
      },
    });
    expect(await get('/stats/summary', { cert: client })).toMatchObject({ status: 200, body: '{"node":{}}' });
    expect(asked.at(-1)?.subresources).toEqual(['stats']);
    expect(await get('/portForward/ns/web', { cert: client })).toMatchObject({ status: 400 });
    const upgrade = (cert?: CertificatePair): Promise<number> =>
      new Promise((resolve, reject) => {
        const r = request({ host: '127.0.0.1', port: server?.port, path: '/exec/ns/web/u1/app?command=sh&stdin=1', method: 'POST', rejectUnauthorized: false, headers: { connection: 'Upgrade', upgrade: 'SPDY/3.1' }, ...(cert === undefined ? {} : { cert: cert.certPem, key: cert.keyPem }) });
        r.on('upgrade', (res, socket) => (socket.destroy(), resolve(res.statusCode ?? 0)));
        r.on('response', (res) => (res.resume(), resolve(res.statusCode ?? 0)));
        r.on('error', reject);
        r.end();
      });
    expect(await upgrade()).toBe(401);
    expect(await upgrade(client)).toBe(101);
    expect(routes.at(-1)).toMatchObject({ kind: 'exec', namespace: 'ns', pod: 'web', uid: 'u1', container: 'app' });
    expect(routes.at(-1)?.query.get('command')).toBe('sh');
    expect(asked.at(-1)).toMatchObject({ verb: 'create', subresources: ['proxy'] });
  });

  it('disables the debugging handlers when asked (405, as upstream)', async () => {
    const { client } = await start({ enableDebuggingHandlers: false });
    expect(await get('/containerLogs/ns/web/app', { cert: client })).toMatchObject({ status: 405, body: 'Debug endpoints are disabled.\n' });
    expect(await get('/pods', { cert: client })).toMatchObject({ status: 200 });
  });

  it('serves only read-only endpoints, without authentication, on the read-only port', async () => {
    await start({}, true);
    const plain = (path: string): Promise<number> =>
      new Promise((resolve, reject) => {
        const r = httpRequest({ host: '127.0.0.1', port: server?.readOnlyPort, path }, (res) => (res.resume(), resolve(res.statusCode ?? 0)));
        r.on('error', reject);
        r.end();
      });
    expect(await plain('/pods')).toBe(200);
    expect(await plain('/healthz')).toBe(200);
    expect(await plain('/metrics')).toBe(200);
    expect(await plain('/containerLogs/ns/web/app')).toBe(404);
    expect(await plain('/configz')).toBe(404);
    expect(asked).toHaveLength(0);
  });

  it('closes upgraded connections on close()', async () => {
    const { client } = await start({
      streaming: { handleRequest: () => undefined, handleUpgrade: (_r, socket) => void socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: x\r\n\r\n') },
    });
    const closed = new Promise<void>((resolve, reject) => {
      const r = request({ host: '127.0.0.1', port: server?.port, path: '/attach/ns/web/app', rejectUnauthorized: false, headers: { connection: 'Upgrade', upgrade: 'x' }, cert: client.certPem, key: client.keyPem });
      r.on('upgrade', (_res, socket) => {
        socket.on('close', () => resolve());
        void server?.close();
      });
      r.on('error', reject);
      r.end();
    });
    await closed;
  });
});
