import type { FakeContainer, FakeLogLine } from './state.js';

/** Options of ContainerLogs.readLogs. */
export interface ReadLogsOptions {
  follow?: boolean;
  tailLines?: number;
  sinceMs?: number;
  timestamps?: boolean;
  limitBytes?: number;
}

function format(l: FakeLogLine, timestamps: boolean): string {
  return timestamps ? `${new Date(l.at).toISOString()} ${l.line}\n` : `${l.line}\n`;
}

/**
 * Writes a fake container's log to `out` with the readLogs options; with `follow`, keeps writing new lines until the
 * container is no longer running or `signal` aborts.
 */
export async function readFakeLogs(
  c: FakeContainer,
  options: ReadLogsOptions,
  out: NodeJS.WritableStream,
  signal?: AbortSignal,
): Promise<void> {
  let budget = options.limitBytes ?? Infinity;
  const write = (l: FakeLogLine): boolean => {
    if (options.sinceMs !== undefined && l.at < options.sinceMs) return true;
    let text = format(l, options.timestamps === true);
    if (text.length > budget) text = text.slice(0, budget);
    budget -= text.length;
    if (text !== '') out.write(text);
    return budget > 0;
  };
  let lines = c.logs;
  if (options.tailLines !== undefined && options.tailLines >= 0) lines = lines.slice(-options.tailLines || lines.length);
  if (options.tailLines === 0) lines = [];
  for (const l of lines) if (!write(l)) return;
  if (options.follow !== true) return;
  let next = c.logs.length;
  await new Promise<void>((resolve) => {
    const wake = (): void => {
      while (next < c.logs.length) {
        const l = c.logs[next++];
        if (l !== undefined && !write(l)) return done();
      }
      if (c.state !== 'running' && c.state !== 'created') done();
    };
    const done = (): void => {
      c.waiters.delete(wake);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    if (signal?.aborted === true) return done();
    signal?.addEventListener('abort', done, { once: true });
    c.waiters.add(wake);
    wake();
  });
}
