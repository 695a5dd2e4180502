import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Http2Server, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GrpcCallError, GrpcStatus, UnaryGrpcClient } from './unary.js';

const dir = mkdtempSync(join(tmpdir(), 'nl-unary-'));
const sock = join(dir, 'grpc.sock');
const seen: Record<string, unknown>[] = [];
let server: Http2Server;

const frame = (b: Buffer): Buffer => {
  const h = Buffer.alloc(5);
  h.writeUInt32BE(b.length, 1);
  return Buffer.concat([h, b]);
};
/** The server's live sessions (to drop connections from the server side). */
const live = new Set<ServerHttp2Session>();

// A scripted gRPC server: the method name says how to answer.
function answer(stream: ServerHttp2Stream, path: string, body: Buffer): void {
  const method = path.split('/').pop();
  if (method === 'Echo') {
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
    stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
    stream.end(body); // the request frame back as it came
  } else if (method === 'Fail') {
    stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '5', 'grpc-message': encodeURIComponent('no such thing: "x"') }, { endStream: true });
  } else if (method === 'Hang') {
    stream.on('close', () => seen.push({ hangClosed: stream.rstCode }));
  } else if (method === 'Big') {
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
    stream.end(frame(Buffer.alloc(2048)));
  } else {
    stream.respond({ ':status': 404 }, { endStream: true });
  }
}

beforeAll(async () => {
  server = createServer();
  server.on('session', (s) => {
    live.add(s);
    s.on('close', () => live.delete(s));
  });
  server.on('stream', (stream, headers) => {
    seen.push({ ...headers });
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => answer(stream, String(headers[':path']), Buffer.concat(chunks)));
    stream.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(sock, r));
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

const codeOf = async (p: Promise<unknown>): Promise<[number, string]> => {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(GrpcCallError);
  return [(e as GrpcCallError).code, (e as GrpcCallError).details];
};

describe('UnaryGrpcClient', () => {
  it('sends one framed message with the gRPC headers, metadata and deadline, and returns the answer', async () => {
    const c = new UnaryGrpcClient({ socketPath: sock, maxReceiveBytes: 1024, metadata: { 'containerd-namespace': 'k8s.io' } });
    try {
      const res = await c.call('/pkg.Svc/Echo', Buffer.from('hello'), { timeoutMs: 5000 });
      expect(res.toString()).toBe('hello');
      // concurrent calls share the connection
      const all = await Promise.all([1, 2, 3].map((i) => c.call('/pkg.Svc/Echo', Buffer.from(String(i)))));
      expect(all.map(String)).toEqual(['1', '2', '3']);
    } finally {
      c.close();
    }
    expect(seen[0]).toMatchObject({ ':method': 'POST', ':path': '/pkg.Svc/Echo', 'content-type': 'application/grpc', te: 'trailers', 'containerd-namespace': 'k8s.io', 'grpc-timeout': '5000m' });
    expect(seen[1]).not.toHaveProperty('grpc-timeout');
  });

  it('maps a gRPC status, a non-gRPC HTTP answer, a deadline, an abort, a too large answer and a missing socket', async () => {
    const c = new UnaryGrpcClient({ socketPath: sock, maxReceiveBytes: 1024 });
    try {
      expect(await codeOf(c.call('/pkg.Svc/Fail', Buffer.alloc(0)))).toEqual([GrpcStatus.NOT_FOUND, 'no such thing: "x"']);
      expect((await codeOf(c.call('/pkg.Svc/Other', Buffer.alloc(0))))[0]).toBe(GrpcStatus.UNIMPLEMENTED);
      expect(await codeOf(c.call('/pkg.Svc/Hang', Buffer.alloc(0), { timeoutMs: 50 }))).toEqual([GrpcStatus.DEADLINE_EXCEEDED, 'Deadline exceeded']);
      const ac = new AbortController();
      const pending = c.call('/pkg.Svc/Hang', Buffer.alloc(0), { signal: ac.signal });
      ac.abort();
      expect((await codeOf(pending))[0]).toBe(GrpcStatus.CANCELLED);
      expect((await codeOf(c.call('/pkg.Svc/Echo', Buffer.alloc(0), { signal: ac.signal })))[0]).toBe(GrpcStatus.CANCELLED);
      expect((await codeOf(c.call('/pkg.Svc/Big', Buffer.alloc(0))))[0]).toBe(GrpcStatus.RESOURCE_EXHAUSTED);
      // the connection is still usable after all that
      expect(String(await c.call('/pkg.Svc/Echo', Buffer.from('ok')))).toBe('ok');
    } finally {
      c.close();
    }
    await expect.poll(() => seen.filter((s) => 'hangClosed' in s).length).toBe(2); // the server saw both calls end
    const down = new UnaryGrpcClient({ socketPath: join(dir, 'missing.sock'), maxReceiveBytes: 1024 });
    expect((await codeOf(down.call('/pkg.Svc/Echo', Buffer.alloc(0), { timeoutMs: 2000 })))[0]).toBe(GrpcStatus.UNAVAILABLE);
    down.close();
    expect((await codeOf(down.call('/pkg.Svc/Echo', Buffer.alloc(0))))[0]).toBe(GrpcStatus.UNAVAILABLE);
  });

  it('reconnects after the server closes the connection', async () => {
    const c = new UnaryGrpcClient({ socketPath: sock, maxReceiveBytes: 1024 });
    try {
      expect(String(await c.call('/pkg.Svc/Echo', Buffer.from('a')))).toBe('a');
      for (const s of live) s.destroy();
      await new Promise((r) => setTimeout(r, 50));
      expect(String(await c.call('/pkg.Svc/Echo', Buffer.from('b')))).toBe('b');
    } finally {
      c.close();
    }
  });
});
