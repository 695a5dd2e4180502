/**
 * NsenterDialer in real network namespaces (root): the NetnsDialer contract, then what only the real one can show —
 * a connection is made in the target namespace and never in the host's, a target given by pid works, a namespace
 * that is gone is NOT_FOUND, and idle helpers exit.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../src/cri/contract-fixtures.js';
import { runNetnsDialerContract } from '../../src/cri/netns/contract.js';
import { NsenterDialer } from '../../src/cri/netns/index.js';
import { hasCode } from '../../src/util/index.js';
import { createNamespace, deleteNamespaces, startInNs, type NsProcess } from '../support/netns.js';

const PREFIX = `nl-dial-${String(process.pid)}-`;
const base = 21000 + (process.pid % 20000);

/** A listener inside `ns` greeting each connection, then echoing it. */
function listenIn(ns: string, host: string, port: number, greeting: string): Promise<NsProcess> {
  const code = `require('net').createServer({allowHalfOpen:true},(s)=>{s.on('error',()=>{});s.write(${JSON.stringify(greeting)});s.pipe(s)}).listen(${String(port)},${JSON.stringify(host)},()=>console.log('ready'))`;
  return startInNs(ns, [process.execPath, '-e', code], 'ready');
}

/** Helper processes started by this test process. */
function helpers(): number {
  return readdirSync('/proc').filter((p) => {
    if (!/^\d+$/.test(p)) return false;
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'latin1');
      return stat.split(') ')[1]?.split(' ')[1] === String(process.pid) && readFileSync(`/proc/${p}/cmdline`, 'latin1').includes('/proc/self/ns/net');
    } catch {
      return false;
    }
  }).length;
}

let n = 0;
runNetnsDialerContract(
  'NsenterDialer',
  async () => {
    const ns = `${PREFIX}${String(n++)}`;
    await createNamespace(ns);
    const procs: NsProcess[] = [];
    return {
      dialer: new NsenterDialer({ idleMs: 500 }),
      target: { path: `/var/run/netns/${ns}` },
      listen: async (host, port, greeting) => void procs.push(await listenIn(ns, host, port, greeting)),
      cleanup: async () => {
        for (const p of procs) p.stop();
        await deleteNamespaces(ns);
      },
    };
  },
  [base, base + 1, base + 2],
);

describe('NsenterDialer in real namespaces', () => {
  const ns = `${PREFIX}iso`;
  const port = base + 10;
  let inside: NsProcess;
  let host: Server;
  const dialer = new NsenterDialer({ idleMs: 300 });

  beforeAll(async () => {
    await deleteNamespaces(PREFIX);
    await createNamespace(ns);
    inside = await listenIn(ns, '127.0.0.1', port, 'inside:');
    // The same port on the host's loopback: a dial into the namespace must never reach it.
    host = createServer((s) => s.end('host:'));
    await new Promise<void>((r) => host.listen(port + 1, '127.0.0.1', r));
  }, 30_000);
  afterAll(async () => {
    dialer.close();
    inside?.stop();
    await new Promise((r) => host?.close(r));
    await deleteNamespaces(PREFIX);
  });

  const greet = async (target: { path?: string; pid?: number }, p: number): Promise<string> => {
    const s = await dialer.dial(target, p, { signal: new AbortController().signal });
    s.setEncoding('latin1');
    let text = '';
    s.on('data', (d: string) => (text += d));
    s.end();
    await new Promise((r) => s.once('close', r));
    return text;
  };

  it('reaches the namespace by its file and by a process in it, and never the host', async () => {
    expect(await greet({ path: `/var/run/netns/${ns}` }, port)).toBe('inside:');
    expect(await greet({ pid: inside.child.pid ?? 0 }, port)).toBe('inside:');
    // Only the host listens on port+1: from the namespace it is refused.
    const err = await dialer.dial({ path: `/var/run/netns/${ns}` }, port + 1, { signal: new AbortController().signal }).catch((e: unknown) => e);
    expect(hasCode(err, 'RUNTIME_ERROR')).toBe(true);
  }, 20_000);

  it('a namespace that is gone is NOT_FOUND; a bad pid too', async () => {
    expect(hasCode(await dialer.dial({ path: `/var/run/netns/${PREFIX}none` }, port, { signal: new AbortController().signal }).catch((e: unknown) => e), 'NOT_FOUND')).toBe(true);
    expect(hasCode(await dialer.dial({ pid: 2 ** 22 + 7 }, port, { signal: new AbortController().signal }).catch((e: unknown) => e), 'NOT_FOUND')).toBe(true);
    expect(hasCode(await dialer.dial({}, port, { signal: new AbortController().signal }).catch((e: unknown) => e), 'NOT_FOUND')).toBe(true);
  }, 20_000);

  it('one helper per namespace, shared by concurrent dials; it exits when idle', async () => {
    await Promise.all(Array.from({ length: 20 }, () => greet({ path: `/var/run/netns/${ns}` }, port)));
    expect(dialer.helpers).toBe(1);
    await waitFor('idle helper gone', async () => (dialer.helpers === 0 && helpers() === 0 ? true : undefined));
  }, 20_000);

  it('hundreds of dials aborted at random points leave no helper and no fd', async () => {
    const fds = (): number => readdirSync('/proc/self/fd').length;
    const before = fds();
    await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        const c = new AbortController();
        setTimeout(() => c.abort(), (i * 7) % 150);
        const s = await dialer.dial({ path: `/var/run/netns/${ns}` }, port, { signal: c.signal }).catch(() => undefined);
        s?.destroy();
      }),
    );
    await waitFor('helpers and fds released', async () => (dialer.helpers === 0 && helpers() === 0 && fds() <= before ? true : undefined));
  }, 30_000);
});

describe('NsenterDialer without nsenter', () => {
  it('a missing nsenter binary is a RUNTIME_ERROR naming it, and leaves no helper', async () => {
    const d = new NsenterDialer({ nsenter: '/nonexistent/nsenter' });
    const err = await d.dial({ pid: process.pid }, 80, { signal: new AbortController().signal }).catch((e: unknown) => e);
    expect(hasCode(err, 'RUNTIME_ERROR')).toBe(true);
    expect((err as Error).message).toContain('/nonexistent/nsenter');
    expect(d.helpers).toBe(0);
    d.close();
  });
});
