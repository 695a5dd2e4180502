/**
 * Port-forward of one client stream into a sandbox: a connection made by a {@link NetnsDialer} inside the sandbox's
 * network namespace (so ports bound only to the pod's loopback are reached, as upstream), relayed both ways. The
 * pod's bytes are read into reused buffers (src/util/read-pool.ts) and handed to the client's stream without a copy
 * when it can take borrowed buffers (a SPDY data stream).
 */
import type { Duplex } from 'node:stream';
import { PooledRelay, type RelaySink } from '../../util/index.js';
import { borrowedWriterOf } from '../types.js';
import type { NetnsDialer, NetnsTarget } from './types.js';

/** Read buffer size: libuv's own suggestion for a stream read. */
const BLOCK = 64 * 1024;

/** After the pod's side ended, how long the client's side may still send (containerd: 1 s). */
const CLOSE_GRACE_MS = 1000;

/** What {@link forwardPort} needs. */
export interface ForwardPortOptions {
  dialer: NetnsDialer;
  target: NetnsTarget;
  port: number;
  /** The client's stream: bytes for the pod come out of it, the pod's bytes go into it. */
  stream: Duplex;
  /** Aborting ends the forward (the connection is destroyed). */
  signal: AbortSignal;
  /** Names the sandbox in errors. */
  object: string;
}

/** Writes into `stream`: borrowed when it can take borrowed buffers, else a copy per read. */
function sinkOf(stream: Duplex): RelaySink {
  const borrowed = borrowedWriterOf(stream);
  if (borrowed !== undefined) {
    return {
      write: (chunk, cb) => {
        borrowed.writeBorrowed(chunk, () => cb());
        return true;
      },
    };
  }
  return { write: (chunk, cb) => stream.write(Buffer.from(chunk), cb) };
}

/**
 * Relays `stream` to `port` in the target namespace until both sides ended (each end passed on as a half-close; the
 * client gets a second after the pod's end) or either side closed. Rejects (CANCELLED, RUNTIME_ERROR, NOT_FOUND) when the connection cannot be
 * made. The connection is destroyed when it settles, when `signal` aborts or when `stream` closes.
 */
export async function forwardPort(o: ForwardPortOptions): Promise<void> {
  const relay = new PooledRelay({ sink: sinkOf(o.stream), bufferSize: BLOCK });
  const socket = await o.dialer.dial(o.target, o.port, {
    signal: o.signal,
    object: o.object,
    onread: {
      buffer: () => relay.pool.take(),
      callback: (nread: number, buf: Uint8Array): boolean => {
        relay.onRead(nread, buf as Buffer);
        return true;
      },
    },
  });
  relay.attach(socket);
  socket.setNoDelay(true);
  socket.on('error', () => undefined);
  const stop = (): void => void socket.destroy();
  if (o.signal.aborted || o.stream.destroyed) stop();
  else o.signal.addEventListener('abort', stop, { once: true });
  o.stream.once('close', stop);
  o.stream.on('error', stop); // a failed client stream ends the forward (and is not left unhandled)
  o.stream.pipe(socket);
  let grace: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((resolve) => {
      socket.once('end', () => {
        // The pod finished sending: pass the end on, and give the client's side up to a second to finish too (as
        // containerd does), unless it already has (its end was passed to the pod as a half-close).
        o.stream.end();
        if (socket.writableFinished) return resolve();
        socket.once('finish', resolve);
        grace = setTimeout(resolve, CLOSE_GRACE_MS);
      });
      socket.once('close', () => resolve());
      socket.resume();
    });
  } finally {
    clearTimeout(grace);
    o.signal.removeEventListener('abort', stop);
    o.stream.off('close', stop);
    o.stream.unpipe(socket);
    stop();
  }
}
