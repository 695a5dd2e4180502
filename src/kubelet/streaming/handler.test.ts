import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import { createServer, type Server } from 'node:http';
import { FakeRuntime } from '../../cri/fake/index.js';
import { silentLogger } from '../../util/index.js';
import type { StreamingHandler } from '../server/api/types.js';
import type { ExecShape, PreparedExec, StreamIO } from '../../cri/types.js';
import { createStreamingHandler } from './handler.js';
import { route, SpdyTestClient, stubLookup, upgradeRequest } from './testing.js';
import { containerConfig, sandboxConfig } from '../../cri/contract-fixtures.js';

const SPDY_V4: [string, string][] = [
  ['Connection', 'Upgrade'],
  ['Upgrade', 'SPDY/3.1'],
  ['X-Stream-Protocol-Version', 'v4.channel.k8s.io'],
  ['X-Stream-Protocol-Version', 'v3.channel.k8s.io'],
  ['X-Stream-Protocol-Version', 'v2.channel.k8s.io'],
  ['X-Stream-Protocol-Version', 'channel.k8s.io'],
];

let rt: FakeRuntime;
let handler: StreamingHandler;
let containerId = '';
let sandboxId = '';

beforeEach(async () => {
  rt = new FakeRuntime();
  const sb = sandboxConfig('web', {});
  sandboxId = await rt.runPodSandbox(sb);
  containerId = await rt.createContainer(sandboxId, containerConfig('main', sb, {}), sb);
  await rt.startContainer(containerId);
  handler = createStreamingHandler({ lookup: stubLookup(containerId, sandboxId), runtime: rt, logger: silentLogger(), streamCreationTimeoutMs: 2000 });
});

function connect(query: string, headers = SPDY_V4, kind: 'exec' | 'attach' | 'portForward' = 'exec', container = 'main'): SpdyTestClient {
  const c = new SpdyTestClient();
  handler.handleUpgrade(upgradeRequest(headers), c.serverSide, Buffer.alloc(0), route(kind, query, container));
  return c;
}

describe('exec over SPDY', () => {
  it('v4: stdout, then a NonZeroExitCode Status with the ExitCode cause on the error stream, then GOAWAY', async () => {
    const c = connect('command=sh&command=-c&command=echo+out%3B+exit+3&output=1&error=1');
    const err = await c.open({ streamtype: 'error' });
    const out = await c.open({ streamtype: 'stdout' });
    const se = await c.open({ streamtype: 'stderr' });
    await c.until(() => c.goaway && c.streams.get(err)?.fin === true, 'session end');
    expect(c.httpResponse).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n/);
    expect(c.httpResponse).toContain('X-Stream-Protocol-Version: v4.channel.k8s.io');
    expect(c.text(out)).toBe('out\n');
    expect(c.streams.get(out)?.fin).toBe(true);
    expect(c.streams.get(se)?.fin).toBe(true);
    expect(JSON.parse(c.text(err))).toEqual({
      metadata: {},
      status: 'Failure',
      message: 'command terminated with non-zero exit code: error executing command [sh -c echo out; exit 3], exit code 3',
      reason: 'NonZeroExitCode',
      details: { causes: [{ reason: 'ExitCode', message: '3' }] },
    });
  });

  it('v4: a Success Status for exit 0; v2: nothing on success and the message text on failure', async () => {
    const c = connect('command=true&output=1');
    const err = await c.open({ streamtype: 'error' });
    await c.open({ streamtype: 'stdout' });
    await c.until(() => c.streams.get(err)?.fin === true);
    expect(JSON.parse(c.text(err))).toEqual({ metadata: {}, status: 'Success' });
    const v2 = connect('command=sh&command=-c&command=exit+5&output=1', [['Upgrade', 'SPDY/3.1'], ['X-Stream-Protocol-Version', 'v2.channel.k8s.io']]);
    const e2 = await v2.open({ streamtype: 'error' });
    await v2.open({ streamtype: 'stdout' });
    await v2.until(() => v2.streams.get(e2)?.fin === true);
    expect(v2.text(e2)).toMatch(/^command terminated with non-zero exit code: .*exit code 5$/);
    const ok2 = connect('command=true&output=1', [['Upgrade', 'SPDY/3.1'], ['X-Stream-Protocol-Version', 'v2.channel.k8s.io']]);
    const e3 = await ok2.open({ streamtype: 'error' });
    await ok2.open({ streamtype: 'stdout' });
    await ok2.until(() => ok2.streams.get(e3)?.fin === true);
    expect(ok2.text(e3)).toBe('');
  });

  it('copies stdin until the client half-closes it', async () => {
    const c = connect('command=cat&input=1&output=1');
    const err = await c.open({ streamtype: 'error' });
    const stdin = await c.open({ streamtype: 'stdin' });
    const out = await c.open({ streamtype: 'stdout' });
    c.send(stdin, 'abc');
    c.send(stdin, 'def', true);
    await c.until(() => c.streams.get(err)?.fin === true);
    expect(c.text(out)).toBe('abcdef');
  });

  it('a TTY session forwards resize messages (JSON objects, possibly split) to the runtime', async () => {
    const c = connect('command=cat&input=1&output=1&tty=1');
    const err = await c.open({ streamtype: 'error' });
    const stdin = await c.open({ streamtype: 'stdin' });
    await c.open({ streamtype: 'stdout' });
    const resize = await c.open({ streamtype: 'resize' });
    c.send(resize, '{"Width":80,"Height":24}{"Wid');
    c.send(resize, 'th":100,"Height":30}');
    await new Promise((r) => setImmediate(r));
    c.send(stdin, '', true);
    await c.until(() => c.streams.get(err)?.fin === true);
    expect(rt.resizesOf(containerId)).toEqual([{ width: 80, height: 24 }, { width: 100, height: 30 }]);
  });

  it('frees the session when the client disappears mid-stream', async () => {
    const c = connect('command=sleep&command=1000&output=1');
    await c.open({ streamtype: 'error' });
    await c.open({ streamtype: 'stdout' });
    await vi.waitFor(() => expect(rt.openStreamingSessions).toBe(1));
    c.destroy();
    await vi.waitFor(() => expect(rt.openStreamingSessions).toBe(0));
  });

  it('hundreds of aborted sessions leave no session, timer or socket behind', async () => {
    const before = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    for (let i = 0; i < 300; i++) {
      const c = connect('command=sleep&command=1000&output=1&input=1');
      await c.open({ streamtype: 'error' });
      if (i % 2 === 0) {
        await c.open({ streamtype: 'stdin' });
        await c.open({ streamtype: 'stdout' });
      }
      c.destroy();
    }
    // Frames already read are still handled after the peer's end (their header blocks inflate asynchronously).
    await vi.waitFor(() => expect(rt.openStreamingSessions).toBe(0), { timeout: 5000 });
    const after = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    expect(after).toBeLessThanOrEqual(before + 1);
  });
});

describe('exec on a runtime that prepares execs (ExecPreparer)', () => {
  const preparing = (events: string[]) => ({
    exec: rt.exec.bind(rt),
    attach: rt.attach.bind(rt),
    portForward: rt.portForward.bind(rt),
    prepareExec: (id: string, cmd: string[], shape: ExecShape): Promise<PreparedExec> => {
      events.push(`prepare ${cmd.join(' ')} stdout=${String(shape.stdout)}`);
      let used = false;
      return Promise.resolve({
        start: (io: StreamIO) => {
          used = true;
          events.push('start');
          return rt.exec(id, cmd, io);
        },
        cancel: () => {
          if (!used) events.push('cancel');
        },
      });
    },
  });

  it('prepares while the client opens its streams and starts once they are all there', async () => {
    const events: string[] = [];
    handler = createStreamingHandler({ lookup: stubLookup(containerId, sandboxId), runtime: preparing(events), logger: silentLogger() });
    const c = connect('command=true&output=1');
    await vi.waitFor(() => expect(events).toEqual(['prepare true stdout=true']));
    const err = await c.open({ streamtype: 'error' });
    expect(events).toEqual(['prepare true stdout=true']);
    await c.open({ streamtype: 'stdout' });
    await c.until(() => c.streams.get(err)?.fin === true);
    expect(JSON.parse(c.text(err))).toEqual({ metadata: {}, status: 'Success' });
    expect(events).toEqual(['prepare true stdout=true', 'start']);
  });

  it('cancels what was prepared when the streams never come', async () => {
    const events: string[] = [];
    handler = createStreamingHandler({ lookup: stubLookup(containerId, sandboxId), runtime: preparing(events), logger: silentLogger(), streamCreationTimeoutMs: 50 });
    const c = connect('command=true&output=1');
    await c.open({ streamtype: 'error' });
    await vi.waitFor(() => expect(events).toEqual(['prepare true stdout=true', 'cancel']));
    expect(c.closed).toBe(true);
  });
});

describe('errors before the upgrade', () => {
  const response = async (c: SpdyTestClient): Promise<{ head: string; body: unknown }> => {
    await c.until(() => c.httpResponse.includes('\r\n\r\n{') && c.httpResponse.endsWith('}'), 'error response');
    const [head, body] = c.httpResponse.split('\r\n\r\n');
    return { head: head ?? '', body: JSON.parse(body ?? '{}') };
  };

  it('404 Status for an unknown pod or container', async () => {
    const c = new SpdyTestClient();
    handler.handleUpgrade(upgradeRequest(SPDY_V4), c.serverSide, Buffer.alloc(0), route('exec', 'command=true&output=1', 'main', 'nope'));
    const r = await response(c);
    expect(r.head).toMatch(/^HTTP\/1\.1 404 Not Found/);
    expect(r.body).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'NotFound', code: 404, message: 'pod does not exist' });
    const r2 = await response(connect('command=true&output=1', SPDY_V4, 'exec', 'other'));
    expect(r2.body).toMatchObject({ code: 404, message: 'container not found ("other")' });
  });

  it('403 when no protocol matches, 400 without streams or without an upgrade', async () => {
    const r = await response(connect('command=true&output=1', [['Upgrade', 'SPDY/3.1'], ['X-Stream-Protocol-Version', 'v9.channel.k8s.io']]));
    expect(r.head).toMatch(/^HTTP\/1\.1 403/);
    expect(r.head).toContain('X-Accepted-Stream-Protocol-Versions: v4.channel.k8s.io');
    const none = await response(connect('command=true'));
    expect(none.body).toMatchObject({ code: 400, message: 'you must specify at least 1 of stdin, stdout, stderr' });
    const plain = await response(connect('command=true&output=1', [['Connection', 'keep-alive']]));
    expect(plain.head).toMatch(/^HTTP\/1\.1 400/);
  });
});

describe('port-forward over SPDY', () => {
  it('pairs data and error streams by request id; a refused port is reported on the error stream', async () => {
    rt.setPortHandler(8080, async (stream) => {
      for await (const chunk of stream) stream.write(Buffer.concat([Buffer.from('echo:'), chunk as Buffer]));
      stream.end();
    });
    const c = connect('', [['Upgrade', 'SPDY/3.1'], ['X-Stream-Protocol-Version', 'portforward.k8s.io']], 'portForward');
    const e1 = await c.open({ streamtype: 'error', port: '8080', requestid: '0' });
    const d1 = await c.open({ streamtype: 'data', port: '8080', requestid: '0' });
    c.send(d1, 'ping', true);
    await c.until(() => c.streams.get(d1)?.fin === true && c.streams.get(e1)?.fin === true, 'forward done');
    expect(c.text(d1)).toBe('echo:ping');
    expect(c.text(e1)).toBe('');
    const e2 = await c.open({ streamtype: 'error', port: '9999', requestid: '1' });
    await c.open({ streamtype: 'data', port: '9999', requestid: '1' });
    await c.until(() => c.streams.get(e2)?.fin === true, 'refused reported');
    expect(c.text(e2)).toBe('error forwarding port 9999 to pod web, uid u1: dial tcp4 127.0.0.1:9999: connect: connection refused');
    expect(c.closed).toBe(false); // the connection stays for further forwards
    c.destroy();
  });
});

describe('WebSocket', () => {
  let server: Server;
  let port = 0;
  beforeEach(async () => {
    server = createServer();
    server.on('upgrade', (req, socket, head) => {
      const u = new URL(req.url ?? '/', 'http://x');
      const kind = u.pathname.startsWith('/portForward') ? 'portForward' : 'exec';
      handler.handleUpgrade(req, socket, head, { ...route(kind, u.search.slice(1)) });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as { port: number }).port;
  });
  afterEach(() => new Promise<void>((r) => server.close(() => r())));

  const collect = (ws: WebSocket): Promise<Buffer[]> =>
    new Promise((resolve) => {
      const msgs: Buffer[] = [];
      ws.on('message', (d: Buffer) => msgs.push(d));
      ws.on('close', () => resolve(msgs));
    });

  it('v5.channel.k8s.io exec: channel-prefixed output, stdin closed through channel 255, the Status on channel 3', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/exec?command=cat&input=1&output=1&error=1`, ['v5.channel.k8s.io']);
    const msgs = collect(ws);
    await new Promise((r) => ws.once('open', r));
    expect(ws.protocol).toBe('v5.channel.k8s.io');
    ws.send(Buffer.from([0, ...Buffer.from('hi')]));
    ws.send(Buffer.from([255, 0]));
    const all = await msgs;
    expect(all[0]).toEqual(Buffer.from([1])); // the empty announcement on stdout
    const out = Buffer.concat(all.filter((m) => m[0] === 1).map((m) => m.subarray(1))).toString();
    expect(out).toBe('hi');
    const status = all.find((m) => m[0] === 3);
    expect(JSON.parse(status?.subarray(1).toString() ?? '{}')).toEqual({ metadata: {}, status: 'Success' });
  });

  it('v4.base64.channel.k8s.io port-forward: the port prefix on both channels, data through channel 0', async () => {
    rt.setPortHandler(7000, (stream) => new Promise<void>((resolve) => {
      stream.once('data', (d: Buffer) => stream.end(`got ${d.toString()}`, () => resolve()));
    }));
    const ws = new WebSocket(`ws://127.0.0.1:${port}/portForward?port=7000`, ['v4.base64.channel.k8s.io']);
    const msgs = collect(ws);
    await new Promise((r) => ws.once('open', r));
    ws.send(`0${Buffer.from('abc').toString('base64')}`);
    const all = (await msgs).map((m) => m.toString());
    const prefix = Buffer.from([7000 & 0xff, 7000 >> 8]).toString('base64');
    expect(all.slice(0, 2)).toEqual([`0${prefix}`, `1${prefix}`]);
    const data = Buffer.concat(all.slice(2).filter((m) => m[0] === '0').map((m) => Buffer.from(m.slice(1), 'base64'))).toString();
    expect(data).toBe('got abc');
  });
});

it('a plain request gets 400 with a Status', () => {
  const res = { code: 0, body: '', writeHead(code: number) { this.code = code; return this; }, end(b: string) { this.body = b; } };
  handler.handleRequest(upgradeRequest([]), res as never, route('exec', 'command=true&output=1'));
  expect(res.code).toBe(400);
  expect(JSON.parse(res.body)).toMatchObject({ kind: 'Status', code: 400 });
});
