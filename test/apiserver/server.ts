import { randomBytes } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ServiceAllocator } from './admission/index.js';
import { bootstrap } from './bootstrap.js';
import { generateCerts } from './certs.js';
import type { ControllerLoop } from './controllers/loop.js';
import { startEndpointSliceController } from './controllers/endpointslices.js';
import { startEndpointsController } from './controllers/endpoints.js';
import { startNamespaceController } from './controllers/namespaces.js';
import { startNodeController } from './controllers/nodes.js';
import { startScheduler } from './controllers/scheduler.js';
import { Faults } from './faults.js';
import { notFoundText, serveDiscovery, SERVER_VERSION } from './handlers/discovery.js';
import { serveOpenApi } from './handlers/openapi.js';
import { serveResource, unknownResource, type ResourceEnv } from './handlers/resource.js';
import { serveSpecial, type ReviewHooks } from './handlers/special.js';
import { readBody, sendError, sendJson, type Request } from './http.js';
import { writeKubeconfigFile } from './kubeconfig.js';
import { decodeProtobufObject } from './proto.js';
import { Registry } from './registry.js';
import { route } from './router.js';
import { minorOf, versionBody } from './versions.js';
import { ApiError, unauthorized } from './status.js';
import { Store } from './store.js';
import { decodeToken } from './tokens.js';
import { bootstrapTokenUser, clientCertUser, createBootstrapToken, stampCsrRequester } from './certificates/auth.js';
import { startCsrController } from './certificates/controller.js';
import { kubeletAgent, kubeletRoute, serveNodeProxy, servePodLog } from './kubelet/proxy.js';
import { handleUpgrade, resolveStream } from './kubelet/upgrade.js';
import { authorize, isRestrictedUser, requestAttributes } from './authz/index.js';
import { issueClientCertificate } from './certs.js';

/** Options of {@link startTestApiServer}. */
export interface TestApiServerOptions {
  /** Bearer token clients must send (default: random). */
  token?: string;
  /** Events kept for resuming watches (default 2000). */
  historySize?: number;
  /** BOOKMARK interval for watches that ask for them (default 5000 ms). */
  bookmarkIntervalMs?: number;
  /** Run the EndpointSlice and Endpoints controllers (default true). */
  endpointSliceController?: boolean;
  /** Run the node taint/label controller (default true). */
  nodeController?: boolean;
  /** Run the simple scheduler binding node-less pods to Ready nodes (default true). */
  scheduler?: boolean;
  /** Answers for TokenReview / SubjectAccessReview. */
  reviews?: ReviewHooks;
  /**
   * Address to listen on (default 127.0.0.1). Use `0.0.0.0` or the docker0 address (172.17.0.1, in the serving
   * certificate) when pods must reach the server through `default/kubernetes`. Never a non-local address.
   */
  listenHost?: string;
  /** Address published in `default/kubernetes` endpoints (default: listenHost, or 127.0.0.1 for 0.0.0.0). */
  advertiseAddress?: string;
  /**
   * Emulate an older kube-apiserver (e.g. `v1.24.17`): /version reports it and the Pod/Node fields added after it are
   * unknown (strategic-merge patches carrying them fail with upstream's 500, other writes drop them). See versions.ts.
   */
  version?: string;
}

/** A running test API server. */
export interface TestApiServer {
  /** `https://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  readonly caCertPem: string;
  readonly token: string;
  /** A kubeconfig for this server, written to a private temp dir (removed by stop()). */
  readonly kubeconfigPath: string;
  /**
   * Creates a bootstrap token (Secret `kube-system/bootstrap-token-<id>`, as `kubeadm token create`) and writes a
   * kubeconfig using it to `path` (TLS bootstrap). Returns the token.
   */
  writeBootstrapKubeconfig(path: string): string;
  /**
   * The CA (PEM file) that signed the client certificate this server presents to kubelets
   * (CN=kube-apiserver-kubelet-client, O=system:masters): pass it to nodelet as `--client-ca-file`.
   */
  readonly kubeletClientCaPath: string;
  /** Writes another copy of the kubeconfig (e.g. with a default namespace). */
  writeKubeconfig(path: string, opts?: { namespace?: string }): void;
  /**
   * A kubeconfig (in this server's temp dir, made once per user) authenticating with a client certificate
   * CN=`username`, O=`groups` signed by the server's CA — e.g. `system:node:<name>` in `system:nodes` (authorized by
   * the Node authorizer and NodeRestriction) or `system:kube-proxy` (RBAC `system:node-proxier`). Returns its path.
   */
  userKubeconfig(username: string, groups?: string[]): string;
  readonly faults: Faults;
  readonly store: Store;
  readonly registry: Registry;
  /** `METHOD path?query` of every request served (most recent last, bounded). */
  readonly requests: string[];
  /** Closes all connections and the listener, stops controllers, removes the temp dir. Idempotent. */
  stop(): Promise<void>;
  /** Simulates an apiserver restart: all connections drop, the port is closed for `downtimeMs`, data is kept. */
  restart(downtimeMs?: number): Promise<void>;
}

function isWatch(q: URLSearchParams): boolean {
  return q.get('watch') === 'true' || q.get('watch') === '1';
}

/**
 * Request bodies of POST/PUT/DELETE may be JSON, YAML or (for the kinds kubectl's typed clients send) protobuf;
 * they are converted to JSON here. Anything else is 415 UnsupportedMediaType.
 */
function normalizeBody(method: string, req: IncomingMessage, body: Buffer): Buffer {
  if (method === 'PATCH' || method === 'GET' || body.length === 0) return body;
  const ct = String(req.headers['content-type'] ?? 'application/json').split(';')[0]!.trim();
  if (ct === 'application/json' || ct === '' || ct === '*/*') return body;
  if (ct === 'application/yaml') {
    try {
      return Buffer.from(JSON.stringify(parseYaml(body.toString('utf8'))));
    } catch {
      return body;
    }
  }
  if (ct === 'application/vnd.kubernetes.protobuf') return Buffer.from(JSON.stringify(decodeProtobufObject(body)));
  throw new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml`);
}

const PUBLIC_PATHS = new Set(['/healthz', '/livez', '/readyz', '/version']);

/**
 * Starts a faithful in-process Kubernetes API server on 127.0.0.1 (random port, TLS, bearer-token auth). See
 * test/apiserver/README.md for what it implements and where it differs from kube-apiserver.
 */
export async function startTestApiServer(opts: TestApiServerOptions = {}): Promise<TestApiServer> {
  const certs = generateCerts();
  const token = opts.token ?? randomBytes(24).toString('hex');
  const store = new Store({ historySize: opts.historySize });
  const registry = new Registry(store, { store, now: () => new Date(), allocator: new ServiceAllocator() });
  const watches = new Set<ServerResponse>();
  const faults = new Faults(store, watches);
  const sockets = new Set<Socket>();
  const requests: string[] = [];
  const env: ResourceEnv = { registry, watches, faults, bookmarkIntervalMs: opts.bookmarkIntervalMs ?? 5000, now: () => Date.now(), serverMinor: minorOf(opts.version) };
  const listenHost = opts.listenHost ?? '127.0.0.1';
  const advertise = opts.advertiseAddress ?? (listenHost === '0.0.0.0' ? '127.0.0.1' : listenHost);
  let serverAddress = `${advertise}:0`;

  // CSR creates carry the requester (client certificate or bootstrap token user; else the admin).
  const csrBody = (method: string, path: string, req: IncomingMessage, body: Buffer): Buffer => {
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const user = (bearer === undefined ? undefined : bootstrapTokenUser(registry, bearer, Date.now())) ?? clientCertUser(req);
    return stampCsrRequester(method, path, body, user);
  };
  const authenticated = (req: IncomingMessage): boolean => {
    const h = req.headers.authorization ?? '';
    const m = /^Bearer\s+(\S+)$/i.exec(h);
    if (!m) return clientCertUser(req) !== undefined;
    if (bootstrapTokenUser(registry, m[1]!, Date.now()) !== undefined) return true;
    if (m[1] === token) return true;
    const claims = decodeToken(m[1]!);
    return claims !== undefined && typeof claims.exp === 'number' && claims.exp > Date.now() / 1000 && String(claims.sub ?? '').startsWith('system:serviceaccount:');
  };

  const agent = kubeletAgent({ certPem: certs.kubeletClientCertPem, keyPem: certs.kubeletClientKeyPem });
  const upgradeSockets = new Set<import('node:stream').Duplex>();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'https://localhost');
    const method = req.method ?? 'GET';
    requests.push(`${method} ${url.pathname}${url.search}`);
    if (requests.length > 5000) requests.splice(0, requests.length - 5000);
    try {
      const body = await readBody(req);
      const fault = faults.check(method, url.pathname, isWatch(url.searchParams));
      if (fault.delayMs > 0) await new Promise((r) => setTimeout(r, fault.delayMs));
      if (fault.error) {
        if (fault.retryAfter) res.setHeader('retry-after', '1');
        throw fault.error;
      }
      if (!PUBLIC_PATHS.has(url.pathname) && !authenticated(req)) throw unauthorized();
      // Node and kube-proxy identities (client certificates) are authorized as on a real cluster; others may do anything.
      const certUser = clientCertUser(req);
      const user = isRestrictedUser(certUser) ? certUser : undefined;
      if (user !== undefined) authorize(store, requestAttributes(user, method, url.pathname, url.searchParams), env.serverMinor);
      const toKubelet = kubeletRoute(url.pathname) !== undefined; // bodies go to the kubelet as they are
      const r: Request = { method, path: url.pathname, query: url.searchParams, headers: req.headers, body: toKubelet ? body : csrBody(method, url.pathname, req, normalizeBody(method, req, body)), raw: req, res, user };
      dispatch(r);
    } catch (e) {
      sendError(res, e);
    }
  };

  const dispatch = (r: Request): void => {
    const p = r.path.replace(/\/+$/, '') || '/';
    if (p === '/version') return sendJson(r.res, 200, opts.version === undefined ? SERVER_VERSION : versionBody(opts.version));
    if (p === '/healthz' || p === '/livez' || p === '/readyz') {
      r.res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
      r.res.end('ok');
      return;
    }
    if (p.startsWith('/openapi/')) return serveOpenApi(r.res, p);
    const kr = kubeletRoute(r.path);
    if (kr?.kind === 'log') return servePodLog(r, registry, agent, kr.namespace, kr.name);
    if (kr?.kind === 'nodeProxy') return serveNodeProxy(r, registry, agent, kr.node, kr.rest);
    if (kr !== undefined) {
      resolveStream(registry, r.method, kr.kind, kr.namespace, kr.name, r.query);
      throw new ApiError(400, 'BadRequest', 'Upgrade request required');
    }
    const rt = route(p);
    if (rt.kind === 'discovery') {
      if (!serveDiscovery(r.res, serverAddress, rt.group, rt.version, rt.legacy)) throw unknownResource();
      return;
    }
    if (rt.kind === 'unknownResource') throw unknownResource();
    if (rt.kind === 'other') return notFoundText(r.res);
    if (serveSpecial(r, rt.target, registry, opts.reviews ?? {}, token, new Date(), env.serverMinor)) return;
    serveResource(r, rt.target, env);
  };

  /** Requests served per connection (to find reused ones for Faults.resetReusedConnections). */
  const served = new WeakMap<Socket, number>();
  const server: Server = createServer({ key: certs.keyPem, cert: certs.certPem, requestCert: true, rejectUnauthorized: false, ca: certs.caCertPem }, (req, res) => {
    const n = (served.get(req.socket) ?? 0) + 1;
    served.set(req.socket, n);
    if (n > 1 && faults.takeResetReused()) {
      req.socket.destroy();
      return;
    }
    void handle(req, res);
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('tlsClientError', () => undefined);
  server.on('upgrade', (req: IncomingMessage, socket: import('node:stream').Duplex, head: Buffer) => {
    requests.push(`${req.method ?? 'GET'} ${req.url ?? '/'}`);
    handleUpgrade(
      {
        registry,
        agent,
        // Authenticated, and (for node and kube-proxy identities) authorized: a refusal throws the 403.
        authenticated: (r: IncomingMessage): boolean => {
          if (!authenticated(r)) return false;
          const u = clientCertUser(r);
          const url = new URL(r.url ?? '/', 'https://localhost');
          if (isRestrictedUser(u)) authorize(store, requestAttributes(u, r.method ?? 'GET', url.pathname, url.searchParams), env.serverMinor);
          return true;
        },
        track: (sock) => {
          upgradeSockets.add(sock);
          sock.on('close', () => upgradeSockets.delete(sock));
        },
      },
      req,
      socket,
      head,
    );
  });
  const listen = (port: number): Promise<number> =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, listenHost, () => {
        server.off('error', reject);
        const addr = server.address();
        resolve(typeof addr === 'object' && addr !== null ? addr.port : port);
      });
    });
  const close = (): Promise<void> =>
    new Promise((resolve) => {
      for (const w of [...watches]) w.destroy();
      watches.clear();
      for (const s of sockets) s.destroy();
      sockets.clear();
      for (const s of upgradeSockets) s.destroy();
      upgradeSockets.clear();
      if (!server.listening) {
        resolve();
        return;
      }
      server.close(() => resolve());
    });

  const port = await listen(0);
  serverAddress = `${advertise}:${port}`;
  const url = `https://${listenHost === '0.0.0.0' ? '127.0.0.1' : listenHost}:${port}`;
  bootstrap(registry, port, advertise);
  const loops: ControllerLoop[] = [startNamespaceController(registry, certs.caCertPem), startCsrController(registry, certs)];
  if (opts.nodeController !== false) loops.push(startNodeController(registry));
  if (opts.endpointSliceController !== false) loops.push(startEndpointSliceController(registry), startEndpointsController(registry));
  if (opts.scheduler !== false) loops.push(startScheduler(registry));
  await new Promise((r) => setImmediate(r));

  const dir = mkdtempSync(join(tmpdir(), 'nodelet-apiserver-'));
  const kubeconfigPath = join(dir, 'kubeconfig');
  const writeKubeconfig = (path: string, o: { namespace?: string } = {}): void =>
    writeKubeconfigFile(path, { server: url, caCertPem: certs.caCertPem, token, namespace: o.namespace });
  writeKubeconfig(kubeconfigPath);
  const userKubeconfigs = new Map<string, string>();
  const userKubeconfig = (username: string, groups: string[] = []): string => {
    const key = JSON.stringify([username, ...groups]);
    let path = userKubeconfigs.get(key);
    if (path === undefined) {
      path = join(dir, `user-${userKubeconfigs.size}.kubeconfig`);
      writeKubeconfigFile(path, { server: url, caCertPem: certs.caCertPem, clientCert: issueClientCertificate(certs, username, groups), name: username.replace(/[^A-Za-z0-9-]/g, '-') });
      userKubeconfigs.set(key, path);
    }
    return path;
  };
  const kubeletClientCaPath = join(dir, 'kubelet-client-ca.crt');
  writeFileSync(kubeletClientCaPath, certs.caCertPem);
  let stopped = false;

  return {
    url,
    port,
    caCertPem: certs.caCertPem,
    token,
    kubeconfigPath,
    kubeletClientCaPath,
    writeKubeconfig,
    userKubeconfig,
    writeBootstrapKubeconfig(path: string): string {
      const bootstrapToken = createBootstrapToken(registry);
      writeKubeconfigFile(path, { server: url, caCertPem: certs.caCertPem, token: bootstrapToken, name: 'bootstrap' });
      return bootstrapToken;
    },
    faults,
    store,
    registry,
    requests,
    async stop() {
      if (stopped) return;
      stopped = true;
      for (const l of loops) l.stop();
      await close();
      agent.destroy();
      rmSync(dir, { recursive: true, force: true });
    },
    async restart(downtimeMs = 0) {
      if (stopped) throw new ApiError(500, 'InternalError', 'server stopped');
      await close();
      if (downtimeMs > 0) await new Promise((r) => setTimeout(r, downtimeMs));
      await listen(port);
    },
  };
}
