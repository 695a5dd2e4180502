import { PassThrough, Writable, type Duplex } from 'node:stream';
import type Docker from 'dockerode';
import { InvalidError, NodeletError, NotFoundError, type Logger } from '../../util/index.js';
import type { ContainerStreaming, StreamIO, StreamSession, TerminalSize } from '../types.js';
import { engineMessage, engineStatus, mapDockerError } from './errors.js';
import { DOCKER_LABELS } from './labels.js';
import { forwardPort, type NetnsDialer } from '../netns/index.js';

/** Options for {@link DockerStreaming}. */
export interface DockerStreamingOptions {
  docker: Docker;
  socketPath: string;
  logger: Logger;
  /** Makes port-forward's connections inside the sandbox's network namespace. */
  dialer: NetnsDialer;
}

/**
 * Applies a TTY size, retrying as the docker CLI does for an exec's first size: the engine answers the hijacked start
 * before the process runs, and a resize of an exec whose process has not started yet fails. Up to 10 retries,
 * (n+1)×10 ms apart, while `current()` says this size is still the one wanted.
 */
async function resizeWithRetries(apply: () => Promise<unknown>, current: () => boolean): Promise<void> {
  for (let retry = 0; ; retry++) {
    try {
      await apply();
      return;
    } catch (err) {
      if (retry >= 10 || !current()) throw err;
      await new Promise((r) => setTimeout(r, (retry + 1) * 10));
      if (!current()) return;
    }
  }
}

/** A sink for output the client did not ask for. */
function sink(): Writable {
  return new Writable({ write: (_c, _e, cb) => cb() });
}

/** Waits until Docker reports the exec finished (the hijacked stream can end a moment before) and returns its code. */
async function execExitCode(exec: Docker.Exec): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const info = await exec.inspect();
    if (!info.Running) return info.ExitCode ?? -1;
    await new Promise((r) => setTimeout(r, 20));
  }
  return -1;
}

/**
 * Kills an exec'd process through its host PID (Docker has no API for it; the agent runs in the host PID namespace).
 * Right after the start the process may not run yet: waits (up to ~2 s) until it runs or has ended.
 */
async function killExec(exec: Docker.Exec): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      const info = await exec.inspect();
      if (info.Running && info.Pid > 0) {
        process.kill(info.Pid, 'SIGKILL');
        return;
      }
      if (!info.Running && info.ExitCode !== null && info.ExitCode !== undefined) return;
    } catch {
      return; // Best effort: the exec (or its container) is gone.
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Connects the hijacked engine stream to the client's streams; resolves when the engine side ends. */
function wire(stream: Duplex, io: StreamIO, tty: boolean, docker: Docker): Promise<void> {
  const stdout = io.stdout ?? sink();
  if (io.stdin !== undefined) {
    const stdin = io.stdin;
    stdin.pipe(stream);
    stream.on('close', () => stdin.unpipe(stream));
  }
  const engineDone = new Promise<void>((resolve) => {
    stream.once('end', resolve);
    stream.once('close', resolve);
    stream.once('error', () => resolve());
  });
  if (tty) {
    // pipe() writes on every 'data' event, so everything has been handed on when the stream ends.
    stream.pipe(stdout as Writable, { end: false });
    return engineDone;
  }
  const out = new PassThrough();
  const err = new PassThrough();
  out.pipe(stdout as Writable, { end: false });
  err.pipe((io.stderr ?? sink()) as Writable, { end: false });
  docker.modem.demuxStream(stream, out, err);
  const drained = (p: PassThrough): Promise<void> =>
    new Promise((resolve) => {
      p.once('end', resolve);
      p.once('close', resolve);
    });
  return engineDone.then(async () => {
    out.end();
    err.end();
    await Promise.all([drained(out), drained(err)]);
  });
}

/**
 * ContainerStreaming on the Docker engine: exec through the exec API (hijacked stream, resize through the exec
 * resize API, exit code from exec inspect), attach through container attach, port-forward through a connection made
 * inside the network namespace of the sandbox's pause process (src/cri/netns: dockershim ran socat there), so it
 * reaches ports bound only to the pod's loopback.
 */
export class DockerStreaming implements ContainerStreaming {
  readonly #docker: Docker;
  readonly #socketPath: string;
  readonly #log: Logger;
  readonly #dialer: NetnsDialer;

  constructor(options: DockerStreamingOptions) {
    this.#docker = options.docker;
    this.#socketPath = options.socketPath;
    this.#log = options.logger.child({ component: 'docker-streaming' });
    this.#dialer = options.dialer;
  }

  async exec(containerId: string, cmd: string[], io: StreamIO): Promise<StreamSession> {
    const what = { op: 'exec in', object: `container ${containerId}` };
    // The exec is created while the container is inspected (one engine round trip instead of two); the inspection's
    // verdict (missing, not running, not a container) wins, and an exec created then is never started.
    const created = this.#docker.getContainer(containerId).exec({
      Cmd: cmd,
      AttachStdin: io.stdin !== undefined,
      AttachStdout: true,
      AttachStderr: !io.tty,
      Tty: io.tty,
    });
    created.catch(() => undefined);
    await this.#runningContainer(containerId, 'exec in');
    let exec: Docker.Exec;
    try {
      exec = await created;
    } catch (err) {
      throw this.#mapStart(err, what);
    }
    const stream = (await exec.start({ hijack: true, stdin: io.stdin !== undefined, Tty: io.tty })) as Duplex;
    let aborted = false;
    let resizes = 0;
    const onAbort = (): void => {
      aborted = true;
      stream.destroy();
      void killExec(exec);
    };
    if (io.signal.aborted) onAbort();
    else io.signal.addEventListener('abort', onAbort, { once: true });
    const ended = wire(stream, io, io.tty, this.#docker);
    const done = (async (): Promise<number> => {
      try {
        await ended;
        if (aborted) throw new NodeletError('CANCELLED', `exec in container ${containerId} aborted`);
        return await execExitCode(exec);
      } finally {
        io.signal.removeEventListener('abort', onAbort);
        stream.destroy();
      }
    })();
    return {
      done,
      resize: (size: TerminalSize) => {
        if (!io.tty) return;
        const seq = ++resizes;
        void resizeWithRetries(() => exec.resize({ h: size.height, w: size.width }), () => seq === resizes && !aborted).catch((err: unknown) => {
          this.#log.debug({ err: engineMessage(err) }, 'exec resize failed');
        });
      },
    };
  }

  async attach(containerId: string, io: StreamIO): Promise<StreamSession> {
    const info = await this.#runningContainer(containerId, 'attach to');
    const c = this.#docker.getContainer(info.Id);
    const tty = info.Config.Tty;
    let stream: Duplex;
    try {
      stream = (await c.attach({
        stream: true,
        hijack: true,
        stdin: io.stdin !== undefined,
        stdout: io.stdout !== undefined,
        stderr: io.stderr !== undefined || tty,
      })) as unknown as Duplex;
    } catch (err) {
      throw this.#mapStart(err, { op: 'attach to', object: `container ${containerId}` });
    }
    let aborted = false;
    const onAbort = (): void => {
      aborted = true;
      stream.destroy();
    };
    if (io.signal.aborted) onAbort();
    else io.signal.addEventListener('abort', onAbort, { once: true });
    const ended = wire(stream, io, tty, this.#docker);
    const done = (async (): Promise<undefined> => {
      try {
        await ended;
        if (aborted) throw new NodeletError('CANCELLED', `attach to container ${containerId} aborted`);
        return undefined;
      } finally {
        io.signal.removeEventListener('abort', onAbort);
        stream.destroy();
      }
    })();
    return {
      done,
      resize: (size: TerminalSize) => {
        if (!tty) return;
        c.resize({ h: size.height, w: size.width }).catch((err: unknown) => {
          this.#log.debug({ err: engineMessage(err) }, 'attach resize failed');
        });
      },
    };
  }

  async portForward(podSandboxId: string, port: number, stream: Duplex, signal: AbortSignal): Promise<void> {
    if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new InvalidError(`invalid port ${port}`);
    const info = await this.#inspect(podSandboxId, 'podsandbox');
    const pid = info.State.Pid;
    if (!info.State.Running || pid <= 0) {
      throw new InvalidError(`pod sandbox ${podSandboxId} is not running`, { object: `pod sandbox ${podSandboxId}` });
    }
    await forwardPort({ dialer: this.#dialer, target: { pid }, port, stream, signal, object: `pod sandbox ${podSandboxId}` });
  }

  /** Inspects a container that must be running; NotFoundError when missing, InvalidError when not running. */
  async #runningContainer(id: string, op: string): Promise<Docker.ContainerInspectInfo> {
    const info = await this.#inspect(id, 'container');
    if (!info.State.Running) {
      throw new InvalidError(`cannot ${op} container ${id}: container not running (${info.State.Status})`, {
        object: `container ${id}`,
      });
    }
    return info;
  }

  async #inspect(id: string, kind: 'container' | 'podsandbox'): Promise<Docker.ContainerInspectInfo> {
    const what = kind === 'podsandbox' ? 'pod sandbox' : 'container';
    try {
      const info = await this.#docker.getContainer(id).inspect();
      if (info.Config.Labels?.[DOCKER_LABELS.type] !== kind) throw new NotFoundError(`${what} ${id} not found`);
      return info;
    } catch (err) {
      if (engineStatus(err) === 404) throw new NotFoundError(`${what} ${id} not found`, { object: `${what} ${id}` });
      throw mapDockerError(err, { op: 'inspect', object: `${what} ${id}` }, this.#socketPath);
    }
  }

  #mapStart(err: unknown, what: { op: string; object: string }): NodeletError {
    if (engineStatus(err) === 409) return new InvalidError(`${what.op} ${what.object}: ${engineMessage(err)}`, { cause: err });
    return mapDockerError(err, what, this.#socketPath);
  }
}
