/**
 * Reads container logs in the CRI file format the runtime writes (`<RFC3339Nano> <stdout|stderr> <P|F> <text>`, one
 * record per line, `P` records continued by the next ones up to an `F`), like upstream kubelet's kuberuntime logs.
 */
import { open, type FileHandle } from 'node:fs/promises';
import type { ContainerLogs } from '../types.js';

/** Options of ContainerLogs.readLogs. */
export type LogOptions = Parameters<ContainerLogs['readLogs']>[1];

/** One reassembled log line. */
export interface LogLine {
  /** The timestamp as written (RFC3339Nano). */
  readonly time: string;
  /** {@link time} in ms since the epoch (NaN when unparsable). */
  readonly ms: number;
  readonly stream: 'stdout' | 'stderr';
  /** The text including its trailing newline. */
  readonly text: string;
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
    const out: LogLine[] = [];
    let at = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; at = nl + 1, nl = text.indexOf('\n', at)) {
      const rec = parseRecord(text, at, nl);
      if (rec === undefined) continue;
      const { time, stream, partial } = rec;
      const body = text.slice(rec.body, nl);
      const pending = this.#pending.get(stream);
      const joined = pending === undefined ? body : pending + body;
      if (partial) {
        this.#pending.set(stream, joined);
        this.#pendingTime.set(stream, time);
        continue;
      }
      if (pending !== undefined) {
        this.#pending.delete(stream);
        this.#pendingTime.delete(stream);
      }
      out.push(new CriLine(time, stream, `${joined}\n`));
    }
    this.#rest = text.slice(at);
    return out;
  }
}

/** A parsed line; its time is parsed to ms only when asked (since filters, ordering): most reads never need it. */
class CriLine implements LogLine {
  constructor(
    readonly time: string,
    readonly stream: LogLine['stream'],
    readonly text: string,
  ) {}
  get ms(): number {
    return Date.parse(this.time);
  }
}

const SPACE = 0x20;

/**
 * The header of the record `text[from, end)` — `<time> <stdout|stderr> <P|F>` then a space and the body, or the end —
 * or undefined when malformed. Index arithmetic instead of a regular expression: this runs once per log line.
 */
export function parseRecord(text: string, from: number, end: number): { time: string; stream: LogLine['stream']; partial: boolean; body: number } | undefined {
  const s1 = text.indexOf(' ', from);
  if (s1 <= from || s1 + 8 >= end + 1) return undefined;
  const time = text.slice(from, s1);
  if (/\s/.test(time)) return undefined;
  let stream: LogLine['stream'];
  if (text.startsWith('stdout ', s1 + 1)) stream = 'stdout';
  else if (text.startsWith('stderr ', s1 + 1)) stream = 'stderr';
  else return undefined;
  const tagAt = s1 + 8;
  if (tagAt >= end) return undefined;
  const tag = text.charCodeAt(tagAt);
  if (tag !== 0x50 /* P */ && tag !== 0x46 /* F */) return undefined;
  if (tagAt + 1 < end && text.charCodeAt(tagAt + 1) !== SPACE) return undefined;
  return { time, stream, partial: tag === 0x50, body: Math.min(end, tagAt + 2) };
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

/** Writes to `out` until `limit` bytes were written; resolves false once the limit is reached. Waits for a full output to drain. */
class LimitedWriter {
  #left: number;
  constructor(
    private readonly out: NodeJS.WritableStream,
    limit: number | undefined,
  ) {
    this.#left = limit ?? Infinity;
  }
  async write(s: string): Promise<boolean> {
    if (this.#left <= 0) return false;
    const buf = Buffer.from(s);
    const part = buf.length > this.#left ? buf.subarray(0, this.#left) : buf;
    this.#left -= part.length;
    if (!this.out.write(part)) await new Promise<void>((r) => this.out.once('drain', r));
    return this.#left > 0;
  }
}

/** Block size of the backwards scan for a tail. */
const TAIL_CHUNK = 64 * 1024;
/** Most bytes read forward at once. */
const READ_CHUNK = 1024 * 1024;

/** Byte offset where the last `tailLines` records of a file of `size` bytes begin (reads backwards). */
export async function tailStart(fh: Pick<FileHandle, 'read'>, size: number, tailLines: number): Promise<number> {
  if (tailLines <= 0) return size;
  const buf = Buffer.alloc(Math.min(TAIL_CHUNK, Math.max(1, size)));
  let end = size;
  let count = 0;
  let skipFinal = true;
  while (end > 0) {
    const start = Math.max(0, end - buf.length);
    const { bytesRead } = await fh.read(buf, 0, end - start, start);
    for (let i = bytesRead - 1; i >= 0; i--) {
      if (buf[i] !== 0x0a) {
        skipFinal = false;
        continue;
      }
      // The newline that ends the file closes the last record; it does not separate two records.
      if (skipFinal) {
        skipFinal = false;
        continue;
      }
      if (++count === tailLines) return start + i + 1;
    }
    end = start;
  }
  return 0;
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
    const tail = o.options.tailLines;
    // A tail starts where its records begin (found reading backwards): memory and reads O(tail), not O(file).
    let pos = tail !== undefined && tail >= 0 ? await tailStart(fh, (await fh.stat()).size, tail + 1) : 0;
    /** The complete lines of the next block (at most READ_CHUNK bytes); `more` while the file goes on. */
    const readMore = async (): Promise<{ lines: LogLine[]; more: boolean }> => {
      const size = (await fh.stat()).size;
      if (size < pos) pos = 0; // truncated/rotated in place
      if (size === pos) return { lines: [], more: false };
      const buf = Buffer.alloc(Math.min(size - pos, READ_CHUNK));
      const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
      pos += bytesRead;
      return { lines: parser.push(buf.subarray(0, bytesRead).toString('utf8')), more: bytesRead > 0 && pos < size };
    };
    const since = o.options.sinceMs;
    const emit = async (l: LogLine): Promise<boolean> => (since !== undefined && since > 0 && l.ms < since ? true : writer.write(formatLine(l, timestamps)));
    if (tail === undefined || tail < 0) {
      // Streamed block by block (the writer waits for a full output to drain).
      for (let r = await readMore(); ; r = await readMore()) {
        for (const l of r.lines) if (!(await emit(l))) return;
        if (!r.more) break;
      }
      if (o.options.follow !== true) {
        for (const l of parser.flush()) if (!(await emit(l))) return;
      }
    } else {
      const initial: LogLine[] = [];
      for (let r = await readMore(); ; r = await readMore()) {
        initial.push(...r.lines);
        if (!r.more) break;
      }
      // without follow this is all there is: unfinished partial records end the output (with follow they may finish)
      const lines = o.options.follow === true ? initial : [...initial, ...parser.flush()];
      for (const l of selectLines(lines, o.options)) if (!(await writer.write(formatLine(l, timestamps)))) return;
    }
    if (o.options.follow !== true) return;
    for (;;) {
      if (o.signal?.aborted === true) return;
      const running = o.stillRunning === undefined ? false : await o.stillRunning();
      for (let r = await readMore(); ; r = await readMore()) {
        for (const l of r.lines) if (!(await emit(l))) return;
        if (!r.more) break;
      }
      if (!running) {
        // One last read: the container may have written its final lines just before stopping.
        for (let r = await readMore(); ; r = await readMore()) {
          for (const l of r.lines) if (!(await emit(l))) return;
          if (!r.more) break;
        }
        for (const l of parser.flush()) if (!(await emit(l))) return;
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
