/**
 * ContainerStreaming on a CRI runtime: the CRI Exec/Attach/PortForward calls return a URL on the runtime's own
 * streaming server (containerd's), which speaks the same protocols as the kubelet's endpoints. nodelet connects to it
 * as a SPDY/3.1 client (remotecommand `v4.channel.k8s.io`, `portforward.k8s.io`) — SPDY rather than WebSocket because
 * its streams half-close, so stdin EOF (`kubectl cp` into a pod) and port-forward request bodies reach the process.
 * Port-forward is not done here: nodelet connects inside the sandbox's network namespace itself (src/cri/netns).
 */
import { connect, type Socket } from 'node:net';
import type { Writable } from 'node:stream';
import { connectSpdy, type SpdyConnection, type SpdyStream } from '../../spdy/index.js';
import { NodeletError, type Logger } from '../../util/index.js';
import type { ContainerStreaming, ExecShape, PreparedExec, StreamIO, StreamSession, TerminalSize } from '../types.js';
import type { ExecTicket } from './exec-reaper.js';

/** The three CRI calls that hand out streaming URLs. */
export interface CriStreamingCalls {
  exec(req: { containerId: string; cmd: string[]; tty: boolean; stdin: boolean; stdout: boolean; stderr: boolean }): Promise<string>;
  attach(req: { containerId: string; tty: boolean; stdin: boolean; stdout: boolean; stderr: boolean }): Promise<string>;
}

/** Finds and kills the process of an exec whose client went away (see exec-reaper.ts). */
export interface AbortedExecReaper {
  track(containerId: string, cmd: string[]): Promise<ExecTicket>;
}

/** Exit code from the final v4 Status: 0 for none/Success; throws for other failures. */
export function exitCodeOf(statusText: string): number {
  if (statusText.trim() === '') return 0;
  let status: { status?: string; reason?: string; message?: string; details?: { causes?: { reason?: string; message?: string }[] } };
  try {
    status = JSON.parse(statusText) as typeof status;
  } catch {
    throw new NodeletError('RUNTIME_ERROR', statusText);
  }
  if (status.status === 'Success') return 0;
  const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
  if (status.reason === 'NonZeroExitCode' && cause?.message !== undefined) return Number(cause.message);
  throw new NodeletError('RUNTIME_ERROR', status.message ?? statusText);
}

function ended(s: SpdyStream): Promise<void> {
  return new Promise((resolve) => {
    if (s.readableEnded || s.destroyed) resolve();
    s.once('end', resolve);
    s.once('close', resolve);
  });
}

function textOf(s: SpdyStream): Promise<string> {
  let text = '';
  s.on('data', (d: Buffer) => (text += d.toString()));
  return ended(s).then(() => text);
}

/** How long an aborted attach waits for the streaming server to answer its streams before closing anyway. */
const ESTABLISH_WAIT_MS = 5_000;

/** Resolves when the peer replied to every stream in `streams` (or one ended), or after `ms`. */
function replied(streams: readonly SpdyStream[], ms: number): Promise<void> {
  const each = streams.map((st) => new Promise<void>((resolve) => {
    st.once('reply', () => resolve());
    st.once('close', () => resolve());
  }));
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    void Promise.all(each).then(() => {
      clearTimeout(t);
      resolve();
    });
  });
}

/**
 * Opens the remotecommand streams for `io` and relays them until the server reports the end. `opened` collects the
 * streams as they are opened (for a graceful abort).
 */
function relay(conn: SpdyConnection, io: StreamIO, opened: SpdyStream[] = []): StreamSession {
  const open = (type: string): SpdyStream => {
    const st = conn.openStream({ streamtype: type });
    opened.push(st);
    return st;
  };
  const error = open('error');
  const status = textOf(error);
  error.end();
  const outputs: Promise<void>[] = [];
  const pipeOut = (type: string, to: NodeJS.WritableStream | undefined): void => {
    if (to === undefined) return;
    const s = open(type);
    s.end();
    s.pipe(to as Writable, { end: false });
    outputs.push(ended(s));
  };
  if (io.stdin !== undefined) io.stdin.pipe(open('stdin'));
  pipeOut('stdout', io.stdout);
  if (!io.tty) pipeOut('stderr', io.stderr);
  const resize = io.tty ? open('resize') : undefined;
  resize?.on('error', () => undefined);
  const done = (async (): Promise<number> => {
    const text = await status;
    await Promise.all(outputs);
    conn.close('session finished');
    if (io.signal.aborted) throw new NodeletError('CANCELLED', 'streaming session aborted');
    return exitCodeOf(text);
  })();
  return {
    done,
    resize: (size: TerminalSize) => {
      if (resize !== undefined && !resize.destroyed) resize.write(JSON.stringify({ Width: size.width, Height: size.height }));
    },
  };
}

/** See module comment. */
export class CriStreaming implements Pick<ContainerStreaming, 'exec' | 'attach'> {
  readonly #calls: CriStreamingCalls;
  readonly #log: Logger;
  readonly #reaper: AbortedExecReaper | undefined;
  /** Where the runtime's streaming server was last (its exec URLs' host and port). */
  #streamingAddress: { host: string; port: number } | undefined;

  /** With `reaper`, an aborted exec's process is killed before the session's `done` rejects. */
  constructor(calls: CriStreamingCalls, logger: Logger, reaper?: AbortedExecReaper) {
    this.#calls = calls;
    this.#log = logger;
    this.#reaper = reaper;
  }

  async exec(containerId: string, cmd: string[], io: StreamIO): Promise<StreamSession> {
    const shape = { tty: io.tty, stdin: io.stdin !== undefined, stdout: io.stdout !== undefined, stderr: io.stderr !== undefined };
    return (await this.prepareExec(containerId, cmd, shape)).start(io);
  }

  /**
   * The CRI Exec URL and the connection to the streaming server, made before the client's streams are there
   * (ExecPreparer); the streaming server starts the process only once start() opened the streams.
   */
  async prepareExec(containerId: string, cmd: string[], shape: ExecShape): Promise<PreparedExec> {
    // The ticket (the time since boot) is taken while the URL is asked for: the process cannot have started before.
    const tracking = this.#reaper?.track(containerId, cmd);
    // A TCP connection to the streaming server (its address from the last URL) is made while the URL is asked for.
    const early = this.#streamingAddress === undefined ? undefined : connect(this.#streamingAddress);
    early?.on('error', () => undefined);
    let url: string;
    try {
      url = await this.#calls.exec({ containerId, cmd, tty: shape.tty, stdin: shape.stdin, stdout: shape.stdout, stderr: !shape.tty && shape.stderr });
    } catch (err) {
      early?.destroy();
      void tracking?.then((t) => t.release());
      throw err;
    }
    const socket = this.#reuse(url, early);
    const aborted = new AbortController();
    // The upgrade is sent while the ticket is still being taken (neither waits for the other).
    const connecting = connectSpdy(url, ['v4.channel.k8s.io'], aborted.signal, this.#log, socket);
    connecting.catch(() => undefined);
    const ticket = await tracking;
    let conn: SpdyConnection;
    try {
      ({ conn } = await connecting);
    } catch (err) {
      ticket?.release();
      throw err;
    }
    let used = false;
    return {
      cancel: () => {
        if (used) return;
        used = true;
        ticket?.release();
        conn.close('exec not started');
      },
      start: (io) => {
        if (used) return Promise.reject(new NodeletError('RUNTIME_ERROR', 'prepared exec already used'));
        used = true;
        if (io.signal.aborted) aborted.abort();
        else io.signal.addEventListener('abort', () => aborted.abort(), { once: true });
        const session = relay(conn, io);
        const done = session.done.then(
          (code) => {
            ticket?.release();
            return code;
          },
          async (err: unknown) => {
            if (io.signal.aborted && ticket !== undefined) await ticket.reap().catch(() => undefined);
            else ticket?.release();
            throw err;
          },
        );
        return Promise.resolve({ done, resize: session.resize });
      },
    };
  }

  /**
   * `early` when it was made to the URL's own address (and has not failed), else undefined (destroyed); remembers the
   * URL's address for the next exec.
   */
  #reuse(url: string, early: Socket | undefined): Socket | undefined {
    let address: { host: string; port: number } | undefined;
    try {
      const u = new URL(url);
      if (u.protocol === 'http:') address = { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || 80) };
    } catch {
      address = undefined;
    }
    const same = early !== undefined && address !== undefined && this.#streamingAddress?.host === address.host && this.#streamingAddress.port === address.port;
    this.#streamingAddress = address;
    if (same && !early.destroyed) return early;
    early?.destroy();
    return undefined;
  }

  async attach(containerId: string, io: StreamIO): Promise<StreamSession> {
    const url = await this.#calls.attach({ containerId, tty: io.tty, stdin: io.stdin !== undefined, stdout: io.stdout !== undefined, stderr: !io.tty && io.stderr !== undefined });
    // An abort closes the connection only once containerd answered the streams: torn down while its streaming
    // server was still setting the session up, containerd 1.6 never saw the container's init die afterwards
    // (StopContainer/RemovePodSandbox hung until their deadline; test/integration/cri-containerd-streaming).
    const closing = new AbortController();
    const { conn } = await connectSpdy(url, ['v4.channel.k8s.io'], closing.signal, this.#log);
    const opened: SpdyStream[] = [];
    const session = relay(conn, io, opened);
    const onAbort = (): void => void replied(opened, ESTABLISH_WAIT_MS).then(() => closing.abort());
    if (io.signal.aborted) onAbort();
    else io.signal.addEventListener('abort', onAbort, { once: true });
    const done = session.done.finally(() => io.signal.removeEventListener('abort', onAbort));
    return { resize: session.resize, done: done.then(() => undefined) };
  }
}
