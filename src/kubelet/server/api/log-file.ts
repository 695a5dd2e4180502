/**
 * Streams a CRI log file (`<RFC3339Nano> <stdout|stderr> <P|F> <text>` records, as containerd writes them under
 * podLogsDir; the path the runtime reports) to a writable with bounded memory: `tailLines` finds its start by reading
 * backwards from the end in fixed chunks (cost O(tail), not O(file)), the rest is read forward chunk by chunk with
 * backpressure, `limitBytes` stops reading, and `follow` polls for growth until the container stops or the signal
 * aborts (its timer goes with the signal).
 */
import { open, type FileHandle } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import { CriLogParser, tailStart, type LogLine } from '../../../cri/containerd/logs.js';

export { tailStart };
import type { Clock } from '../../../util/clock.js';
import type { LogRequest } from './log-request.js';

const CHUNK = 64 * 1024;

/** Where lines go: resolves false once no more should be written (limit reached or the client left). */
export interface LineSink {
  write(line: LogLine): Promise<boolean>;
  /**
   * Writes the lines of one read chunk at once (one response write instead of one per line: a 100 MiB log is a
   * million lines). Used instead of {@link write} when present.
   */
  writeMany?(lines: readonly LogLine[]): Promise<boolean>;
}

/** Options of {@link streamCriLogFile}. */
export interface StreamLogFileOptions {
  path: string;
  request: LogRequest;
  sink: LineSink;
  signal: AbortSignal;
  /** Whether the container may still write (asked about once a second while following). */
  stillRunning: () => Promise<boolean>;
  clock: Pick<Clock, 'sleep' | 'monotonic'>;
  /** Poll period while following (default 250 ms). */
  pollMs?: number;
}

/** Emits the lines of one chunk: filters `since`, then the whole batch to the sink (or line by line). */
type Emit = (lines: readonly LogLine[]) => Promise<boolean>;

async function readRange(fh: FileHandle, from: number, to: number, parser: CriLogParser, decoder: StringDecoder, emit: Emit, signal: AbortSignal): Promise<{ pos: number; more: boolean }> {
  const buf = Buffer.alloc(CHUNK);
  let pos = from;
  while (pos < to && !signal.aborted) {
    const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, to - pos), pos);
    if (bytesRead === 0) break;
    pos += bytesRead;
    const lines = parser.push(decoder.write(buf.subarray(0, bytesRead)));
    if (lines.length > 0 && !(await emit(lines))) return { pos, more: false };
  }
  return { pos, more: !signal.aborted };
}

/** The {@link Emit} of a request: `since` applied, batches when the sink takes them. */
export function lineEmitter(sink: LineSink, sinceMs: number | undefined): Emit {
  return async (all) => {
    const lines = sinceMs === undefined ? all : all.filter((l) => !(l.ms < sinceMs));
    if (lines.length === 0) return true;
    if (sink.writeMany !== undefined) return sink.writeMany(lines);
    for (const l of lines) if (!(await sink.write(l))) return false;
    return true;
  };
}

/** Streams the file as requested; resolves when done, the limit is reached or `signal` aborts. */
export async function streamCriLogFile(o: StreamLogFileOptions): Promise<void> {
  let fh: FileHandle;
  try {
    fh = await open(o.path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; // nothing written yet
    throw err;
  }
  try {
    const parser = new CriLogParser();
    const decoder = new StringDecoder('utf8');
    const emit = lineEmitter(o.sink, o.request.sinceMs);
    const size = (await fh.stat()).size;
    const start = o.request.tailLines === undefined ? 0 : await tailStart(fh, size, o.request.tailLines);
    let { pos, more } = await readRange(fh, start, size, parser, decoder, emit, o.signal);
    // the output's last line may have no newline: its partial records end the output (with follow they may finish)
    const flush = async (): Promise<void> => {
      await emit(parser.flush());
    };
    if (!more) return;
    if (!o.request.follow) return flush();
    let lastCheck = o.clock.monotonic();
    for (;;) {
      const now = o.clock.monotonic();
      const running = now - lastCheck < 1000 ? true : await o.stillRunning();
      if (now - lastCheck >= 1000) lastCheck = now;
      const cur = (await fh.stat()).size;
      if (cur < pos) pos = 0; // truncated in place
      ({ pos, more } = await readRange(fh, pos, cur, parser, decoder, emit, o.signal));
      if (!more) return;
      if (!running) {
        const last = (await fh.stat()).size;
        if ((await readRange(fh, pos, last, parser, decoder, emit, o.signal)).more) await flush();
        return;
      }
      try {
        await o.clock.sleep(o.pollMs ?? 250, o.signal);
      } catch {
        return; // aborted: the client went away
      }
    }
  } finally {
    await fh.close();
  }
}
