import { NodeletError, TimeoutError, type Clock } from '../../util/index.js';
import { effectiveArgv } from '../refs.js';
import type { ContainerEvent, ExecResult } from '../types.js';
import { modelProgram } from './programs.js';
import type { FakeContainer } from './state.js';

/**
 * The "kernel" of the fake: runs modelled container programs on the clock, ends them, and runs exec commands.
 * `emit` is called after every state change with the event type to report.
 */
export class FakeProcesses {
  readonly #clock: Clock;
  readonly #emit: (c: FakeContainer, type: ContainerEvent['type']) => void;

  constructor(clock: Clock, emit: (c: FakeContainer, type: ContainerEvent['type']) => void) {
    this.#clock = clock;
    this.#emit = emit;
  }

  /** Starts `c`'s program: emits `started`, writes its output, and schedules its own exit. */
  run(c: FakeContainer): void {
    const cfg = c.config;
    const argv = effectiveArgv(cfg.command, cfg.args, c.image);
    const interactive = cfg.stdin === true || cfg.tty === true;
    const p = modelProgram(argv, { memoryLimit: cfg.linux.resources.memoryLimitInBytes ?? 0, interactive });
    c.program = p;
    c.writableBytes += p.writtenBytes;
    c.state = 'running';
    c.startedAt = this.#clock.now();
    this.#emit(c, 'started');
    for (const line of p.stdout) this.log(c, line, 'stdout');
    for (const line of p.stderr) this.log(c, line, 'stderr');
    if (p.exitAfterMs === 0) this.exit(c, p.exitCode, p.oomKilled, '');
    else if (p.exitAfterMs !== undefined) {
      c.exitTimer = this.#clock.setTimeout(() => {
        if (c.state === 'running') this.exit(c, p.exitCode, p.oomKilled, '');
      }, p.exitAfterMs);
    }
  }

  /** Appends a log line and wakes followers. */
  log(c: FakeContainer, line: string, stream: 'stdout' | 'stderr'): void {
    c.logs.push({ at: this.#clock.now(), stream, line });
    for (const w of [...c.waiters]) w();
  }

  /** Ends `c` now; emits `stopped`. */
  exit(c: FakeContainer, exitCode: number, oomKilled: boolean, message: string): void {
    if (c.exitTimer !== undefined) this.#clock.clearTimeout(c.exitTimer);
    c.exitTimer = undefined;
    c.state = 'exited';
    c.exitCode = exitCode;
    c.oomKilled = oomKilled;
    c.message = message;
    c.finishedAt = this.#clock.now();
    this.#emit(c, 'stopped');
    for (const w of [...c.waiters]) w();
  }

  /** Sends the stop signal; a program without a handler is killed (137) after `timeoutMs` (0 = at once). */
  async stop(c: FakeContainer, timeoutMs: number): Promise<void> {
    if (c.state !== 'running') return;
    const onTerm = c.program?.onTerm;
    if (onTerm !== undefined) return this.exit(c, onTerm, false, '');
    if (timeoutMs > 0) await this.#waitExit(c, timeoutMs);
    if (c.state === 'running') this.exit(c, 137, false, '');
  }

  /** Cancels `c`'s pending timers. */
  dispose(c: FakeContainer): void {
    if (c.exitTimer !== undefined) this.#clock.clearTimeout(c.exitTimer);
    c.exitTimer = undefined;
  }

  /** Runs a modelled exec command (or the handler's result) with a timeout on the clock. */
  async exec(
    c: FakeContainer,
    cmd: string[],
    timeoutSeconds: number,
    handler: ((id: string, cmd: string[]) => ExecResult | undefined | Promise<ExecResult | undefined>) | undefined,
    signal?: AbortSignal,
  ): Promise<ExecResult> {
    const run = async (): Promise<ExecResult> => {
      const custom = await handler?.(c.id, cmd);
      if (custom !== undefined) return custom;
      const p = modelProgram(cmd, { memoryLimit: c.config.linux.resources.memoryLimitInBytes ?? 0, unknown: 'exit' });
      if (p.exitAfterMs === undefined || p.exitAfterMs > 0) await this.#runFor(p.exitAfterMs, cmd, signal);
      c.writableBytes += p.writtenBytes;
      const text = (lines: string[]): string => lines.map((l) => `${l}\n`).join('');
      return { exitCode: p.exitCode, stdout: text(p.stdout), stderr: text(p.stderr) };
    };
    if (timeoutSeconds <= 0) return run();
    let timer: ReturnType<Clock['setTimeout']> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      const msg = `exec ${JSON.stringify(cmd)} in container ${c.id} timed out after ${timeoutSeconds}s`;
      timer = this.#clock.setTimeout(() => reject(new TimeoutError(msg)), timeoutSeconds * 1000);
    });
    try {
      return await Promise.race([run(), timeout]);
    } finally {
      if (timer !== undefined) this.#clock.clearTimeout(timer);
    }
  }

  /** Waits `ms` on the clock (forever when undefined); an abort of `signal` kills the exec'd program (rejects). */
  #runFor(ms: number | undefined, cmd: string[], signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = ms === undefined ? undefined : this.#clock.setTimeout(resolve, ms);
      const kill = (): void => {
        if (timer !== undefined) this.#clock.clearTimeout(timer);
        reject(new NodeletError('CANCELLED', `exec ${JSON.stringify(cmd)} killed: its session was aborted`));
      };
      if (signal?.aborted === true) kill();
      else signal?.addEventListener('abort', kill, { once: true });
    });
  }

  /** Resolves when `c` stops running or after `ms` on the clock, whichever comes first. */
  #waitExit(c: FakeContainer, ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const finish = (): void => {
        c.waiters.delete(early);
        resolve();
      };
      const early = (): void => {
        if (c.state === 'running') return;
        this.#clock.clearTimeout(h);
        finish();
      };
      const h = this.#clock.setTimeout(finish, ms);
      c.waiters.add(early);
    });
  }
}
