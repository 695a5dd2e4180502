import { createServer, type Server, type Socket } from 'node:net';
import { Duplex, PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { forwardPort } from './forward.js';
import { LoopbackDialer } from './testing.js';

let server: Server | undefined;
afterEach(async () => {
  await new Promise((r) => (server === undefined ? r(undefined) : server.close(r)));
  server = undefined;
});

/** A loopback server running `onConn`; resolves with its port. */
async function serve(onConn: (s: Socket) => void): Promise<number> {
  server = createServer({ allowHalfOpen: true }, (s) => {
    s.on('error', () => undefined);
    onConn(s);
  });
  await new Promise<void>((r) => server?.listen(0, '127.0.0.1', r));
  return (server.address() as { port: number }).port;
}

/** A client stream: what is written to `toPod` goes to the pod; what the pod sends is collected. */
function client(): { stream: Duplex; toPod: PassThrough; text: () => string; ended: Promise<void> } {
  const toPod = new PassThrough();
  let text = '';
  let end!: () => void;
  const ended = new Promise<void>((r) => (end = r));
  const fromPod = new PassThrough();
  fromPod.on('data', (d: Buffer) => (text += d.toString()));
  fromPod.on('end', end);
  return { stream: Duplex.from({ readable: toPod, writable: fromPod }), toPod, text: () => text, ended };
}

const object = 'pod sandbox t';

describe('forwardPort', () => {
  it("passes the client's end to the pod as a half-close and still carries a late answer", async () => {
    const port = await serve((s) => {
      let got = '';
      s.on('data', (d: Buffer) => (got += d.toString()));
      s.on('end', () => setTimeout(() => s.end(`late answer to ${got}`), 1300));
    });
    const c = client();
    c.toPod.end('question');
    await forwardPort({ dialer: new LoopbackDialer(), target: {}, port, stream: c.stream, signal: new AbortController().signal, object });
    await c.ended;
    expect(c.text()).toBe('late answer to question');
  }, 10_000);

  it("ends the client's stream when the pod ends, and settles within a second when the client never ends", async () => {
    const port = await serve((s) => s.end('bye'));
    const c = client();
    const t0 = Date.now();
    await forwardPort({ dialer: new LoopbackDialer(), target: {}, port, stream: c.stream, signal: new AbortController().signal, object });
    await c.ended;
    expect(c.text()).toBe('bye');
    expect(Date.now() - t0).toBeLessThan(3000);
  }, 10_000);

  it('an abort closes the connection to the pod', async () => {
    let closed!: () => void;
    const podClosed = new Promise<void>((r) => (closed = r));
    const port = await serve((s) => s.once('end', () => {
      closed();
      s.destroy();
    }));
    const c = client();
    const ctl = new AbortController();
    const fwd = forwardPort({ dialer: new LoopbackDialer(), target: {}, port, stream: c.stream, signal: ctl.signal, object });
    setTimeout(() => ctl.abort(), 100);
    await fwd;
    await podClosed;
  }, 10_000);

  it('hands pod bytes to a borrowed writer and gets every buffer back', async () => {
    const payload = Buffer.alloc(4 * 2 ** 20, 7);
    const port = await serve((s) => s.end(payload));
    let received = 0;
    let borrowed = 0;
    let released = 0;
    const toPod = new PassThrough();
    const stream = Object.assign(Duplex.from({ readable: toPod, writable: new PassThrough().resume() }), {
      writeBorrowed(chunk: Buffer, release: () => void) {
        borrowed++;
        received += chunk.length;
        setImmediate(() => {
          released++;
          release();
        });
      },
    });
    toPod.end();
    await forwardPort({ dialer: new LoopbackDialer(), target: {}, port, stream, signal: new AbortController().signal, object });
    expect(received).toBe(payload.length);
    await new Promise((r) => setTimeout(r, 20));
    expect(released).toBe(borrowed);
  }, 10_000);

  it('hundreds of forwards aborted or closed at random points leave no connection open', async () => {
    const open = new Set<Socket>();
    const port = await serve((s) => {
      open.add(s);
      s.once('close', () => open.delete(s));
      s.on('end', () => s.end());
      s.write(Buffer.alloc(256 * 1024)); // more than a socket buffer: the forward is mid-transfer when it ends
    });
    const dialer = new LoopbackDialer();
    await Promise.all(
      Array.from({ length: 300 }, async (_, i) => {
        const c = client();
        const ctl = new AbortController();
        const fwd = forwardPort({ dialer, target: {}, port, stream: c.stream, signal: ctl.signal, object });
        setTimeout(() => (i % 2 === 0 ? ctl.abort() : c.stream.destroy()), i % 20);
        await fwd.catch(() => undefined);
      }),
    );
    for (let i = 0; i < 100 && open.size > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(open.size).toBe(0);
  }, 20_000);

  it('rejects with the dialer error when nothing listens', async () => {
    const port = await serve(() => undefined);
    await new Promise((r) => server?.close(r));
    server = undefined;
    const c = client();
    await expect(forwardPort({ dialer: new LoopbackDialer(), target: {}, port, stream: c.stream, signal: new AbortController().signal, object })).rejects.toThrow(/failed to connect to localhost/);
  });
});
