/**
 * Reads container logs in the CRI file format the runtime writes (`<RFC3339Nano> <stdout|stderr> <P|F> <text>`, one
 * record per line, `P` records continued by the next ones up to an `F`), like upstream kubelet's kuberuntime logs.
 */
import { open } from 'node:fs/promises';
import type { ContainerLogs } from '../types.js';

/** Options of ContainerLogs.readLogs. */
export type LogOptions = Parameters<ContainerLogs['readLogs']>[1];

/** One reassembled log line. */
export interface LogLine {
  /** The timestamp as written (RFC3339Nano). */
  time: string;
  ms: number;
  stream: 'stdout' | 'stderr';
  /** The text including its trailing newline. */
  text: string;
}

/** Splits CRI log records into lines (joining partial records); `pending` carries partial text between calls. */
export class CriLogParser {
  #pending = new Map<string, string>();
  #pendingTime = new Map<string, string>();
  #rest = '';

  /**
   * Ends the input: the text of partial records no `F` record finished (output whose last line has no newline, e.g.
   * `cat` of a file without one) as lines without a trailing newline, oldest first. Upstream prints it as it is; a
   * reader that stops without this drops the container's last words.
   */
  flush(): LogLine[] {
    const out: LogLine[] = [...this.#pending.entries()].map(([stream, text]) => {
      const time = this.#pendingTime.get(stream) ?? '';
      return { time, ms: Date.parse(time), stream: stream as LogLine['stream'], text };
    });
    this.#pending.clear();
    this.#pendingTime.clear();
    return out.sort((a, b) => a.ms - b.ms);
  }

  /** Feeds raw file text; returns the complete lines it finished. Malformed records are skipped. */
  push(chunk: string): LogLine[] {
    const text = this.#rest + chunk;
    const records = text.split('\n');
    this.#rest = records.pop() ?? '';
    const out: LogLine[] = [];
    for (const rec of records) {
      const m = /^(\S+) (stdout|stderr) ([PF]) (.*)$/.exec(rec) ?? /^(\S+) (stdout|stderr) ([PF])$/.exec(rec);
      if (m === null) continue;
      const [, time = '', stream = 'stdout', tag, body = ''] = m;
      const joined = (this.#pending.get(stream) ?? '') + body;
      if (tag === 'P') {
        this.#pending.set(stream, joined);
        this.#pendingTime.set(stream, time);
        continue;
      }
      this.#pending.delete(stream);
      this.#pendingTime.delete(stream);
      out.push({ time, ms: Date.parse(time), stream: stream as LogLine['stream'], text: `${joined}\n` });
    }
    return out;
  }
}

/** Applies since/tail to complete lines. */
export function selectLines(lines: LogLine[], o: LogOptions): LogLine[] {
  let sel = o.sinceMs !== undefined && o.sinceMs > 0 ? lines.filter((l) => l.ms >= (o.sinceMs ?? 0)) : lines;
  if (o.tailLines !== undefined && o.tailLines >= 0) sel = o.tailLines === 0 ? [] : sel.slice(-o.tailLines);
  return sel;
}

/** Formats a line for output (Docker-compatible `timestamp text` with timestamps). */
export function formatLine(l: LogLine, timestamps: boolean): string {
  return timestamps ? `${l.time} ${l.text}` : l.text;
}

/** Writes to `out` until `limit` bytes were written; returns false once the limit is reached. */
class LimitedWriter {
  #left: number;
  constructor(
    private readonly out: NodeJS.WritableStream,
    limit: number | undefined,
  ) {
    this.#left = limit ?? Infinity;
  }
  write(s: string): boolean {
    if (this.#left <= 0) return false;
    const buf = Buffer.from(s);
    const part = buf.length > this.#left ? buf.subarray(0, this.#left) : buf;
    this.#left -= part.length;
    this.out.write(part);
    return this.#left > 0;
  }
}

/** Options for {@link readCriLogFile}. */
export interface ReadLogFileOptions {
  path: string;
  options: LogOptions;
  out: NodeJS.WritableStream;
  signal?: AbortSignal;
  /** With follow: whether the container may still write (polled between reads). */
  stillRunning?: () => Promise<boolean>;
  /** Follow poll period (default 200 ms). */
  pollMs?: number;
}

/** Reads (and with `follow`, keeps reading until the container stops or `signal` aborts) a CRI log file. */
export async function readCriLogFile(o: ReadLogFileOptions): Promise<void> {
  const parser = new CriLogParser();
  const writer = new LimitedWriter(o.out, o.options.limitBytes);
  const timestamps = o.options.timestamps === true;
  let fh;
  try {
    fh = await open(o.path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; // nothing written yet
    throw err;
  }
  try {
    let pos = 0;
    const readMore = async (): Promise<LogLine[]> => {
      const size = (await fh.stat()).size;
      if (size < pos) pos = 0; // truncated/rotated in place
      if (size === pos) return [];
      const buf = Buffer.alloc(size - pos);
      const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
      pos += bytesRead;
      return parser.push(buf.subarray(0, bytesRead).toString('utf8'));
    };
    const initial = await readMore();
    // without follow this is all there is: unfinished partial records end the output (with follow they may finish)
    const lines = o.options.follow === true ? initial : [...initial, ...parser.flush()];
    for (const l of selectLines(lines, o.options)) if (!writer.write(formatLine(l, timestamps))) return;
    if (o.options.follow !== true) return;
    const since = o.options.sinceMs;
    for (;;) {
      if (o.signal?.aborted === true) return;
      const running = o.stillRunning === undefined ? false : await o.stillRunning();
      for (const l of await readMore()) {
        if (since !== undefined && l.ms < since) continue;
        if (!writer.write(formatLine(l, timestamps))) return;
      }
      if (!running) {
        // One last read: the container may have written its final lines just before stopping.
        for (const l of [...(await readMore()), ...parser.flush()]) if (!writer.write(formatLine(l, timestamps))) return;
        return;
      }
      await new Promise<void>((r) => {
        const t = setTimeout(r, o.pollMs ?? 200);
        o.signal?.addEventListener('abort', () => (clearTimeout(t), r()), { once: true });
      });
    }
  } finally {
    await fh.close();
  }
}
