/**
 * Container log rotation for CRI runtimes (upstream pkg/kubelet/logs/container_log_manager.go): every
 * `containerLogMonitorInterval` (10 s) the log file of each running container that reached `containerLogMaxSize`
 * is rotated: leftover temporary files are removed, the oldest rotated files are removed so that at most
 * `containerLogMaxFiles` − 2 remain, the remaining rotated files are gzip-compressed (`<log>.<time>.gz`), the
 * current file is renamed `<log>.<YYYYMMDD-hhmmss>` and the runtime is told to reopen its log (CRI
 * ReopenContainerLog); when that fails the rename is undone. Docker rotates its own json-file logs, so this runs
 * for the CRI backend only.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { readdir, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { ContainerRuntime } from '../../cri/types.js';
import type { Clock } from '../../util/clock.js';
import { errorMessage } from '../../util/errors.js';
import type { Logger } from '../../util/logger.js';

/** The runtime calls rotation needs (ReopenContainerLog is CRI-only). */
export type LogRotationRuntime = Pick<ContainerRuntime, 'listContainers' | 'containerStatus'> & {
  reopenContainerLog(id: string): Promise<void>;
};

/** Options of {@link ContainerLogManager}. */
export interface ContainerLogManagerOptions {
  runtime: LogRotationRuntime;
  maxSizeBytes: number;
  maxFiles: number;
  clock: Clock;
  logger: Logger;
}

/** What to do with the rotated files of one log before rotating it. Pure. */
export function planRotatedFiles(rotated: readonly string[], maxFiles: number): { remove: string[]; compress: string[] } {
  const remove: string[] = rotated.filter((f) => f.endsWith('.tmp'));
  const rest = rotated.filter((f) => !f.endsWith('.tmp'));
  // An uncompressed file whose .gz exists was compressed before a crash: drop it.
  for (const f of rest) if (!f.endsWith('.gz') && rest.includes(`${f}.gz`)) remove.push(f);
  const kept = rest.filter((f) => !remove.includes(f)).sort();
  const maxRotated = Math.max(0, maxFiles - 2);
  const excess = kept.slice(0, Math.max(0, kept.length - maxRotated));
  remove.push(...excess);
  const compress = kept.slice(excess.length).filter((f) => !f.endsWith('.gz'));
  return { remove, compress };
}

/** `YYYYMMDD-hhmmss` in UTC (upstream's timestamp format for rotated logs). */
export function rotationTimestamp(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}-${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
}

/** See module comment. `rotateAll()` is one monitoring step. */
export class ContainerLogManager {
  readonly #o: ContainerLogManagerOptions;

  constructor(options: ContainerLogManagerOptions) {
    this.#o = options;
  }

  /** Rotates every running container's log that reached the size limit; failures are logged per container. */
  async rotateAll(): Promise<void> {
    const { runtime, logger } = this.#o;
    for (const c of await runtime.listContainers({ state: 'running' })) {
      try {
        const s = await runtime.containerStatus(c.id);
        if (s.logPath === '') continue;
        const size = await stat(s.logPath).then((x) => x.size, () => undefined);
        if (size === undefined) {
          // The runtime lost its file (removed by someone): ask it to reopen, as upstream.
          await runtime.reopenContainerLog(c.id).catch(() => undefined);
          continue;
        }
        if (size < this.#o.maxSizeBytes) continue;
        await this.rotate(c.id, s.logPath);
      } catch (err) {
        logger.warn({ code: 'LOG_ROTATION_FAILED', containerID: c.id, err: errorMessage(err) }, 'failed to rotate container log');
      }
    }
  }

  /** Rotates one container's log now (see module comment). */
  async rotate(id: string, logPath: string): Promise<void> {
    const dir = dirname(logPath);
    const prefix = `${basename(logPath)}.`;
    const rotated = (await readdir(dir)).filter((f) => f.startsWith(prefix)).map((f) => join(dir, f));
    const plan = planRotatedFiles(rotated, this.#o.maxFiles);
    for (const f of plan.remove) await unlink(f).catch(() => undefined);
    for (const f of plan.compress) {
      const tmp = `${f}.gz.tmp`;
      await pipeline(createReadStream(f), createGzip(), createWriteStream(tmp));
      await rename(tmp, `${f}.gz`);
      await unlink(f);
    }
    const target = `${logPath}.${rotationTimestamp(this.#o.clock.now())}`;
    await rename(logPath, target);
    try {
      await this.#o.runtime.reopenContainerLog(id);
    } catch (err) {
      await rename(target, logPath).catch(() => undefined);
      throw new Error(`failed to reopen container log ${id}: ${errorMessage(err)}`, { cause: err });
    }
    this.#o.logger.debug({ containerID: id, rotated: target }, 'rotated container log');
  }
}
