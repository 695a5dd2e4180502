import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { silentLogger } from '../../util/index.js';
import { Duplex, PassThrough } from 'node:stream';
import { proxyUpgrade, relayBytes } from './proxy.js';

const servers: { close(): unknown }[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

function listen<T extends Server | ReturnType<typeof createNetServer>>(s: T): Promise<number> {
  servers.push(s);
  return new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as AddressInfo).port)));
}

/** A runtime streaming server: answers the upgrade with 101 and the first offered protocol, then echoes upper-cased. */
async function runtimeServer(seen: { headers?: Record<string, string | string[] | undefined>; url?: string }): Promise<number> {
  const s = createServer((req, res) => {
    res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"kind":"Status","code":404}');
  });
  s.on('upgrade', (req, socket, head) => {
    seen.headers = req.headers;
    seen.url = req.url;
    const proto = String(req.headers['x-stream-protocol-version'] ?? '').split(',')[0]?.trim() ?? '';
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${proto}\r\n\r\n`);
    if (head.length > 0) socket.write(head.toString().toUpperCase());
    socket.on('data', (d: Buffer) => socket.write(d.toString().toUpperCase()));
    socket.on('end', () => socket.end());
  });
  return listen(s);
}

/** A connected pair of sockets: [the client's end, the kubelet's end]. */
async function socketPair(): Promise<[Socket, Socket]> {
  let accepted: (s: Socket) => void = () => undefined;
  const got = new Promise<Socket>((r) => (accepted = r));
  const port = await listen(createNetServer((s) => accepted(s)));
  const client = connect(port, '127.0.0.1');
  return [client, await got];
}

function readUntil(s: Socket, pred: (text: string) => boolean): Promise<string> {
  let text = '';
  return new Promise((resolve, reject) => {
    const on = (d: Buffer): void => {
      text += d.toString();
      if (pred(text)) {
        s.off('data', on);
        resolve(text);
      }
    };
    s.on('data', on);
    s.once('close', () => reject(new Error(`closed after ${JSON.stringify(text)}`)));
  });
}

describe('proxyUpgrade', () => {
  it('relays the runtime 101 with its protocol, the head bytes and the data both ways, and closes both sides', async () => {
    const seen: { headers?: Record<string, string | string[] | undefined>; url?: string } = {};
    const port = await runtimeServer(seen);
    const [client, kubeletSide] = await socketPair();
    await proxyUpgrade({
      socket: kubeletSide,
      head: Buffer.from('early'),
      url: `http://127.0.0.1:${port}/portforward/tok`,
      headers: { Connection: 'Upgrade', Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': ['portforward.k8s.io'] },
      idleTimeoutMs: 0,
      logger: silentLogger(),
    });
    const answer = await readUntil(client, (t) => t.includes('EARLY'));
    expect(answer).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n/);
    expect(answer).toContain('X-Stream-Protocol-Version: portforward.k8s.io\r\n\r\nEARLY');
    expect(seen.url).toBe('/portforward/tok');
    expect(seen.headers?.['x-stream-protocol-version']).toBe('portforward.k8s.io');
    const echoed = readUntil(client, (t) => t.includes('PING'));
    client.write('ping');
    expect(await echoed).toContain('PING');
    const closed = new Promise((r) => kubeletSide.once('close', r));
    client.end();
    await closed;
    expect(kubeletSide.destroyed).toBe(true);
  });

  it('carries 8 MiB from the runtime intact through the pooled reads', async () => {
    const s = createServer();
    s.on('upgrade', (_req, socket) => {
      socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: SPDY/3.1\r\n\r\n');
      for (let i = 0; i < 128; i++) socket.write(Buffer.alloc(64 * 1024, i));
      socket.end();
    });
    const port = await listen(s);
    const [client, kubeletSide] = await socketPair();
    const chunks: Buffer[] = [];
    client.on('data', (d: Buffer) => chunks.push(d));
    const ended = new Promise((r) => client.once('end', r));
    await proxyUpgrade({ socket: kubeletSide, head: Buffer.alloc(0), url: `http://127.0.0.1:${port}/pf`, headers: { Connection: 'Upgrade', Upgrade: 'SPDY/3.1' }, idleTimeoutMs: 0, logger: silentLogger() });
    await ended;
    const all = Buffer.concat(chunks);
    const body = all.subarray(all.indexOf('\r\n\r\n') + 4);
    expect(body.length).toBe(128 * 64 * 1024);
    for (let i = 0; i < 128; i++) expect(body[i * 64 * 1024 + 100]).toBe(i);
  });

  it('relays an error answer of the runtime as it is (body by Content-Length), and 502 when the runtime closes or cannot be reached', async () => {
    const port = await runtimeServer({});
    const [client, kubeletSide] = await socketPair();
    const text = readUntil(client, (t) => t.includes('"code":404}'));
    await proxyUpgrade({ socket: kubeletSide, head: Buffer.alloc(0), url: `http://127.0.0.1:${port}/portforward/x`, headers: { 'X-Other': '1' }, idleTimeoutMs: 0, logger: silentLogger() });
    expect(await text).toMatch(/^HTTP\/1\.1 404 Not Found\r\nContent-Type: application\/json\r\n/);

    const dead = await listen(createNetServer((s) => s.destroy()));
    const [c2, k2] = await socketPair();
    const text2 = readUntil(c2, (t) => t.includes('}'));
    await proxyUpgrade({ socket: k2, head: Buffer.alloc(0), url: `http://127.0.0.1:${dead}/x`, headers: { Connection: 'Upgrade', Upgrade: 'SPDY/3.1' }, idleTimeoutMs: 0, logger: silentLogger() });
    const t2 = await text2;
    expect(t2).toMatch(/^HTTP\/1\.1 502 /);
    expect(t2).toContain('the runtime streaming server closed the connection without an answer');

    const gone = createNetServer();
    const freePort = await listen(gone);
    gone.close();
    const [c3, k3] = await socketPair();
    const text3 = readUntil(c3, (t) => t.includes('}'));
    await proxyUpgrade({ socket: k3, head: Buffer.alloc(0), url: `http://127.0.0.1:${freePort}/x`, headers: {}, idleTimeoutMs: 0, logger: silentLogger() });
    expect(await text3).toContain('error dialing the runtime streaming server');
  });
});

describe('relayBytes', () => {
  it('pauses the source only above 1 MiB queued, resumes on drain, keeps the order and ends the destination', async () => {
    const from = new PassThrough();
    const got: Buffer[] = [];
    let release: (() => void)[] = [];
    const to = new Duplex({
      read: () => undefined,
      write: (chunk: Buffer, _e, cb) => {
        got.push(chunk);
        release.push(() => cb());
      },
    });
    const ended = new Promise((r) => to.once('finish', r));
    relayBytes(from, to);
    const chunk = (i: number): Buffer => Buffer.alloc(64 * 1024, i);
    for (let i = 0; i < 16; i++) from.write(chunk(i));
    await new Promise((r) => setImmediate(r));
    expect(from.isPaused()).toBe(false); // 1 MiB queued: not above the mark
    for (let i = 16; i < 40; i++) from.write(chunk(i));
    await new Promise((r) => setImmediate(r));
    expect(from.isPaused()).toBe(true);
    from.end();
    while (!to.writableFinished) {
      const r = release;
      release = [];
      for (const f of r) f();
      await new Promise((res) => setImmediate(res));
    }
    await ended;
    expect(got.length).toBe(40);
    expect(got.every((b, i) => b[0] === i && b.length === 64 * 1024)).toBe(true);
  });
});
