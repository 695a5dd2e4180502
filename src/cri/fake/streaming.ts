/**
 * The fake's ContainerStreaming: a small model of exec, attach and port-forward for tests of the streaming
 * endpoints. exec runs the modelled command (or the exec handler) and reports its output and exit code; `cat`
 * copies stdin to stdout until stdin ends. attach echoes stdin to stdout and ends when stdin ends. portForward hands
 * the stream to the handler registered for the port (refused when there is none). Every session records its
 * resizes and ends on abort.
 */
import type { Duplex } from 'node:stream';
import { InvalidError, NodeletError } from '../../util/index.js';
import type { ExecResult, StreamIO, StreamSession, TerminalSize } from '../types.js';
import type { FakeContainer, FakeSandbox } from './state.js';

/** Serves one forwarded connection to a fake port (e.g. echo it back). */
export type FakePortHandler = (stream: Duplex, signal: AbortSignal) => Promise<void>;

/** What {@link FakeStreaming} needs from the fake runtime. */
export interface FakeStreamingHost {
  container(id: string): FakeContainer;
  sandbox(id: string): FakeSandbox;
  /** Runs a modelled command (execSync without timeout). */
  run(c: FakeContainer, cmd: string[], signal: AbortSignal): Promise<ExecResult>;
}

/** The open sessions and their resizes, for assertions. */
export class FakeStreaming {
  readonly #host: FakeStreamingHost;
  readonly #ports = new Map<number, FakePortHandler>();
  readonly #resizes = new Map<string, TerminalSize[]>();
  #open = 0;

  constructor(host: FakeStreamingHost) {
    this.#host = host;
  }

  /** Sessions (exec, attach, port-forward) not finished yet. */
  get openSessions(): number {
    return this.#open;
  }

  /** Resizes received by sessions of container `id`, in order. */
  resizes(id: string): TerminalSize[] {
    return [...(this.#resizes.get(id) ?? [])];
  }

  setPortHandler(port: number, handler: FakePortHandler | undefined): void {
    if (handler === undefined) this.#ports.delete(port);
    else this.#ports.set(port, handler);
  }

  async exec(id: string, cmd: string[], io: StreamIO): Promise<StreamSession> {
    const c = this.#running(id);
    return this.#session(id, io, async () => {
      if (cmd.length === 1 && cmd[0] === 'cat') {
        await copyUntilEnd(io);
        return 0;
      }
      const r = await this.#host.run(c, cmd, io.signal);
      io.stdout?.write(r.stdout);
      (io.tty ? io.stdout : io.stderr)?.write(r.stderr);
      return r.exitCode;
    });
  }

  async attach(id: string, io: StreamIO): Promise<StreamSession> {
    this.#running(id);
    return this.#session(id, io, async () => {
      await copyUntilEnd(io);
      return undefined;
    });
  }

  async portForward(podSandboxId: string, port: number, stream: Duplex, signal: AbortSignal): Promise<void> {
    const s = this.#host.sandbox(podSandboxId);
    if (s.state !== 'ready') throw new InvalidError(`pod sandbox ${podSandboxId} is not running`);
    const handler = this.#ports.get(port);
    if (handler === undefined) throw new NodeletError('RUNTIME_ERROR', `dial tcp4 127.0.0.1:${port}: connect: connection refused`);
    this.#open++;
    try {
      await handler(stream, signal);
    } finally {
      this.#open--;
    }
  }

  #running(id: string): FakeContainer {
    const c = this.#host.container(id);
    if (c.state !== 'running') throw new InvalidError(`container ${id} is not running`);
    return c;
  }

  #session(id: string, io: StreamIO, body: () => Promise<number | undefined>): StreamSession {
    this.#open++;
    const aborted = new Promise<never>((_, reject) => {
      const fail = (): void => reject(new NodeletError('CANCELLED', `session in container ${id} aborted`));
      if (io.signal.aborted) fail();
      else io.signal.addEventListener('abort', fail, { once: true });
    });
    aborted.catch(() => undefined);
    const done = Promise.race([body(), aborted]).finally(() => {
      this.#open--;
    });
    return {
      done,
      resize: (size) => {
        if (!io.tty) return;
        const list = this.#resizes.get(id) ?? [];
        list.push(size);
        this.#resizes.set(id, list);
      },
    };
  }
}

/** Copies stdin to stdout until stdin ends (immediately without stdin). */
function copyUntilEnd(io: StreamIO): Promise<void> {
  const stdin = io.stdin;
  if (stdin === undefined) return Promise.resolve();
  return new Promise((resolve) => {
    stdin.on('data', (d: Buffer) => io.stdout?.write(d));
    stdin.once('end', resolve);
    stdin.once('close', resolve);
    io.signal.addEventListener('abort', () => resolve(), { once: true });
  });
}
