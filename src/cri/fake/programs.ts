/**
 * A tiny model of what a container's PID 1 (or an exec'd command) does, so the fake behaves like the real engine for
 * the commands tests use: `sh -c 'echo hi; sleep 1; exit 3'`, `sleep infinity`, `/pause`, a memory hog under a
 * limit, `dd of=<file> bs=<n> count=<m>` (grows the writable layer), `trap 'exit 0' TERM`. Unknown commands are
 * modelled as long-running servers.
 */

/** What a modelled program does once started. */
export interface FakeProgram {
  /** Lines written to stdout before it ends (or while it runs). */
  stdout: string[];
  /** Lines written to stderr. */
  stderr: string[];
  /** Milliseconds until it exits by itself; undefined = runs until stopped. */
  exitAfterMs: number | undefined;
  exitCode: number;
  /** Killed by the OOM killer (exit code 137). */
  oomKilled: boolean;
  /** Exit code when it receives its stop signal; undefined = ignores it (PID 1 without a handler) and is killed. */
  onTerm: number | undefined;
  /** Bytes written to files in the container's root filesystem (`dd of=<file> bs=<n> count=<m>`): its writable layer. */
  writtenBytes: number;
}

const runForever = (): FakeProgram => ({
  stdout: [],
  stderr: [],
  exitAfterMs: undefined,
  exitCode: 0,
  oomKilled: false,
  onTerm: undefined,
  writtenBytes: 0,
});

const SIZE_UNITS: Record<string, number> = { '': 1, k: 1024, K: 1024, m: 1 << 20, M: 1 << 20, g: 1 << 30, G: 1 << 30 };

function parseSize(s: string): number {
  const m = /^(\d+)([kKmMgG]?)$/.exec(s);
  return m === null ? 0 : Number(m[1]) * (SIZE_UNITS[m[2] ?? ''] ?? 1);
}

function unquote(s: string): string {
  return s.replace(/^(['"])(.*)\1$/, '$2');
}

interface ShellState {
  delay: number;
  last: number;
  /** Unknown commands: 'run' models a server (PID 1), 'exit' a command that succeeds silently (exec). */
  unknown: 'run' | 'exit';
}

/** Models one shell statement; returns false when the script must stop (exit/forever). */
function step(p: FakeProgram, stmt: string, memoryLimit: number, state: ShellState): boolean {
  const words = stmt.trim().split(/\s+/).filter((w) => w !== '');
  const [cmd, ...rest] = words;
  if (cmd === undefined) return true;
  switch (cmd) {
    case 'echo':
      p.stdout.push(rest.map(unquote).join(' '));
      state.last = 0;
      return true;
    case 'exit':
      state.last = Number(rest[0] ?? state.last) || 0;
      p.exitAfterMs = state.delay;
      return false;
    case 'sleep': {
      if (rest[0] === 'infinity') {
        p.exitAfterMs = undefined;
        return false;
      }
      state.delay += Number(rest[0] ?? 0) * 1000;
      state.last = 0;
      return true;
    }
    case 'trap': {
      const m = /^trap\s+(['"])exit\s+(\d+)\1\s+(TERM|SIGTERM|15)/.exec(stmt.trim());
      if (m !== null) p.onTerm = Number(m[2]);
      return true;
    }
    case 'true':
    case ':':
      state.last = 0;
      return true;
    case 'false':
      state.last = 1;
      return true;
    case 'dd': {
      const bs = rest.find((w) => w.startsWith('bs='));
      if (memoryLimit > 0 && bs !== undefined && parseSize(bs.slice(3)) > memoryLimit) {
        p.oomKilled = true;
        p.exitAfterMs = state.delay;
        state.last = 137;
        return false;
      }
      const of = rest.find((w) => w.startsWith('of='))?.slice(3);
      if (of !== undefined && !of.startsWith('/dev/') && !of.startsWith('/proc/')) {
        const count = rest.find((w) => w.startsWith('count='));
        p.writtenBytes += parseSize(bs?.slice(3) ?? '512') * (count === undefined ? 1 : parseSize(count.slice(6)));
      }
      state.last = 0;
      return true;
    }
    default:
      if (state.unknown === 'exit') {
        state.last = 0;
        return true;
      }
      // Anything else as PID 1 (httpd -f, nc -l, while loops): a long-running server.
      p.exitAfterMs = undefined;
      return false;
  }
}

/** Models `sh -c <script>`: statements separated by `;`, `&&` or newlines. */
function shell(script: string, memoryLimit: number, unknown: 'run' | 'exit'): FakeProgram {
  const p = runForever();
  const state: ShellState = { delay: 0, last: 0, unknown };
  p.exitAfterMs = 0;
  for (const stmt of script.split(/;|&&|\n/)) {
    if (!step(p, stmt, memoryLimit, state)) {
      p.exitCode = p.oomKilled ? 137 : state.last;
      return p;
    }
  }
  p.exitAfterMs = state.delay;
  p.exitCode = state.last;
  return p;
}

/** How {@link modelProgram} treats its input. */
export interface ModelOptions {
  /** Memory limit in bytes (0 = none): decides whether a `dd bs=<size>` hog is OOM-killed. */
  memoryLimit?: number;
  /** stdin open or a tty: a bare shell keeps running. */
  interactive?: boolean;
  /** Unknown commands run until stopped ('run', for PID 1) or succeed silently ('exit', for exec). */
  unknown?: 'run' | 'exit';
}

/** Models what `argv` does. */
export function modelProgram(argv: string[], options: ModelOptions = {}): FakeProgram {
  const memoryLimit = options.memoryLimit ?? 0;
  const unknown = options.unknown ?? 'run';
  const [bin, ...rest] = argv;
  const base = bin?.split('/').pop() ?? '';
  if (base === '') return runForever();
  if (base === 'pause') return { ...runForever(), onTerm: 0 };
  if (base === 'sh' || base === 'bash' || base === 'ash') {
    if (rest[0] === '-c' && rest[1] !== undefined) return shell(rest[1], memoryLimit, unknown);
    return options.interactive === true ? runForever() : { ...runForever(), exitAfterMs: 0 };
  }
  return shell(argv.join(' '), memoryLimit, unknown);
}
