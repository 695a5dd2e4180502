/**
 * The contract suite of NetnsDialer, run against LoopbackDialer (src/cri/netns/dialer-fake.test.ts) and NsenterDialer
 * in a real network namespace (test/integration/netns-dialer.test.ts). Test-only: imports vitest.
 */
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasCode } from '../../util/index.js';
import type { NetnsDialer, NetnsTarget } from './types.js';

/** A dialer under test and a namespace to dial into. */
export interface DialerUnderTest {
  dialer: NetnsDialer;
  /** The namespace the listeners live in. */
  target: NetnsTarget;
  /**
   * Starts a TCP listener on `host` (127.0.0.1 or ::1) port `port` inside the target namespace that sends `greeting`
   * to each connection, then echoes what it receives; stopped by cleanup.
   */
  listen(host: string, port: number, greeting: string): Promise<void>;
  cleanup(): Promise<void>;
}

function readAll(s: Socket, onread: { got: Buffer[] }): Promise<string> {
  return new Promise((resolve) => {
    s.once('end', () => resolve(Buffer.concat(onread.got).toString()));
    s.once('close', () => resolve(Buffer.concat(onread.got).toString()));
    s.resume();
  });
}

/** Runs the NetnsDialer contract. `ports` are free ports to use (three). */
export function runNetnsDialerContract(name: string, make: () => Promise<DialerUnderTest>, ports: [number, number, number]): void {
  describe(`NetnsDialer contract: ${name}`, () => {
    let t: DialerUnderTest;
    const [v4, v6, closed] = ports;
    beforeAll(async () => {
      t = await make();
      await t.listen('127.0.0.1', v4, 'hello-v4:');
      await t.listen('::1', v6, 'hello-v6:');
    }, 30_000);
    afterAll(async () => {
      t.dialer.close();
      await t.cleanup();
    });

    const dialText = async (port: number, send: string): Promise<string> => {
      const got = { got: [] as Buffer[] };
      const pool = Buffer.alloc(16 * 1024);
      const s = await t.dialer.dial(t.target, port, {
        signal: new AbortController().signal,
        object: 'pod sandbox test',
        onread: {
          buffer: pool,
          callback: (n, buf) => {
            got.got.push(Buffer.from(buf.subarray(0, n)));
            return true;
          },
        },
      });
      s.end(send);
      return readAll(s, got);
    };

    it('connects to localhost inside the namespace; reads go into the given buffers; a half-close reaches the peer', async () => {
      expect(await dialText(v4, 'ping')).toBe('hello-v4:ping');
    }, 20_000);

    it('falls back to IPv6 localhost when nothing listens on IPv4', async () => {
      expect(await dialText(v6, 'six')).toBe('hello-v6:six');
    }, 20_000);

    it('many dials at once each get their own connection', async () => {
      const texts = await Promise.all(Array.from({ length: 8 }, (_, i) => dialText(v4, `n${String(i)}`)));
      expect(texts).toEqual(Array.from({ length: 8 }, (_, i) => `hello-v4:n${String(i)}`));
    }, 20_000);

    it('a closed port is a RUNTIME_ERROR naming the port and both families', async () => {
      const err = await t.dialer.dial(t.target, closed, { signal: new AbortController().signal, object: 'pod sandbox x' }).catch((e: unknown) => e);
      expect(hasCode(err, 'RUNTIME_ERROR')).toBe(true);
      expect((err as Error).message).toMatch(new RegExp(`localhost:${String(closed)}.*IPv4: .*IPv6: `));
    }, 20_000);

    it('an invalid port is INVALID; an aborted signal is CANCELLED', async () => {
      expect(hasCode(await t.dialer.dial(t.target, 0, { signal: new AbortController().signal }).catch((e: unknown) => e), 'INVALID')).toBe(true);
      const c = new AbortController();
      c.abort();
      expect(hasCode(await t.dialer.dial(t.target, v4, { signal: c.signal }).catch((e: unknown) => e), 'CANCELLED')).toBe(true);
    }, 20_000);

    it('after close(), dials are CANCELLED', async () => {
      const own = await make();
      try {
        own.dialer.close();
        own.dialer.close();
        expect(hasCode(await own.dialer.dial(own.target, v4, { signal: new AbortController().signal }).catch((e: unknown) => e), 'CANCELLED')).toBe(true);
      } finally {
        await own.cleanup();
      }
    }, 30_000);
  });
}
