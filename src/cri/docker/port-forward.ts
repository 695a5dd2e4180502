/**
 * Port-forward on the Docker engine, as dockershim did: `nsenter -t <sandbox pid> -n socat … TCP4:localhost:<port>`,
 * so the connection is made inside the pod's own network namespace and reaches ports bound only to its loopback.
 * socat talks to nodelet over one end of a unix socket pair (its fd 3), not over stdio pipes: nodelet reads the
 * other end into reused buffers (src/util/read-pool.ts) and hands them to the client's stream without a copy when
 * the stream can take borrowed buffers (a SPDY data stream) — per-read buffers were most of the agent's CPU.
 */
import { spawn } from 'node:child_process';
import type { Duplex } from 'node:stream';
import { NodeletError, PooledRelay, type RelaySink } from '../../util/index.js';
import { borrowedWriterOf } from '../types.js';
import type { SocketPairs } from './socket-pair.js';

/** socat's transfer block size, and the size of nodelet's read buffers. */
const BLOCK = 64 * 1024;

/** What {@link forwardPort} needs. */
export interface ForwardPortOptions {
  /** A process in the sandbox's network namespace (its pause container). */
  pid: number;
  port: number;
  /** The client's stream: bytes for the pod come out of it, the pod's bytes go into it. */
  stream: Duplex;
  /** Aborting ends the forward (the child is killed, the socket destroyed). */
  signal: AbortSignal;
  nsenter: string;
  socat: string;
  pairs: SocketPairs;
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
 * Relays `stream` to the port in the sandbox's network namespace until the pod's side has ended and socat exited.
 * Rejects (with socat's message) when socat fails, e.g. nothing listens on the port. Everything it started is freed
 * when it settles, when `signal` aborts or when `stream` closes.
 */
export async function forwardPort(o: ForwardPortOptions): Promise<void> {
  const relay = new PooledRelay({ sink: sinkOf(o.stream), bufferSize: BLOCK });
  const { local, remote } = await o.pairs.open({
    buffer: () => relay.pool.take(),
    callback: (nread: number, buf: Buffer): boolean => {
      relay.onRead(nread, buf);
      return true;
    },
  });
  relay.attach(local);
  local.setNoDelay?.(true);
  // socat's default 8 KiB transfer blocks cost it a read and a write syscall each: 64 KiB is a third of its CPU.
  const args = ['-t', String(o.pid), '-n', o.socat, '-b', String(BLOCK), 'FD:3', `TCP4:localhost:${String(o.port)}`];
  let child;
  try {
    child = spawn(o.nsenter, args, { stdio: ['ignore', 'ignore', 'pipe', remote] });
  } catch (err) {
    local.destroy();
    throw err;
  } finally {
    remote.destroy(); // socat holds its own copy of the descriptor
  }
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    if (stderr.length < 4096) stderr += d.toString('utf8');
  });
  const stop = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    local.destroy();
  };
  if (o.signal.aborted || o.stream.destroyed) stop(); // gone while the pair was being made
  else o.signal.addEventListener('abort', stop, { once: true });
  o.stream.once('close', stop);
  local.on('error', () => undefined);
  o.stream.pipe(local);
  // The pod's side is done when the socket ended (everything read and handed on) or was destroyed.
  const podDone = new Promise<void>((resolve) => {
    local.once('end', () => {
      o.stream.end();
      resolve();
    });
    local.once('close', () => resolve());
  });
  const exited = new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, sig) => {
      if (code === 0) resolve();
      else reject(new NodeletError('RUNTIME_ERROR', `port-forward to port ${String(o.port)} failed (${sig ?? `exit ${String(code)}`}): ${stderr.trim()}`));
    });
  });
  try {
    await Promise.all([exited, podDone]);
  } finally {
    o.signal.removeEventListener('abort', stop);
    o.stream.off('close', stop);
    o.stream.unpipe(local);
    stop();
  }
}
