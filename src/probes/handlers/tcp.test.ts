import { describe, expect, it } from 'vitest';
import { createServer, type AddressInfo } from 'node:net';
import { RealClock } from '../../util/index.js';
import { tcpProbe } from './tcp.js';

const clock = new RealClock();

describe('tcpSocket handler against local sockets', () => {
  it('an open port is success', async () => {
    const srv = createServer((s) => s.end());
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as AddressInfo).port;
    try {
      expect(await tcpProbe('127.0.0.1', port, 1000, clock)).toEqual({ result: 'success', output: '' });
    } finally {
      await new Promise((r) => srv.close(r));
    }
  });

  it('a closed port fails with the upstream dial text', async () => {
    const srv = createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as AddressInfo).port;
    await new Promise((r) => srv.close(r));
    expect(await tcpProbe('127.0.0.1', port, 1000, clock)).toEqual({
      result: 'failure',
      output: `dial tcp 127.0.0.1:${port}: connect: connection refused`,
    });
  });

  it('refuses non-IP hosts without resolving', async () => {
    expect((await tcpProbe('example.invalid', 80, 1000, clock)).result).toBe('failure');
  });
});
