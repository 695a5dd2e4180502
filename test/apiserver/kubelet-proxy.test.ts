/**
 * pods/log, pods/exec|attach|portforward and nodes/proxy of the test API server, against a recording fake kubelet.
 * Expected answers were recorded from kube-apiserver v1.33.3 (../shared/k8s) with the same fake kubelet behind it.
 */
import { request } from 'node:https';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startTestApiServer, type TestApiServer } from './server.js';
import { raw } from './testing.js';
import { startFakeKubelet, type FakeKubelet } from './kubelet/fake-kubelet.js';
import { readFileSync } from 'node:fs';

// Ports from this suite's block (20310-20319). nodes/proxy refuses loopback kubelets, so the proxied one listens on
// docker0's address (on this machine).
const HOST = '172.17.0.1';
const PORT = 20310;
const LOOP_PORT = 20311;
const CLOSED_PORT = 20312;

let s: TestApiServer;
let kubelet: FakeKubelet;
let loopKubelet: FakeKubelet;

async function node(name: string, address: string, port: number): Promise<void> {
  expect((await raw(s, 'POST', '/api/v1/nodes', { body: { apiVersion: 'v1', kind: 'Node', metadata: { name } } })).status).toBe(201);
  const st = await raw(s, 'PATCH', `/api/v1/nodes/${name}/status`, {
    body: { status: { addresses: [{ type: 'InternalIP', address }, { type: 'Hostname', address: name }], daemonEndpoints: { kubeletEndpoint: { Port: port } } } },
    contentType: 'application/merge-patch+json',
  });
  expect(st.status).toBe(200);
}

async function pod(name: string, nodeName: string | undefined, containers: string[]): Promise<void> {
  const spec: Record<string, unknown> = { containers: containers.map((c) => ({ name: c, image: 'busybox' })) };
  if (nodeName) spec.nodeName = nodeName;
  else spec.nodeSelector = { never: 'matches' };
  expect((await raw(s, 'POST', '/api/v1/namespaces/default/pods', { body: { apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec } })).status).toBe(201);
}

beforeAll(async () => {
  s = await startTestApiServer();
  const ca = readFileSync(s.kubeletClientCaPath, 'utf8');
  kubelet = await startFakeKubelet(HOST, PORT, ca);
  loopKubelet = await startFakeKubelet('127.0.0.1', LOOP_PORT, ca);
  await node('nl3-n1', HOST, PORT);
  await node('nl3-loop', '127.0.0.1', LOOP_PORT);
  await node('nl3-down', HOST, CLOSED_PORT);
  await pod('p1', 'nl3-n1', ['a']);
  await pod('p2', 'nl3-n1', ['a', 'b']);
  await pod('ploop', 'nl3-loop', ['a']);
  await pod('pdown', 'nl3-down', ['a']);
  await pod('pghost', 'nl3-missing', ['a']);
  await pod('unsched', undefined, ['a']);
}, 60_000);
afterAll(async () => {
  await kubelet?.stop();
  await loopKubelet?.stop();
  await s?.stop();
});

const last = (k: FakeKubelet): FakeKubelet['requests'][number] => k.requests[k.requests.length - 1]!;

describe('pods/log', () => {
  it('forwards to /containerLogs with the kubelet client certificate and the PodLogOptions query', async () => {
    const r = await raw(s, 'GET', '/api/v1/namespaces/default/pods/p1/log?follow=true&previous=true&sinceSeconds=10&timestamps=true&tailLines=5&limitBytes=100', { accept: '*/*' });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('text/plain');
    expect(r.text).toBe('ok /containerLogs/default/p1/a?follow=true&limitBytes=100&previous=true&sinceSeconds=10&tailLines=5&timestamps=true');
    expect(last(kubelet).subject).toEqual({ CN: 'kube-apiserver-kubelet-client', O: 'system:masters' });
    expect(last(kubelet).headers.authorization).toBeUndefined();
    // loopback kubelet addresses are fine for logs (only nodes/proxy refuses them)
    expect((await raw(s, 'GET', '/api/v1/namespaces/default/pods/ploop/log')).text).toBe('ok /containerLogs/default/ploop/a');
  });

  it('streams a followed log and stops the kubelet request when the client goes away', async () => {
    let kubeletClosed = false;
    const original = kubelet.respond;
    kubelet.respond = (req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('line 1\n');
      req.socket.on('close', () => (kubeletClosed = true));
    };
    try {
      const first = await new Promise<string>((resolve, reject) => {
        const req = request(`${s.url}/api/v1/namespaces/default/pods/p1/log?follow=true`, { headers: { authorization: `Bearer ${s.token}` }, ca: s.caCertPem }, (res) => {
          res.once('data', (c: Buffer) => {
            resolve(c.toString());
            req.destroy();
          });
        });
        req.on('error', (e) => (String(e).includes('socket hang up') ? undefined : reject(e)));
        req.end();
      });
      expect(first).toBe('line 1\n');
      await expect.poll(() => kubeletClosed, { timeout: 5000 }).toBe(true);
    } finally {
      kubelet.respond = original;
    }
  });

  it('answers bad requests as the real server', async () => {
    const get = (q: string): ReturnType<typeof raw> => raw(s, 'GET', `/api/v1/namespaces/default/pods/${q}`);
    expect((await get('p2/log')).body).toMatchObject({ code: 400, reason: 'BadRequest', message: 'a container name must be specified for pod p2, choose one of: [a b]' });
    expect((await get('p2/log?container=zz')).body).toMatchObject({ code: 400, message: 'container zz is not valid for pod p2' });
    expect((await get('nope/log')).body).toMatchObject({ code: 404, message: 'pods "nope" not found' });
    expect((await get('p1/log?tailLines=-1')).body).toEqual({
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure',
      message: 'PodLogOptions "p1" is invalid: tailLines: Invalid value: -1: must be greater than or equal to 0',
      reason: 'Invalid',
      details: { name: 'p1', kind: 'PodLogOptions', causes: [{ reason: 'FieldValueInvalid', message: 'Invalid value: -1: must be greater than or equal to 0', field: 'tailLines' }] },
      code: 422,
    });
    expect((await get('p1/log?sinceSeconds=1&sinceTime=2020-01-01T00:00:00Z')).body.message).toBe('PodLogOptions "p1" is invalid: []: Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified');
    expect((await get('p1/log?limitBytes=0')).body.message).toBe('PodLogOptions "p1" is invalid: limitBytes: Invalid value: 0: must be greater than 0');
    expect((await get('p1/log?tailLines=abc')).body).toMatchObject({ code: 400, message: 'strconv.ParseInt: parsing "abc": invalid syntax' });
    expect((await get('p1/log?stream=Stdout')).body.message).toBe('PodLogOptions "p1" is invalid: stream: Forbidden: may not be specified');
    expect((await raw(s, 'POST', '/api/v1/namespaces/default/pods/p1/log', { body: {} })).body).toMatchObject({ code: 405, reason: 'MethodNotAllowed', details: {} });
  });

  it('gives an empty 200 for a pod without a node, and the real errors for missing nodes and dead kubelets', async () => {
    const un = await raw(s, 'GET', '/api/v1/namespaces/default/pods/unsched/log');
    expect([un.status, un.text]).toEqual([200, '']);
    expect((await raw(s, 'GET', '/api/v1/namespaces/default/pods/pghost/log')).body).toMatchObject({ code: 404, reason: 'NotFound', message: 'pods "nl3-missing" not found', details: { name: 'nl3-missing', kind: 'pods' } });
    const down = await raw(s, 'GET', '/api/v1/namespaces/default/pods/pdown/log');
    expect(down.body).toEqual({
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure',
      message: `Get "https://${HOST}:${CLOSED_PORT}/containerLogs/default/pdown/a": dial tcp ${HOST}:${CLOSED_PORT}: connect: connection refused`,
      code: 500,
    });
  });

  it('maps kubelet errors like the pods/log response checker', async () => {
    const cases: [number, string, object][] = [
      [404, 'pod not found here', { code: 404, reason: 'NotFound', message: 'the server could not find the requested resource ( pods/log p1)', details: { name: 'p1', kind: 'pods/log' } }],
      [500, 'boom internal', { code: 500, reason: 'InternalError', message: 'Internal error occurred: boom internal', details: { causes: [{ message: 'boom internal' }] } }],
      [403, 'Forbidden (user=x, verb=get)', { code: 403, reason: 'Forbidden', message: 'Forbidden (user=x, verb=get) ( pods/log p1)' }],
      [400, 'container "a" in pod "p1" is waiting to start: ContainerCreating', { code: 400, reason: 'BadRequest', message: 'container "a" in pod "p1" is waiting to start: ContainerCreating' }],
    ];
    const original = kubelet.respond;
    try {
      for (const [code, text, want] of cases) {
        kubelet.respond = (_req, res) => {
          res.writeHead(code, { 'content-type': 'text/plain' });
          res.end(text);
        };
        const r = await raw(s, 'GET', '/api/v1/namespaces/default/pods/p1/log');
        expect(r.status).toBe(code);
        expect(r.body).toMatchObject(want);
      }
    } finally {
      kubelet.respond = original;
    }
  });
});

describe('nodes/proxy', () => {
  it('passes method, path, query, body and the answer through', async () => {
    const r = await raw(s, 'POST', '/api/v1/nodes/nl3-n1/proxy/foo/bar?x=1&y=a%20b', { body: 'xyz', contentType: 'text/plain' });
    expect(r.status).toBe(200);
    expect(r.headers['x-fake']).toBe('1');
    expect(r.text).toBe('ok /foo/bar?x=1&y=a+b');
    const rec = last(kubelet);
    expect(rec).toMatchObject({ method: 'POST', body: 'xyz', subject: { CN: 'kube-apiserver-kubelet-client', O: 'system:masters' } });
    expect(rec.headers['x-forwarded-uri']).toBe('/api/v1/nodes/nl3-n1/proxy/foo/bar');
    expect(rec.headers.authorization).toBeUndefined();
    expect((await raw(s, 'GET', '/api/v1/nodes/nl3-n1/proxy/stats/summary')).text).toBe('ok /stats/summary');
    expect((await raw(s, 'GET', `/api/v1/nodes/https:nl3-n1:${PORT}/proxy/pods`)).text).toBe('ok /pods');
    expect((await raw(s, 'GET', `/api/v1/nodes/nl3-n1:${PORT}/proxy/pods`)).text).toBe('ok /pods');
  });

  it('redirects .../proxy to .../proxy/ and answers errors as the real server', async () => {
    const red = await raw(s, 'GET', '/api/v1/nodes/nl3-n1/proxy?a=1');
    expect([red.status, red.headers.location]).toEqual([301, '/api/v1/nodes/nl3-n1/proxy/?a=1']);
    expect((await raw(s, 'GET', '/api/v1/nodes/nl3-loop/proxy/pods')).body).toMatchObject({ code: 400, reason: 'BadRequest', message: 'address not allowed' });
    expect((await raw(s, 'GET', '/api/v1/nodes/nope/proxy/pods')).body).toMatchObject({ code: 404, message: 'nodes "nope" not found', details: { name: 'nope', kind: 'nodes' } });
    expect((await raw(s, 'GET', '/api/v1/nodes/nl3-down/proxy/pods')).body).toMatchObject({
      code: 503,
      reason: 'ServiceUnavailable',
      message: `error trying to reach service: dial tcp ${HOST}:${CLOSED_PORT}: connect: connection refused`,
    });
    expect((await raw(s, 'GET', '/api/v1/nodes/nl3-n1/proxy/pods', { token: null })).status).toBe(401);
  });

  it('lists the kubelet subresources in discovery', async () => {
    const names = ((await raw(s, 'GET', '/api/v1')).body.resources as { name: string; verbs: string[] }[]).map((r) => r.name);
    expect(names).toEqual(expect.arrayContaining(['pods/log', 'pods/exec', 'pods/attach', 'pods/portforward', 'nodes/proxy']));
  });
});

/** Sends a raw upgrade request; resolves with the first bytes of the answer and the socket. */
function upgrade(path: string, headers: Record<string, string>, method = 'POST'): Promise<{ head: string; socket: import('node:tls').TLSSocket }> {
  const url = new URL(s.url);
  return new Promise((resolve, reject) => {
    const sock = tlsConnect({ host: url.hostname, port: Number(url.port), ca: s.caCertPem, ALPNProtocols: ['http/1.1'] }, () => {
      const lines = [`${method} ${path} HTTP/1.1`, `Host: ${url.host}`, `Authorization: Bearer ${s.token}`, 'Connection: Upgrade', 'Content-Length: 0', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
      sock.write(`${lines.join('\r\n')}\r\n\r\n`);
    });
    let buf = '';
    const onData = (c: Buffer): void => {
      buf += c.toString('latin1');
      const end = buf.indexOf('\r\n\r\n');
      if (end >= 0 && (!/Content-Length: (\d+)/i.test(buf) || buf.length >= end + 4 + Number(/Content-Length: (\d+)/i.exec(buf)![1]))) {
        sock.off('data', onData);
        resolve({ head: buf, socket: sock });
      }
    };
    sock.on('data', onData);
    sock.on('error', reject);
  });
}

describe('pods/exec, attach, portforward', () => {
  it('needs an upgrade, after the same checks as the real server', async () => {
    expect((await raw(s, 'GET', '/api/v1/namespaces/default/pods/p1/exec?command=true&stdout=true')).body).toMatchObject({ code: 400, reason: 'BadRequest', message: 'Upgrade request required' });
    expect((await raw(s, 'GET', '/api/v1/namespaces/default/pods/unsched/exec?command=true')).body).toMatchObject({ code: 400, message: 'pod unsched does not have a host assigned' });
    expect((await raw(s, 'GET', '/api/v1/namespaces/default/pods/p2/attach?stdout=true')).body).toMatchObject({ code: 400, message: 'a container name must be specified for pod p2, choose one of: [a b]' });
    expect((await raw(s, 'GET', '/api/v1/namespaces/default/pods/p1/portforward?ports=abc')).body).toMatchObject({ code: 400, message: 'cannot convert to []int32: strconv.ParseUint: parsing "abc": invalid syntax' });
    expect((await raw(s, 'GET', '/api/v1/namespaces/default/pods/nope/exec')).body).toMatchObject({ code: 404, message: 'pods "nope" not found' });
    expect((await raw(s, 'DELETE', '/api/v1/namespaces/default/pods/p1/exec')).body).toMatchObject({ code: 405, details: {} });
  });

  it('passes a SPDY exec upgrade through to /exec with the kubelet parameter names', async () => {
    const { head, socket } = await upgrade('/api/v1/namespaces/default/pods/p2/exec?command=sh&command=-c&command=echo%20hi&container=b&stdin=true&stdout=true&stderr=true&tty=true', {
      Upgrade: 'SPDY/3.1',
      'X-Stream-Protocol-Version': 'v4.channel.k8s.io',
    });
    try {
      expect(head).toMatch(/^HTTP\/1\.1 101 /);
      const rec = last(kubelet);
      expect(rec).toMatchObject({ upgrade: true, method: 'POST', url: '/exec/default/p2/b?command=sh&command=-c&command=echo+hi&error=1&input=1&output=1&tty=1' });
      expect(rec.headers['x-stream-protocol-version']).toBe('v4.channel.k8s.io');
      expect(rec.subject).toEqual({ CN: 'kube-apiserver-kubelet-client', O: 'system:masters' });
      // bytes flow both ways untouched
      const echoed = new Promise<string>((resolve) => socket.once('data', (c: Buffer) => resolve(c.toString())));
      socket.write('frame');
      expect(await echoed).toBe('echo:frame');
    } finally {
      socket.destroy();
    }
    const att = await upgrade('/api/v1/namespaces/default/pods/p1/attach?stdout=true&stderr=true', { Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': 'v4.channel.k8s.io' });
    att.socket.destroy();
    expect(last(kubelet).url).toBe('/attach/default/p1/a?error=1&output=1');
  });

  it('reports an unreachable kubelet and a refused upgrade as the real server', async () => {
    const down = await upgrade('/api/v1/namespaces/default/pods/pdown/portforward', { Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': 'portforward.k8s.io' });
    down.socket.destroy();
    expect(down.head).toMatch(/^HTTP\/1\.1 500 /);
    expect(JSON.parse(down.head.slice(down.head.indexOf('\r\n\r\n') + 4))).toEqual({
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `error dialing backend: dial tcp ${HOST}:${CLOSED_PORT}: connect: connection refused`, code: 500,
    });
    kubelet.upgradeStatus = 400;
    try {
      const refused = await upgrade('/api/v1/namespaces/default/pods/p1/portforward', { Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': 'portforward.k8s.io' });
      refused.socket.destroy();
      expect(refused.head).toMatch(/^HTTP\/1\.1 400 Bad Request[\s\S]*not upgrade$/);
    } finally {
      kubelet.upgradeStatus = undefined;
    }
  });

  it('passes a WebSocket exec with an older channel protocol (not v5) through to the kubelet as is', async () => {
    const before = kubelet.requests.length;
    const ws = new WebSocket(`${s.url.replace('https', 'wss')}/api/v1/namespaces/default/pods/p1/exec?command=true&stdout=true`, ['v4.channel.k8s.io'], { ca: s.caCertPem, headers: { authorization: `Bearer ${s.token}` } });
    await new Promise<void>((resolve) => {
      ws.on('unexpected-response', () => resolve());
      ws.on('open', () => resolve());
      ws.on('error', () => resolve());
    });
    ws.terminate();
    const rec = kubelet.requests[before]!;
    expect(rec).toMatchObject({ upgrade: true, method: 'GET', url: '/exec/default/p1/a?command=true&error=1&output=1' });
    expect(rec.headers.upgrade).toBe('websocket');
    expect(rec.headers['sec-websocket-protocol']).toBe('v4.channel.k8s.io');
    expect(rec.headers.authorization).toBeUndefined();
  });

  it('tunnels WebSocket port-forward (SPDY/3.1+portforward.k8s.io) to a SPDY upgrade of /portForward', async () => {
    const before = kubelet.requests.length;
    // kubectl's sub-protocol has a '/', which the ws client refuses to send: handshake and frames by hand.
    const { head, socket } = await upgrade('/api/v1/namespaces/default/pods/p1/portforward', {
      Upgrade: 'websocket',
      'Sec-WebSocket-Version': '13',
      'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
      'Sec-WebSocket-Protocol': 'SPDY/3.1+portforward.k8s.io',
    }, 'GET');
    try {
      expect(head).toMatch(/^HTTP\/1\.1 101 /);
      expect(head).toMatch(/Sec-WebSocket-Protocol: SPDY\/3\.1\+portforward\.k8s\.io/i);
      const rec = kubelet.requests[before]!;
      expect(rec).toMatchObject({ upgrade: true, method: 'POST', url: '/portForward/default/p1' });
      expect(rec.headers.upgrade).toBe('SPDY/3.1');
      expect(rec.headers['x-stream-protocol-version']).toBe('portforward.k8s.io');
      const got = new Promise<Buffer>((resolve) => socket.once('data', (c: Buffer) => resolve(c)));
      const payload = Buffer.from('spdy-bytes');
      const mask = Buffer.from([1, 2, 3, 4]);
      socket.write(Buffer.concat([Buffer.from([0x82, 0x80 | payload.length]), mask, Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!))]));
      const frame = await got;
      expect(frame[0]).toBe(0x82); // binary, unmasked from the server
      expect(frame.subarray(2, 2 + frame[1]!).toString()).toBe('echo:spdy-bytes');
    } finally {
      socket.destroy();
    }
  });
});

describe('TokenReview and SubjectAccessReview as the kubelet asks them', () => {
  it('reviews a service-account token like the real server (groups, uid, audiences)', async () => {
    const tr = await raw(s, 'POST', '/api/v1/namespaces/default/serviceaccounts/default/token', { body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: {} } });
    const token = tr.body.status.token as string;
    const sa = await raw(s, 'GET', '/api/v1/namespaces/default/serviceaccounts/default');
    const review = async (spec: object): Promise<Record<string, unknown>> =>
      (await raw(s, 'POST', '/apis/authentication.k8s.io/v1/tokenreviews', { body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec } })).body.status as Record<string, unknown>;
    expect(await review({ token })).toEqual({
      authenticated: true,
      user: { username: 'system:serviceaccount:default:default', uid: sa.body.metadata.uid, groups: ['system:serviceaccounts', 'system:serviceaccounts:default', 'system:authenticated'] },
      audiences: ['https://kubernetes.default.svc.cluster.local'],
    });
    expect(await review({ token, audiences: ['foo'] })).toEqual({
      user: {},
      error: '[invalid bearer token, token audiences ["https://kubernetes.default.svc.cluster.local"] is invalid for the target audiences ["foo"]]',
    });
    const sar = await raw(s, 'POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', {
      body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec: { user: 'admin', groups: ['system:masters'], resourceAttributes: { verb: 'get', resource: 'nodes', subresource: 'proxy', name: 'nl3-n1' } } },
    });
    expect([sar.status, sar.body.status]).toEqual([201, { allowed: true }]);
  });
});
