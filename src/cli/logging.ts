/**
 * The root logger: JSON by default, human-readable (pino-pretty) on a terminal or with --logging-format=text when
 * pino-pretty is installed (it is a development dependency; an installed /opt/nodelet falls back to JSON).
 */
import { createRequire } from 'node:module';
import { pino } from 'pino';
import type { LogSettings } from '../config/index.js';
import { createLogger, REDACT_PATHS, type Logger } from '../util/logger.js';

type PrettyFactory = (options: Record<string, unknown>) => NodeJS.WritableStream;

function loadPretty(): PrettyFactory | undefined {
  try {
    const req = createRequire(import.meta.url);
    const mod = req('pino-pretty') as PrettyFactory | { default: PrettyFactory };
    return typeof mod === 'function' ? mod : mod.default;
  } catch {
    return undefined;
  }
}

/** Builds the root logger for the process (logs go to stderr-free stdout, as systemd's journal expects). */
export function createRootLogger(settings: LogSettings, base: Record<string, unknown>): Logger {
  const wantText = settings.format === 'text' || (settings.format === 'auto' && process.stdout.isTTY === true);
  const pretty = wantText ? loadPretty() : undefined;
  if (pretty === undefined) return createLogger({ level: settings.level, pretty: false, base });
  return pino(
    {
      level: settings.level,
      base: { pid: process.pid, ...base },
      redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    pretty({ colorize: process.stdout.isTTY === true, sync: true, singleLine: true, ignore: 'pid,hostname', translateTime: 'SYS:HH:MM:ss.l' }),
  );
}
