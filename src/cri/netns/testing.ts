/**
 * A NetnsDialer for tests without root: every target is this process's own network namespace. It keeps the real
 * dialer's behaviour otherwise (IPv4 then IPv6 localhost, errors and codes, abort, close) and passes the same
 * contract suite (src/cri/netns/contract.ts).
 */
import { connect, type Socket } from 'node:net';
import { NodeletError } from '../../util/index.js';
import type { DialOptions, NetnsDialer, NetnsTarget } from './types.js';

/** See module comment. */
export class LoopbackDialer implements NetnsDialer {
  #closed = false;
  /** Dials made so far (for tests). */
  dials = 0;

  async dial(_target: NetnsTarget, port: number, options: DialOptions): Promise<Socket> {
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new NodeletError('INVALID', `invalid port ${String(port)}`);
    if (this.#closed) throw new NodeletError('CANCELLED', 'port-forward dialer closed');
    if (options.signal.aborted) throw new NodeletError('CANCELLED', `port-forward to port ${String(port)} aborted`);
    this.dials++;
    const errors: string[] = [];
    for (const host of ['127.0.0.1', '::1']) {
      const socket = connect({ host, port, allowHalfOpen: true, ...(options.onread === undefined ? {} : { onread: options.onread }) });
      socket.pause();
      const ok = await new Promise<boolean>((resolve) => {
        socket.once('connect', () => resolve(true));
        socket.once('error', (e) => {
          errors.push(e.message);
          resolve(false);
        });
      });
      if (ok && options.signal.aborted) {
        socket.destroy();
        throw new NodeletError('CANCELLED', `port-forward to port ${String(port)} aborted`);
      }
      if (ok) return socket;
      socket.destroy();
    }
    throw new NodeletError('RUNTIME_ERROR', `failed to connect to localhost:${String(port)} inside namespace of ${options.object ?? 'the target'}, IPv4: ${errors[0] ?? '?'} IPv6: ${errors[1] ?? '?'}`);
  }

  close(): void {
    this.#closed = true;
  }
}
