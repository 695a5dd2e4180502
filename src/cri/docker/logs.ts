import { Writable } from 'node:stream';
import type Docker from 'dockerode';

/** Options of ContainerLogs.readLogs. */
export interface DockerLogOptions {
  follow?: boolean;
  tailLines?: number;
  sinceMs?: number;
  timestamps?: boolean;
  limitBytes?: number;
}

/** A writable that forwards to `out` until `limit` bytes were written, then calls `done`. */
function limited(out: NodeJS.WritableStream, limit: number, done: () => void): Writable {
  let left = limit;
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      if (left <= 0) return cb();
      const part = chunk.length > left ? chunk.subarray(0, left) : chunk;
      left -= part.length;
      out.write(part);
      if (left <= 0) done();
      cb();
    },
  });
}

/** Payloads of a multiplexed (non-TTY) log buffer: 8-byte headers `[stream, 0, 0, 0, size u32 BE]`. */
export function demuxBuffer(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let off = 0;
  while (off + 8 <= buf.length) {
    const size = buf.readUInt32BE(off + 4);
    out.push(buf.subarray(off + 8, off + 8 + size));
    off += 8 + size;
  }
  return out;
}

function logOptions(o: DockerLogOptions): Docker.ContainerLogsOptions {
  return {
    stdout: true,
    stderr: true,
    timestamps: o.timestamps === true,
    tail: o.tailLines !== undefined && o.tailLines >= 0 ? o.tailLines : undefined,
    since: o.sinceMs !== undefined ? Math.floor(o.sinceMs / 1000) : 0,
  };
}

/**
 * Writes a container's log (stdout and stderr interleaved as written) into `out`. Non-TTY logs are multiplexed by the
 * engine and demultiplexed here. With `follow`, runs until the container stops or `signal` aborts.
 */
export async function readDockerLogs(
  docker: Docker,
  container: Docker.Container,
  tty: boolean,
  o: DockerLogOptions,
  out: NodeJS.WritableStream,
  signal?: AbortSignal,
): Promise<void> {
  if (o.follow !== true) {
    const buf = (await container.logs({ ...logOptions(o), follow: false })) as Buffer;
    let left = o.limitBytes ?? Infinity;
    for (const part of tty ? [buf] : demuxBuffer(buf)) {
      if (left <= 0) break;
      const p = part.length > left ? part.subarray(0, left) : part;
      left -= p.length;
      out.write(p);
    }
    return;
  }
  const stream = (await container.logs({ ...logOptions(o), follow: true })) as NodeJS.ReadableStream & {
    destroy: () => void;
  };
  await new Promise<void>((resolve, reject) => {
    const stop = (): void => {
      stream.destroy();
      resolve();
    };
    const sink = limited(out, o.limitBytes ?? Infinity, stop);
    if (tty) stream.pipe(sink);
    else docker.modem.demuxStream(stream, sink, sink);
    if (signal?.aborted === true) return stop();
    signal?.addEventListener('abort', stop, { once: true });
    stream.on('end', resolve);
    stream.on('close', resolve);
    stream.on('error', reject);
  });
}
