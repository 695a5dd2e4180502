/**
 * Exec and attach sessions, independent of the transport (SPDY or WebSocket): which streams the client asked for,
 * the resize message decoder, and the one routine that runs a session on the runtime and reports how it ended on
 * the error channel.
 */
import type { Readable, Writable } from 'node:stream';
import type { StreamIO, StreamSession, TerminalSize } from '../../cri/types.js';
import type { Logger } from '../../util/index.js';
import { exitCodeStatus, internalErrorStatus, successStatus, type Status } from './status.js';

/** What an exec/attach request asks for (query parameters of `/exec` and `/attach`). */
export interface CommandOptions {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
  /** The command (exec only; empty for attach). */
  command: string[];
}

function flag(query: URLSearchParams, ...names: string[]): boolean {
  return names.some((n) => {
    const v = query.get(n);
    return v === '1' || v === 'true';
  });
}

/**
 * Reads the options from the query. The API server sends `input`, `output`, `error`, `tty`, `command`
 * (repeated); `stdin`/`stdout`/`stderr` are accepted too, for clients calling the kubelet directly.
 */
export function parseCommandOptions(
  kind: 'exec' | 'attach',
  query: URLSearchParams,
): { ok: true; options: CommandOptions } | { ok: false; message: string } {
  const tty = flag(query, 'tty');
  const options: CommandOptions = {
    stdin: flag(query, 'input', 'stdin'),
    stdout: flag(query, 'output', 'stdout'),
    // A terminal merges stderr into stdout: no separate stream (as upstream).
    stderr: flag(query, 'error', 'stderr') && !tty,
    tty,
    command: kind === 'exec' ? query.getAll('command') : [],
  };
  if (!options.stdin && !options.stdout && !options.stderr && !flag(query, 'error', 'stderr')) {
    return { ok: false, message: 'you must specify at least 1 of stdin, stdout, stderr' };
  }
  if (kind === 'exec' && options.command.length === 0) return { ok: false, message: 'you must specify a command' };
  return { ok: true, options };
}

/**
 * Decodes the resize stream: a sequence of JSON objects `{"Width":w,"Height":h}` (no separators required), as
 * Go's json.Decoder reads it. Malformed objects are skipped.
 */
export class ResizeDecoder {
  #buf = '';

  push(chunk: Buffer | string): TerminalSize[] {
    this.#buf += chunk.toString();
    const out: TerminalSize[] = [];
    let depth = 0;
    let start = -1;
    let inString = false;
    let consumed = 0;
    for (let i = 0; i < this.#buf.length; i++) {
      const ch = this.#buf[i];
      if (inString) {
        if (ch === '\\') i++;
        else if (ch === '"') inString = false;
        continue;
      }
      if (ch === '"') inString = true;
      else if (ch === '{') {
        if (depth === 0) start = i;
        depth++;
      } else if (ch === '}' && depth > 0) {
        depth--;
        if (depth === 0) {
          const size = parseSize(this.#buf.slice(start, i + 1));
          if (size !== undefined) out.push(size);
          consumed = i + 1;
        }
      } else if (depth === 0) consumed = i + 1;
    }
    this.#buf = this.#buf.slice(consumed);
    if (this.#buf.length > 4096) this.#buf = ''; // never buffer a runaway object
    return out;
  }
}

function parseSize(text: string): TerminalSize | undefined {
  try {
    const v = JSON.parse(text) as { Width?: unknown; Height?: unknown };
    const width = Number(v.Width ?? 0);
    const height = Number(v.Height ?? 0);
    if (!Number.isInteger(width) || !Number.isInteger(height) || width < 0 || height < 0) return undefined;
    return { width, height };
  } catch {
    return undefined;
  }
}

/** The client's streams of one session, as a transport presents them. */
export interface CommandChannels {
  stdin?: Readable;
  stdout?: Writable;
  stderr?: Writable;
  /** Raw resize messages (JSON objects), when the client has a TTY and the protocol carries resizes. */
  resize?: Readable;
  /** Aborted when the client goes away. */
  signal: AbortSignal;
  /** Writes the final status on the error channel (in the protocol's encoding). */
  writeStatus(status: Status): Promise<void>;
  /** Ends every stream and the connection, after the output was flushed. */
  finish(): Promise<void>;
}

/** Starts the session on the runtime. */
export type SessionStarter = (io: StreamIO) => Promise<StreamSession>;

/**
 * Runs one exec/attach session: starts it, forwards resizes, waits for its end, writes the Status (success,
 * non-zero exit code, or internal error) and finishes the connection. Never throws.
 */
export async function runCommandSession(
  kind: 'exec' | 'attach',
  options: CommandOptions,
  channels: CommandChannels,
  start: SessionStarter,
  log: Logger,
): Promise<void> {
  if (channels.signal.aborted) {
    // The client went away between opening its streams and the start: start nothing.
    await channels.finish();
    return;
  }
  const io: StreamIO = { tty: options.tty, signal: channels.signal };
  if (channels.stdin !== undefined) io.stdin = channels.stdin;
  if (channels.stdout !== undefined) io.stdout = channels.stdout;
  if (channels.stderr !== undefined) io.stderr = channels.stderr;
  let status: Status;
  try {
    const session = await start(io);
    if (channels.resize !== undefined) {
      const decoder = new ResizeDecoder();
      channels.resize.on('data', (chunk: Buffer) => {
        for (const size of decoder.push(chunk)) session.resize(size);
      });
      channels.resize.on('error', () => undefined);
    }
    const code = await session.done;
    status = code === undefined || code === 0 ? successStatus() : exitCodeStatus(options.command, code);
  } catch (err) {
    if (channels.signal.aborted) {
      log.debug({ kind }, 'streaming session aborted by the client');
      await channels.finish();
      return;
    }
    const message = err instanceof Error ? err.message : String(err);
    log.info({ kind, err: message }, 'streaming session failed');
    status = internalErrorStatus(kind === 'exec' ? `error executing command in container: ${message}` : message);
  }
  if (!channels.signal.aborted) {
    try {
      await channels.writeStatus(status);
    } catch {
      // The client went away while we reported: nothing left to tell it.
    }
  }
  await channels.finish();
}
