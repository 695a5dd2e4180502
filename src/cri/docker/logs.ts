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

/**
 * Streams a container's log (stdout and stderr interleaved as written) into `out`. Non-TTY logs are multiplexed
 * by the engine and demultiplexed here. With `follow`, runs until the container stops or `signal` aborts.
 */
export async function readDockerLogs(
  docker: Docker,
  container: Docker.Container,
  tty: boolean,
  o: DockerLogOptions,
  out: NodeJS.WritableStream,
  signal?: AbortSignal,
): Promise<void> {
  const stream = (await container.logs({
    follow: true,
    stdout: true,
    stderr: true,
    timestamps: o.timestamps === true,
    tail: o.tailLines !== undefined && o.tailLines >= 0 ? o.tailLines : 'all',
    since: o.sinceMs !== undefined ? Math.floor(o.sinceMs / 1000) : 0,
    ...(o.follow === true ? {} : { until: Math.ceil(Date.now() / 1000) + 1 }),
  } as Docker.ContainerLogsOptions & { follow: true })) as NodeJS.ReadableStream & { destroy: () => void };
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
