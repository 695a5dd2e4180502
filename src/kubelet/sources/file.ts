/**
 * The static manifest directory source (upstream config/file.go): *.yaml, *.yml, *.json in the directory (hidden
 * files and subdirectories ignored), picked up quickly through fs.watch and rescanned every fileCheckFrequency as the
 * safety net. Each scan delivers the complete set. A bad file is logged once per content (file, field, reason) and
 * skipped; the other pods are unaffected. An unchanged file keeps its pod object (and config.seen) as is.
 */
import { createHash } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../../util/clock.js';
import { errorMessage, errorFields } from '../../util/errors.js';
import { ManifestError, staticPodsFromText } from './static-pod.js';
import { PodSetDelivery, type DeliveryOptions } from './deliver.js';
import type { PodSetListener, PodSource } from './types.js';

/** Options for {@link FileSource}. */
export interface FileSourceOptions {
  path: string;
  nodeName: string;
  /** Rescan period (upstream fileCheckFrequency, default 20 s). */
  periodMs?: number;
  clock: Clock;
  logger: Logger;
  onPods: PodSetListener;
  /** How a throwing handler is counted and retried (deliver.ts); logged on `logger`. */
  onHandlerError?: DeliveryOptions['onHandlerError'];
  /** Called for every bad manifest (once per content). */
  onInvalid?: (err: ManifestError | Error, file: string) => void;
}

const EXT = /\.(ya?ml|json)$/i;

interface Cached {
  digest: string;
  pods: V1Pod[];
}

/** See module comment. */
export class FileSource implements PodSource {
  readonly #o: FileSourceOptions;
  readonly #cache = new Map<string, Cached>();
  readonly #reported = new Map<string, string>();
  #watcher: FSWatcher | undefined;
  #timer: TimerHandle | undefined;
  #debounce: TimerHandle | undefined;
  #synced = false;
  #stopped = true;
  #scanning: Promise<void> | undefined;
  #again = false;

  readonly #delivery: PodSetDelivery;

  constructor(options: FileSourceOptions) {
    this.#o = options;
    this.#delivery = new PodSetDelivery('file', options.onPods, { logger: options.logger, clock: options.clock, onHandlerError: options.onHandlerError });
  }

  start(): void {
    this.#stopped = false;
    this.#watch();
    void this.scan();
  }

  stop(): void {
    this.#stopped = true;
    this.#delivery.stop();
    this.#watcher?.close();
    this.#watcher = undefined;
    if (this.#timer !== undefined) this.#o.clock.clearTimeout(this.#timer);
    if (this.#debounce !== undefined) this.#o.clock.clearTimeout(this.#debounce);
  }

  hasSynced(): boolean {
    return this.#synced;
  }

  #watch(): void {
    if (this.#watcher !== undefined) return;
    try {
      this.#watcher = watch(this.#o.path, { persistent: false }, () => this.#soon());
      this.#watcher.on('error', () => {
        this.#watcher?.close();
        this.#watcher = undefined;
      });
    } catch {
      // The directory may not exist yet; the periodic rescan retries the watch.
      this.#watcher = undefined;
    }
  }

  #soon(): void {
    if (this.#stopped || this.#debounce !== undefined) return;
    this.#debounce = this.#o.clock.setTimeout(() => {
      this.#debounce = undefined;
      void this.scan();
    }, 100);
  }

  /** Scans the directory once and delivers the set. Concurrent calls coalesce. */
  async scan(): Promise<void> {
    if (this.#scanning !== undefined) {
      this.#again = true;
      return this.#scanning;
    }
    this.#scanning = this.#scanOnce().finally(() => {
      this.#scanning = undefined;
    });
    await this.#scanning;
    if (this.#again) {
      this.#again = false;
      await this.scan();
    }
  }

  async #scanOnce(): Promise<void> {
    const { path, logger } = this.#o;
    let names: string[] = [];
    try {
      names = (await readdir(path)).filter((n) => !n.startsWith('.') && EXT.test(n)).sort();
    } catch (err) {
      logger.debug({ path, ...errorFields(err) }, 'static pod path not readable');
    }
    const pods: V1Pod[] = [];
    const live = new Set<string>();
    for (const name of names) {
      const file = join(path, name);
      try {
        if (!(await stat(file)).isFile()) continue;
        const text = await readFile(file, 'utf8');
        live.add(file);
        pods.push(...this.#parse(file, text));
      } catch (err) {
        logger.debug({ file, ...errorFields(err) }, 'static pod file vanished');
      }
    }
    for (const f of this.#cache.keys()) if (!live.has(f)) this.#cache.delete(f);
    for (const f of this.#reported.keys()) if (!live.has(f)) this.#reported.delete(f);
    if (this.#stopped) return;
    this.#synced = true;
    this.#delivery.deliver(pods);
    this.#watch();
    if (this.#timer !== undefined) this.#o.clock.clearTimeout(this.#timer);
    this.#timer = this.#o.clock.setTimeout(() => void this.scan(), this.#o.periodMs ?? 20_000);
  }

  #parse(file: string, text: string): V1Pod[] {
    const digest = createHash('sha256').update(text).digest('hex');
    const cached = this.#cache.get(file);
    if (cached?.digest === digest) return cached.pods;
    try {
      const pods = staticPodsFromText(text, {
        kind: 'file',
        location: file,
        nodeName: this.#o.nodeName,
        seenAt: this.#o.clock.now(),
      });
      this.#cache.set(file, { digest, pods });
      this.#reported.delete(file);
      return pods;
    } catch (err) {
      this.#cache.set(file, { digest, pods: [] });
      if (this.#reported.get(file) !== digest) {
        this.#reported.set(file, digest);
        const problems = err instanceof ManifestError ? err.problems : [];
        this.#o.logger.error(
          { file, problems, field: problems[0]?.field, reason: problems[0]?.message ?? errorMessage(err) },
          `invalid static pod manifest: ${errorMessage(err)}`,
        );
        this.#o.onInvalid?.(err instanceof Error ? err : new Error(String(err)), file);
      }
      return [];
    }
  }
}
