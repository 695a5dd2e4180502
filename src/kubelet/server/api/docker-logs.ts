/**
 * Container logs straight from the Docker engine's `/containers/{id}/logs` stream, with backpressure end to end:
 * frames are demultiplexed as they arrive (8-byte headers `[stream, 0, 0, 0, size u32 BE]` unless the container has
 * a TTY), `limitBytes` ends the request, and an aborted client destroys the engine request. Memory stays bounded
 * whatever the log size (the engine does `tail` itself, reading its json-file backwards).
 */
import http from 'node:http';
import type { Readable, Writable } from 'node:stream';
import type { LogRequest } from './log-request.js';

/** Reads a container's log into `out` (see the module comment). Rejects when the engine answers an error. */
export type EngineLogReader = (id: string, request: LogRequest, out: Writable, signal: AbortSignal) => Promise<void>;

/** Splits a multiplexed stream into payloads, frames spanning chunks kept until complete. */
export class FrameSplitter {
  #pending = Buffer.alloc(0);

  /** The payloads of the frames `chunk` completes, as one buffer (undefined when none). */
  push(chunk: Buffer): Buffer | undefined {
    let buf = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    const parts: Buffer[] = [];
    while (buf.length >= 8) {
      const size = buf.readUInt32BE(4);
      if (buf.length < 8 + size) break;
      if (size > 0) parts.push(buf.subarray(8, 8 + size));
      buf = buf.subarray(8 + size);
    }
    this.#pending = Buffer.from(buf);
    if (parts.length === 0) return undefined;
    return parts.length === 1 ? parts[0] : Buffer.concat(parts);
  }
}

/**
 * Everything `r` holds buffered, as one chunk per read, until it ends (throws its error; returns when destroyed).
 * The engine flushes every log message as its own HTTP chunk, so a large log arrives as a million ~100-byte `data`
 * events: reading what accumulated instead turns them into far fewer writes (one TLS record and response chunk each)
 * while keeping backpressure (nothing is read while the caller waits for the client).
 */
export async function* coalesced(r: Readable): AsyncGenerator<Buffer> {
  // One listener for the whole read: an error while the caller waits between chunks must not go unhandled.
  let failed: Error | undefined;
  let wake: (() => void) | undefined;
  const onError = (err: Error): void => {
    failed ??= err;
    wake?.();
  };
  const onEvent = (): void => wake?.();
  r.on('error', onError);
  r.on('readable', onEvent);
  r.on('end', onEvent);
  r.on('close', onEvent);
  try {
    for (;;) {
      if (failed !== undefined) throw failed;
      const chunk = r.read() as Buffer | null;
      if (chunk !== null) {
        yield chunk;
        continue;
      }
      if (r.readableEnded) return;
      if (r.destroyed) {
        const err = failed ?? r.errored;
        if (err !== null && err !== undefined) throw err;
        return;
      }
      await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
    }
  } finally {
    r.off('readable', onEvent);
    r.off('end', onEvent);
    r.off('close', onEvent);
    // Errors after the read (the request aborted once done) are nobody's: keep them handled.
    r.off('error', onError);
    r.on('error', () => undefined);
  }
}

/** Writes `chunk` to `out`, waiting for drain (or close) when its buffer is full. */
async function write(out: Writable, chunk: Buffer): Promise<void> {
  if (out.write(chunk)) return;
  await new Promise<void>((resolve) => {
    const done = (): void => {
      out.off('drain', done);
      out.off('close', done);
      resolve();
    };
    out.on('drain', done);
    out.on('close', done);
  });
}

/**
 * GET on the engine socket. An abort destroys the request (and with it the response); the request and the response
 * have error listeners for their whole life, so what they emit after an abort is never an uncaught exception (an
 * AbortSignal given to http.get destroyed them from inside the abort dispatch, where a stream without a listener at
 * that moment crashed the daemon).
 */
function get(socketPath: string, path: string, signal: AbortSignal): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(new Error('engine log request aborted'));
      return;
    }
    let response: http.IncomingMessage | undefined;
    const onAbort = (): void => {
      response?.destroy();
      req.destroy();
    };
    const forget = (): void => signal.removeEventListener('abort', onAbort);
    const req = http.get({ socketPath, path }, (res) => {
      response = res;
      res.on('error', () => undefined); // readers see errors through their own listeners
      res.once('close', forget);
      resolve(res);
    });
    req.on('error', reject);
    req.once('close', () => {
      if (response === undefined) forget();
    });
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

async function readAll(res: http.IncomingMessage): Promise<string> {
  let body = '';
  for await (const c of res) body += String(c);
  return body;
}

/** The engine query of a log request (`since` with fractional seconds, as the docker CLI sends it). */
export function engineLogQuery(r: LogRequest): string {
  const q = new URLSearchParams({ stdout: '1', stderr: '1', follow: r.follow ? '1' : '0', timestamps: r.timestamps ? '1' : '0' });
  if (r.tailLines !== undefined) q.set('tail', String(r.tailLines));
  if (r.sinceMs !== undefined) q.set('since', (r.sinceMs / 1000).toFixed(3));
  return q.toString();
}

/** A reader over the engine's unix socket. */
export function createEngineLogReader(socketPath: string): EngineLogReader {
  return async (id, request, out, signal) => {
    const ac = new AbortController();
    const abort = (): void => ac.abort();
    signal.addEventListener('abort', abort, { once: true });
    try {
      const inspect = await get(socketPath, `/containers/${encodeURIComponent(id)}/json`, ac.signal);
      const info = JSON.parse(await readAll(inspect)) as { Config?: { Tty?: boolean }; message?: string };
      if (inspect.statusCode !== 200) throw new Error(`docker engine: ${info.message ?? `status ${inspect.statusCode}`}`);
      const res = await get(socketPath, `/containers/${encodeURIComponent(id)}/logs?${engineLogQuery(request)}`, ac.signal);
      if (res.statusCode !== 200) throw new Error(`docker engine: ${await readAll(res)}`);
      // Pull-based: the next chunk is read only after the previous one was taken by the client.
      const split = info.Config?.Tty === true ? undefined : new FrameSplitter();
      let left = request.limitBytes ?? Infinity;
      for await (const raw of coalesced(res)) {
        if (ac.signal.aborted || out.writableEnded || out.destroyed) break;
        const chunk = split === undefined ? raw : split.push(raw);
        if (chunk === undefined) continue;
        const part = chunk.length > left ? chunk.subarray(0, left) : chunk;
        left -= part.length;
        await write(out, part);
        if (left <= 0) break;
      }
    } catch (err) {
      if (!ac.signal.aborted) throw err;
    } finally {
      signal.removeEventListener('abort', abort);
      ac.abort();
    }
  };
}
