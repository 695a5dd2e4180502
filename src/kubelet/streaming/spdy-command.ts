/**
 * Exec/attach over SPDY (remotecommand protocols v1 `channel.k8s.io` to v4 `v4.channel.k8s.io`): the client opens one
 * stream per channel, named by its `streamtype` header; the server waits until every expected stream exists, then
 * runs the session. v4 writes a JSON metav1.Status on the error stream, earlier versions the error text only.
 */
import type { Writable } from 'node:stream';
import type { Logger } from '../../util/index.js';
import type { CommandChannels, CommandOptions } from './command.js';
import type { SpdyConnection, SpdyStream } from '../../spdy/index.js';
import { statusText, type Status } from './status.js';

/** Protocols the SPDY exec/attach endpoint speaks, in the server's order. */
export const SPDY_COMMAND_PROTOCOLS = ['v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io'] as const;

function expectedTypes(protocol: string, o: CommandOptions): Set<string> {
  const want = new Set<string>(['error']);
  if (o.stdin) want.add('stdin');
  if (o.stdout) want.add('stdout');
  if (o.stderr) want.add('stderr');
  // Resize streams exist from v3 on, and only with a TTY.
  if (o.tty && (protocol === 'v3.channel.k8s.io' || protocol === 'v4.channel.k8s.io')) want.add('resize');
  return want;
}

function endAndWait(s: Writable | undefined): Promise<void> {
  if (s === undefined || s.destroyed || s.writableFinished) return Promise.resolve();
  return new Promise((resolve) => {
    s.once('finish', resolve);
    s.once('close', resolve);
    s.once('error', () => resolve());
    s.end();
  });
}

/**
 * Waits for the client's streams on `conn` and returns them as CommandChannels; undefined (connection closed)
 * when they did not all arrive within `timeoutMs` or the client went away first.
 */
export function acceptSpdyCommandStreams(
  conn: SpdyConnection,
  protocol: string,
  options: CommandOptions,
  timeoutMs: number,
  log: Logger,
): { streams: Promise<CommandChannels | undefined>; onStream: (s: SpdyStream) => void } {
  const want = expectedTypes(protocol, options);
  const got = new Map<string, SpdyStream>();
  let settle: (c: CommandChannels | undefined) => void = () => undefined;
  const streams = new Promise<CommandChannels | undefined>((resolve) => {
    settle = resolve;
  });
  const controller = new AbortController();
  const timer = setTimeout(() => {
    log.info({ missing: [...want].filter((t) => !got.has(t)) }, 'timed out waiting for the client to create streams');
    conn.close('stream creation timeout');
  }, timeoutMs);
  conn.onClose(() => {
    clearTimeout(timer);
    controller.abort();
    settle(undefined);
  });
  const build = (): CommandChannels => {
    const error = got.get('error') as SpdyStream;
    const channels: CommandChannels = {
      signal: controller.signal,
      writeStatus: (status: Status) => {
        const text = protocol === 'v4.channel.k8s.io' ? JSON.stringify(status) : statusText(status);
        if (text === '') return Promise.resolve();
        return new Promise<void>((resolve, reject) => error.write(text, (err) => (err ? reject(err) : resolve())));
      },
      finish: async () => {
        clearTimeout(timer);
        await Promise.all([endAndWait(got.get('stdout')), endAndWait(got.get('stderr')), endAndWait(error)]);
        conn.close('session finished');
      },
    };
    const stdin = got.get('stdin');
    if (options.stdin && stdin !== undefined) channels.stdin = stdin;
    const stdout = got.get('stdout');
    if (options.stdout && stdout !== undefined) channels.stdout = stdout;
    const stderr = got.get('stderr');
    if (options.stderr && stderr !== undefined) channels.stderr = stderr;
    const resize = got.get('resize');
    if (resize !== undefined) channels.resize = resize;
    return channels;
  };
  const onStream = (s: SpdyStream): void => {
    const type = s.streamType;
    log.debug({ type, id: s.id }, 'client opened a stream');
    if (got.has(type) || !['error', 'stdin', 'stdout', 'stderr', 'resize'].includes(type)) {
      log.debug({ type }, 'ignoring unexpected stream');
      s.reset();
      return;
    }
    got.set(type, s);
    s.on('error', () => undefined);
    if ([...want].every((t) => got.has(t))) {
      clearTimeout(timer);
      settle(build());
    }
  };
  return { streams, onStream };
}
