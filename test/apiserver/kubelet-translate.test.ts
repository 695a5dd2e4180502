/**
 * The test API server's WebSocket → SPDY stream translator (pods/exec|attach with `v5.channel.k8s.io`), against a
 * fake kubelet that speaks SPDY remotecommand (src/spdy). Expected frames and texts were recorded from
 * kube-apiserver v1.33.3 (../shared/k8s) with a recording kubelet behind it.
 */
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { SpdyConnection, type SpdyStream } from '../../src/spdy/index.js';
import { silentLogger } from '../../src/util/logger.js';
import { startFakeKubelet, type FakeKubelet } from './kubelet/fake-kubelet.js';
import { finalStatus, goJson } from './kubelet/translate.js';
import { startTestApiServer, type TestApiServer } from './server.js';
import { raw } from './testing.js';

// Ports of helper h2's block (21100-21199); the kubelet listens on docker0's address (on this machine).
const HOST = '172.17.0.1';
const PORT = 21110;
const CLOSED_PORT = 21111;

let s: TestApiServer;
let kubelet: FakeKubelet;

beforeAll(async () => {
  s = await startTestApiServer();
  kubelet = await startFakeKubelet(HOST, PORT, readFileSync(s.kubeletClientCaPath, 'utf8'));
  for (const [name, port] of [['h2-n1', PORT], ['h2-down', CLOSED_PORT]] as const) {
    expect((await raw(s, 'POST', '/api/v1/nodes', { body: { apiVersion: 'v1', kind: 'Node', metadata: { name } } })).status).toBe(201);
    const st = await raw(s, 'PATCH', `/api/v1/nodes/${name}/status`, {
      body: { status: { addresses: [{ type: 'InternalIP', address: HOST }], daemonEndpoints: { kubeletEndpoint: { Port: port } } } },
      contentType: 'application/merge-patch+json',
    });
    expect(st.status).toBe(200);
  }
  for (const [name, node] of [['p1', 'h2-n1'], ['pdown', 'h2-down']] as const) {
    const body = { apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { nodeName: node, containers: [{ name: 'a', image: 'busybox' }] } };
    expect((await raw(s, 'POST', '/api/v1/namespaces/default/pods', { body })).status).toBe(201);
  }
}, 60_000);
afterAll(async () => {
  await kubelet?.stop();
  await s?.stop();
});

type Session = (streams: Map<string, SpdyStream>, conn: SpdyConnection) => void;

/** A SPDY remotecommand kubelet: answers v4, waits for `expected` streams, then runs `session`. */
function spdyKubelet(expected: string[], session: Session): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
  return (_req, socket, head) => {
    socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\n\r\n');
    const streams = new Map<string, SpdyStream>();
    const conn = new SpdyConnection(socket, {
      logger: silentLogger(),
      onStream: (st) => {
        streams.set(st.streamType, st);
        if (expected.every((t) => streams.has(t)) && streams.size === expected.length) session(streams, conn);
      },
    });
    conn.feed(head);
  };
}

/** A v5 WebSocket client: every message as [channel, text], and the close code. */
function v5(path: string): { ws: WebSocket; msgs: [number, string][]; open: Promise<string>; closed: Promise<number> } {
  const ws = new WebSocket(`${s.url.replace('https', 'wss')}${path}`, ['v5.channel.k8s.io'], { ca: s.caCertPem, headers: { authorization: `Bearer ${s.token}` } });
  const msgs: [number, string][] = [];
  ws.on('message', (d: Buffer) => msgs.push([d[0]!, d.subarray(1).toString()]));
  ws.on('error', () => undefined);
  const open = new Promise<string>((resolve, reject) => {
    ws.once('open', () => resolve(ws.protocol));
    ws.once('unexpected-response', (_r, res) => reject(new Error(`status ${res.statusCode ?? 0}`)));
  });
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  return { ws, msgs, open, closed };
}

const text = (msgs: [number, string][], ch: number): string => msgs.filter(([c]) => c === ch).map(([, t]) => t).join('');

describe('WebSocket v5 exec/attach translated to SPDY', () => {
  it('relays stdin (with the v5 close signal), stdout, stderr and the exit code', async () => {
    const before = kubelet.requests.length;
    kubelet.upgradeHandler = spdyKubelet(['error', 'stdin', 'stdout', 'stderr'], (st, conn) => {
      let input = '';
      st.get('stdin')!.on('data', (d: Buffer) => (input += d.toString()));
      st.get('stdin')!.on('end', () => {
        st.get('stdout')!.end(input.toUpperCase());
        st.get('stderr')!.end('err-text');
        st.get('error')!.end(JSON.stringify({ metadata: {}, status: 'Failure', message: 'command terminated with non-zero exit code: exit status 3', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '3' }] } }));
        setTimeout(() => conn.close(), 50);
      });
    });
    try {
      const c = v5('/api/v1/namespaces/default/pods/p1/exec?command=cat&stdin=true&stdout=true&stderr=true');
      expect(await c.open).toBe('v5.channel.k8s.io');
      c.ws.send(Buffer.concat([Buffer.from([0]), Buffer.from('hello ')]));
      c.ws.send(Buffer.concat([Buffer.from([0]), Buffer.from('world')]));
      c.ws.send(Buffer.from([255, 0])); // close stdin
      expect(await c.closed).toBe(1000);
      expect(c.msgs[0]).toEqual([1, '']); // "connected" on the lowest writable channel
      expect(text(c.msgs, 1)).toBe('HELLO WORLD');
      expect(text(c.msgs, 2)).toBe('err-text');
      const status = JSON.parse(text(c.msgs, 3)) as Record<string, unknown>;
      expect(status).toEqual({
        metadata: {},
        status: 'Failure',
        message: 'command terminated with non-zero exit code: command terminated with exit code 3',
        reason: 'NonZeroExitCode',
        details: { causes: [{ reason: 'ExitCode', message: '3' }] },
      });
      const rec = kubelet.requests[before]!;
      expect(rec).toMatchObject({ upgrade: true, method: 'POST', url: '/exec/default/p1/a?command=cat&error=1&input=1&output=1' });
      expect(rec.headers.upgrade).toBe('SPDY/3.1');
      expect(rec.headers['x-stream-protocol-version']).toBe('v5.channel.k8s.io, v4.channel.k8s.io, v3.channel.k8s.io, v2.channel.k8s.io, channel.k8s.io');
      expect(rec.subject).toEqual({ CN: 'kube-apiserver-kubelet-client', O: 'system:masters' });
    } finally {
      kubelet.upgradeHandler = undefined;
    }
  });

  it('forwards TTY resizes to the resize stream and reports success', async () => {
    const resized: string[] = [];
    kubelet.upgradeHandler = spdyKubelet(['error', 'stdin', 'stdout', 'resize'], (st, conn) => {
      st.get('resize')!.on('data', (d: Buffer) => {
        resized.push(d.toString());
        st.get('stdout')!.end('sized');
        st.get('error')!.end(JSON.stringify({ metadata: {}, status: 'Success' }));
        setTimeout(() => conn.close(), 50);
      });
    });
    try {
      const c = v5('/api/v1/namespaces/default/pods/p1/attach?stdin=true&stdout=true&stderr=true&tty=true');
      await c.open;
      c.ws.send(Buffer.concat([Buffer.from([4]), Buffer.from('{"Width":91,"Height":23}')]));
      expect(await c.closed).toBe(1000);
      expect(resized).toEqual(['{"Width":91,"Height":23}']);
      expect(text(c.msgs, 1)).toBe('sized');
      expect(JSON.parse(text(c.msgs, 3))).toEqual({ metadata: {}, status: 'Success' });
      expect(kubelet.requests[kubelet.requests.length - 1]!.url).toBe('/attach/default/p1/a?error=1&input=1&output=1&tty=1');
    } finally {
      kubelet.upgradeHandler = undefined;
    }
  });

  it('closes the kubelet session when the client goes away', async () => {
    let kubeletClosed = false;
    kubelet.upgradeHandler = spdyKubelet(['error', 'stdout', 'stderr'], (_st, conn) => {
      conn.onClose(() => (kubeletClosed = true));
    });
    try {
      const c = v5('/api/v1/namespaces/default/pods/p1/exec?command=sleep&command=100');
      await c.open;
      await expect.poll(() => kubelet.requests.length > 0 && c.msgs.length > 0).toBe(true);
      await new Promise((r) => setTimeout(r, 100));
      c.ws.terminate();
      await expect.poll(() => kubeletClosed, { timeout: 5000 }).toBe(true);
    } finally {
      kubelet.upgradeHandler = undefined;
    }
  });

  it('reports a refused upgrade and an unreachable kubelet as the real server (after the 101)', async () => {
    kubelet.upgradeStatus = 400;
    try {
      const c = v5('/api/v1/namespaces/default/pods/p1/exec?command=echo&command=hi&stdout=true&stderr=true');
      await c.open;
      expect(await c.closed).toBe(1000);
      expect(c.msgs).toEqual([
        [1, ''],
        [3, '{"metadata":{},"status":"Failure","message":"Internal error occurred: unable to upgrade connection: not upgrade","reason":"InternalError","details":{"causes":[{"message":"unable to upgrade connection: not upgrade"}]},"code":500}'],
      ]);
    } finally {
      kubelet.upgradeStatus = undefined;
    }
    const d = v5('/api/v1/namespaces/default/pods/pdown/exec?command=echo&command=hi&stdin=true&stdout=false&stderr=false');
    await d.open;
    expect(await d.closed).toBe(1000);
    const url = `https://${HOST}:${CLOSED_PORT}/exec/default/pdown/a?command=echo\\u0026command=hi\\u0026input=1`;
    const msg = `error sending request: Post \\"${url}\\": dial tcp ${HOST}:${CLOSED_PORT}: connect: connection refused`;
    expect(d.msgs).toEqual([
      [3, ''],
      [3, `{"metadata":{},"status":"Failure","message":"Internal error occurred: ${msg}","reason":"InternalError","details":{"causes":[{"message":"${msg}"}]},"code":500}`],
    ]);
  });

  it('passes a WebSocket port-forward without the tunnelling protocol through to the kubelet', async () => {
    const before = kubelet.requests.length;
    const ws = new WebSocket(`${s.url.replace('https', 'wss')}/api/v1/namespaces/default/pods/p1/portforward?ports=8080`, ['v4.channel.k8s.io'], { ca: s.caCertPem, headers: { authorization: `Bearer ${s.token}` } });
    await new Promise<void>((resolve) => {
      for (const ev of ['open', 'unexpected-response', 'error'] as const) ws.on(ev, () => resolve());
    });
    ws.terminate();
    expect(kubelet.requests[before]).toMatchObject({ upgrade: true, method: 'GET', url: '/portForward/default/p1?port=8080' });
    expect(kubelet.requests[before]!.headers['sec-websocket-protocol']).toBe('v4.channel.k8s.io');
  });

  it('checks the pod before upgrading, as for SPDY', async () => {
    await expect(v5('/api/v1/namespaces/default/pods/nope/exec?command=true').open).rejects.toThrow('status 404');
    await expect(v5('/api/v1/namespaces/default/pods/p1/exec?command=true&container=zz').open).rejects.toThrow('status 400');
  });
});

describe('translator texts', () => {
  it('maps the kubelet final status as client-go and the translator do', () => {
    expect(finalStatus('')).toEqual({ metadata: {}, status: 'Success' });
    expect(finalStatus('{"metadata":{},"status":"Success"}')).toEqual({ metadata: {}, status: 'Success' });
    expect(finalStatus('{"metadata":{},"status":"Failure","message":"container not found (\\"a\\")","reason":"InternalError"}')).toMatchObject({
      code: 500,
      reason: 'InternalError',
      message: 'Internal error occurred: container not found ("a")',
    });
    expect(finalStatus('{"status":"Failure","reason":"NonZeroExitCode","message":"x","details":{"causes":[{"reason":"ExitCode","message":"7"}]}}')).toMatchObject({
      reason: 'NonZeroExitCode',
      details: { causes: [{ reason: 'ExitCode', message: '7' }] },
    });
    expect(finalStatus('{"status":"Failure","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"300"}]}}').message).toBe(
      'Internal error occurred: error stream protocol error: invalid exit code value "300"',
    );
    expect(goJson({ m: 'a&b<c>' })).toBe('{"m":"a\\u0026b\\u003cc\\u003e"}');
  });
});
