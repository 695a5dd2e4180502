import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

/** Paths pino redacts everywhere: secrets, tokens, env values, registry credentials. */
export const REDACT_PATHS = [
  'token',
  '*.token',
  'password',
  '*.password',
  'auth',
  '*.auth',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'bearerToken',
  '*.bearerToken',
  'secret.data',
  '*.secret.data',
  'env[*].value',
  '*.env[*].value',
];

/** Options for {@link createLogger}. */
export interface CreateLoggerOptions {
  /** pino level: fatal | error | warn | info | debug | trace. */
  level?: string;
  /** Human-readable output (pino-pretty) instead of JSON; defaults to stdout being a TTY. */
  pretty?: boolean;
  /** Extra base fields, e.g. `{ node: 'worker-1' }`. */
  base?: Record<string, unknown>;
  /** Destination file descriptor (default 1 = stdout). */
  fd?: number;
}

/**
 * Builds the root logger. Call it once in main and pass the result down; components derive
 * `logger.child({ component: '…' })` or `child({ pod: 'ns/name', podUID })` from it.
 */
export function createLogger(options: CreateLoggerOptions = {}): Logger {
  const fd = options.fd ?? 1;
  const pretty = options.pretty ?? (fd === 1 && process.stdout.isTTY === true);
  const opts: LoggerOptions = {
    level: options.level ?? 'info',
    base: { pid: process.pid, ...options.base },
    redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (pretty) {
    return pino({ ...opts, transport: { target: 'pino-pretty', options: { destination: fd, colorize: true } } });
  }
  return pino(opts, pino.destination({ fd, sync: false }));
}

/** A logger that discards everything; for tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/** Maps the upstream `--v` verbosity (0..10) to a pino level. */
export function levelFromVerbosity(v: number): string {
  if (v >= 6) return 'trace';
  if (v >= 4) return 'debug';
  return 'info';
}
