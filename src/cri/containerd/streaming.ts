/**
 * ContainerStreaming on a CRI runtime: the CRI Exec/Attach/PortForward calls return a URL on the runtime's own
 * streaming server (containerd's), which speaks the same protocols as the kubelet's endpoints. nodelet connects to
 * it as a WebSocket client (`v5.channel.k8s.io`/`v4.channel.k8s.io` for exec/attach, `v4.channel.k8s.io` for
 * port-forward) and relays the session: channel 0 stdin, 1 stdout, 2 stderr, 3 the final Status, 4 resize, 255
 * close (v5). The runtime enters the pod's network namespace itself for port-forward.
 */
import type { Duplex } from 'node:stream';
import { WebSocket } from 'ws';
import { NodeletError, type Logger } from '../../util/index.js';
import type { ContainerStreaming, StreamIO, StreamSession, TerminalSize } from '../types.js';

/** The three CRI calls that hand out streaming URLs. */
export interface CriStreamingCalls {
  exec(req: { containerId: string; cmd: string[]; tty: boolean; stdin: boolean; stdout: boolean; stderr: boolean }): Promise<string>;
  attach(req: { containerId: string; tty: boolean; stdin: boolean; stdout: boolean; stderr: boolean }): Promise<string>;
  portForward(req: { podSandboxId: string; port: number[] }): Promise<string>;
}

function wsUrl(url: string): string {
  return url.replace(/^http/, 'ws');
}

/** An open WebSocket and a way to take over its messages (including any that arrived with the upgrade answer). */
interface Opened {
  ws: WebSocket;
  onMessage(listener: (data: Buffer) => void): void;
}

function connect(url: string, protocols: string[], signal: AbortSignal): Promise<Opened> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrl(url), protocols, { perMessageDeflate: false });
    const abort = (): void => ws.terminate();
    signal.addEventListener('abort', abort, { once: true });
    // Messages can arrive in the same tick as 'open': buffer them until the relay listens.
    const early: Buffer[] = [];
    let listener: ((data: Buffer) => void) | undefined;
    ws.on('message', (data: Buffer) => (listener === undefined ? early.push(data) : listener(data)));
    const onMessage = (l: (data: Buffer) => void): void => {
      listener = l;
      for (const d of early.splice(0)) l(d);
    };
    ws.once('open', () => resolve({ ws, onMessage }));
    ws.once('unexpected-response', (_req, res) => {
      signal.removeEventListener('abort', abort);
      reject(new NodeletError('RUNTIME_ERROR', `runtime streaming server answered ${res.statusCode ?? '?'} for ${url}`));
      ws.terminate();
    });
    ws.once('error', (err) => {
      signal.removeEventListener('abort', abort);
      reject(new NodeletError('RUNTIME_ERROR', `runtime streaming server: ${err.message}`, { cause: err }));
    });
    ws.once('close', () => signal.removeEventListener('abort', abort));
  });
}

/** Exit code from the final Status on channel 3: 0 for none/Success; throws for other failures. */
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

/** Relays one exec/attach session over an open channel WebSocket. */
function relay({ ws, onMessage }: Opened, io: StreamIO): StreamSession {
  const v5 = ws.protocol.startsWith('v5.');
  let statusText = '';
  onMessage((data: Buffer) => {
    const ch = data[0];
    const payload = data.subarray(1);
    if (payload.length === 0) return;
    if (ch === 1) io.stdout?.write(payload);
    else if (ch === 2) io.stderr?.write(payload);
    else if (ch === 3) statusText += payload.toString();
  });
  const stdin = io.stdin;
  if (stdin !== undefined) {
    stdin.on('data', (d: Buffer) => {
      if (ws.readyState === ws.OPEN) ws.send(Buffer.concat([Buffer.from([0]), d]));
    });
    stdin.once('end', () => {
      if (v5 && ws.readyState === ws.OPEN) ws.send(Buffer.from([255, 0]));
    });
  }
  const done = new Promise<number>((resolve, reject) => {
    ws.once('close', () => {
      if (io.signal.aborted) {
        reject(new NodeletError('CANCELLED', 'streaming session aborted'));
        return;
      }
      try {
        resolve(exitCodeOf(statusText));
      } catch (err) {
        reject(err as Error);
      }
    });
  });
  return {
    done,
    resize: (size: TerminalSize) => {
      if (!io.tty || ws.readyState !== ws.OPEN) return;
      ws.send(Buffer.concat([Buffer.from([4]), Buffer.from(JSON.stringify({ Width: size.width, Height: size.height }))]));
    },
  };
}

/** See module comment. */
export class CriStreaming implements ContainerStreaming {
  readonly #calls: CriStreamingCalls;
  readonly #log: Logger;

  constructor(calls: CriStreamingCalls, logger: Logger) {
    this.#calls = calls;
    this.#log = logger;
  }

  async exec(containerId: string, cmd: string[], io: StreamIO): Promise<StreamSession> {
    const url = await this.#calls.exec({ containerId, cmd, tty: io.tty, stdin: io.stdin !== undefined, stdout: io.stdout !== undefined, stderr: !io.tty && io.stderr !== undefined });
    return relay(await connect(url, ['v5.channel.k8s.io', 'v4.channel.k8s.io'], io.signal), io);
  }

  async attach(containerId: string, io: StreamIO): Promise<StreamSession> {
    const url = await this.#calls.attach({ containerId, tty: io.tty, stdin: io.stdin !== undefined, stdout: io.stdout !== undefined, stderr: !io.tty && io.stderr !== undefined });
    const session = relay(await connect(url, ['v5.channel.k8s.io', 'v4.channel.k8s.io'], io.signal), io);
    return { resize: session.resize, done: session.done.then(() => undefined) };
  }

  async portForward(podSandboxId: string, port: number, stream: Duplex, signal: AbortSignal): Promise<void> {
    const url = await this.#calls.portForward({ podSandboxId, port: [port] });
    const sep = url.includes('?') ? '&' : '?';
    const { ws, onMessage } = await connect(`${url}${sep}port=${port}`, ['v4.channel.k8s.io'], signal);
    const seen = new Set<number>();
    const prefix = Buffer.from([port & 0xff, port >> 8]);
    let error = '';
    onMessage((data: Buffer) => {
      const ch = data[0] as number;
      const payload = data.subarray(1);
      // Upstream's v4 protocol starts every channel with the port number (2 bytes, little-endian) in a message of
      // its own; skip it when it is there.
      const first = !seen.has(ch);
      seen.add(ch);
      if (payload.length === 0 || (first && payload.equals(prefix))) return;
      if (ch === 0) stream.write(payload);
      else if (ch === 1) error += payload.toString();
    });
    stream.on('data', (d: Buffer) => {
      if (ws.readyState === ws.OPEN) ws.send(Buffer.concat([Buffer.from([0]), d]));
    });
    const onStreamClose = (): void => ws.terminate();
    stream.once('close', onStreamClose);
    await new Promise<void>((resolve) => ws.once('close', () => resolve()));
    stream.off('close', onStreamClose);
    if (!stream.destroyed) stream.end();
    if (error !== '') throw new NodeletError('RUNTIME_ERROR', error);
    if (signal.aborted) this.#log.debug({ podSandboxId, port }, 'port-forward aborted');
  }
}
