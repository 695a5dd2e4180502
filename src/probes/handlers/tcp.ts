/**
 * The tcpSocket handler (upstream pkg/probe/tcp): success when a TCP connection opens within the timeout (closed at
 * once); otherwise a failure with Go's dial text, e.g. `dial tcp 10.0.0.5:80: connect: connection refused` or
 * `dial tcp 10.0.0.5:80: i/o timeout`.
 */
import { connect, isIP } from 'node:net';
import type { Clock } from '../../util/index.js';
import { goDialErrorText, joinHostPort, type ProbeOutcome } from './types.js';

/** Runs one TCP probe against an IP literal; never rejects. */
export function tcpProbe(ip: string, port: number, timeoutMs: number, clock: Clock): Promise<ProbeOutcome> {
  const addr = joinHostPort(ip, port);
  if (isIP(ip) === 0) return Promise.resolve({ result: 'failure', output: `dial tcp ${addr}: not an IP address` });
  return new Promise<ProbeOutcome>((resolve) => {
    const socket = connect({ host: ip, port });
    const finish = (o: ProbeOutcome): void => {
      clock.clearTimeout(timer);
      socket.removeAllListeners();
      socket.on('error', () => undefined);
      socket.destroy();
      resolve(o);
    };
    const timer = clock.setTimeout(() => finish({ result: 'failure', output: `dial tcp ${addr}: i/o timeout` }), timeoutMs);
    socket.once('connect', () => finish({ result: 'success', output: '' }));
    socket.once('error', (err: NodeJS.ErrnoException) =>
      finish({ result: 'failure', output: `dial tcp ${addr}: ${goDialErrorText(err)}` }),
    );
  });
}
