/**
 * Port-forward over SPDY (`portforward.k8s.io`): for every forwarded connection the client opens a pair of streams,
 * `streamtype: error` and `streamtype: data`, with the same `port` and `requestid` headers. The server connects the
 * data stream to the port inside the pod and writes a failure as text on the error stream, then closes both.
 */
import type { Duplex } from 'node:stream';
import type { Logger } from '../../util/index.js';
import type { SpdyConnection, SpdyStream } from '../../spdy/index.js';

/** The SPDY sub-protocol of port-forward. */
export const SPDY_PORTFORWARD_PROTOCOL = 'portforward.k8s.io';

/** Connects one stream to a port in the pod; rejects with a message when the connection fails. */
export type PortForwarder = (port: number, stream: Duplex, signal: AbortSignal) => Promise<void>;

interface Pair {
  data?: SpdyStream;
  error?: SpdyStream;
  timer: NodeJS.Timeout;
}

/** Parses a port header/parameter: an integer 1..65535, else undefined. */
export function parsePort(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d{1,5}$/.test(value)) return undefined;
  const n = Number(value);
  return n >= 1 && n <= 65535 ? n : undefined;
}

/**
 * The request id pairing a data and an error stream. Clients before 1.1 sent none: then the data stream's pair is
 * the error stream opened just before it (stream id - 2), as upstream.
 */
export function requestId(s: SpdyStream): string {
  const id = s.headers['requestid'];
  if (id !== undefined && id !== '') return id;
  return String(s.streamType === 'data' ? s.id - 2 : s.id);
}

/** Serves port-forward stream pairs on `conn` until it closes. Returns the stream handler to give the connection. */
export function servePortForwardSpdy(
  conn: SpdyConnection,
  podName: string,
  podUid: string,
  forward: PortForwarder,
  pairTimeoutMs: number,
  log: Logger,
): (s: SpdyStream) => void {
  const pairs = new Map<string, Pair>();
  conn.onClose(() => {
    for (const p of pairs.values()) clearTimeout(p.timer);
    pairs.clear();
  });
  const run = async (data: SpdyStream, error: SpdyStream): Promise<void> => {
    const port = parsePort(data.headers['port']);
    const controller = new AbortController();
    const abort = (): void => controller.abort();
    const unsubscribe = conn.onClose(abort);
    error.once('close', abort);
    try {
      if (port === undefined) throw new Error(`invalid port ${JSON.stringify(data.headers['port'] ?? '')}`);
      await forward(port, data, controller.signal);
    } catch (err) {
      const msg = `error forwarding port ${data.headers['port'] ?? ''} to pod ${podName}, uid ${podUid}: ${(err as Error).message}`;
      log.info({ port: data.headers['port'] }, msg);
      if (!error.destroyed) error.write(msg);
    } finally {
      unsubscribe();
      error.off('close', abort);
      if (!data.destroyed) data.end();
      if (!error.destroyed) error.end();
    }
  };
  return (s: SpdyStream): void => {
    const type = s.streamType;
    s.on('error', () => undefined);
    if (type !== 'data' && type !== 'error') {
      s.reset();
      return;
    }
    const id = requestId(s);
    let pair = pairs.get(id);
    if (pair === undefined) {
      const timer = setTimeout(() => {
        pairs.delete(id);
        log.info({ requestId: id }, 'timed out waiting for the second stream of a port-forward pair');
        pair?.data?.reset();
        pair?.error?.reset();
      }, pairTimeoutMs);
      pair = { timer };
      pairs.set(id, pair);
    }
    if (pair[type] !== undefined) {
      s.reset();
      return;
    }
    pair[type] = s;
    if (pair.data !== undefined && pair.error !== undefined) {
      clearTimeout(pair.timer);
      pairs.delete(id);
      void run(pair.data, pair.error);
    }
  };
}
