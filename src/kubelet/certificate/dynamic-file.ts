/**
 * Certificate material read from files and re-read when they change, as upstream's dynamic content providers
 * (apiserver `dynamiccertificates.DynamicFileCAContent` / `DynamicCertKeyPairContent`, used by the kubelet for
 * `--client-ca-file` and, with ReloadKubeletServerCertificateFile, `tlsCertFile`/`tlsPrivateKeyFile`):
 * - the first load must succeed (the caller fails its start otherwise);
 * - a change is noticed through a watch on every file (re-established after a rename/remove) and by a check every
 *   `periodMs` (1 min, upstream's FileRefreshDuration) as the safety net;
 * - new content that does not parse (empty, garbage, a key that does not match the certificate) is not applied: the
 *   last good value stays, the error is logged once per distinct content with its code, and the check is retried
 *   with a backoff (1 s doubling up to `periodMs`), as upstream's rate-limited requeue;
 * - listeners are called only when the bytes changed and parsed.
 */
import type { Clock, TimerHandle } from '../../util/clock.js';
import { errorFields, errorMessage, NodeletError, type NodeletErrorOptions } from '../../util/errors.js';
import type { Logger } from '../../util/logger.js';
import type { FileWatcher, FileWatchHandle } from './file-watcher.js';

/** A certificate file that cannot be read (`CERTIFICATE_UNREADABLE`) or whose content is unusable (`CERTIFICATE_INVALID`). */
export class CertificateFileError extends NodeletError {
  constructor(code: 'CERTIFICATE_UNREADABLE' | 'CERTIFICATE_INVALID', message: string, options?: NodeletErrorOptions) {
    super(code, message, options);
  }
}

/** Default period of the safety-net check (upstream FileRefreshDuration). */
export const FILE_REFRESH_MS = 60_000;
/** Delay between a file event and the check, so the events of one write (and of a cert+key pair) coalesce. */
export const EVENT_DEBOUNCE_MS = 200;
const FIRST_RETRY_MS = 1_000;

/** Options of {@link DynamicFileContent}. */
export interface DynamicFileOptions<T> {
  /** Names the content in logs, e.g. `client-ca-bundle`. */
  name: string;
  /** The files, read together on every check. */
  paths: readonly string[];
  /** The flag each path comes from (error `field`), parallel to `paths`. */
  fields: readonly string[];
  /** Parses the contents (parallel to `paths`); throws CertificateFileError `CERTIFICATE_INVALID`. Pure. */
  parse(contents: readonly Buffer[]): T;
  files: FileWatcher;
  clock: Clock;
  logger: Logger;
  periodMs?: number;
}

/** What one {@link DynamicFileContent.check} found. */
export type CheckResult = 'unchanged' | 'changed' | 'invalid';

function sameBytes(a: readonly Buffer[] | undefined, b: readonly Buffer[]): boolean {
  return a !== undefined && a.length === b.length && a.every((x, i) => b[i]?.equals(x) === true);
}

/**
 * See module comment. `load()` once, then `start()`; `check()` is the one step (tests call it directly). Checks never
 * overlap: a check asked for while one runs runs once more after it. `current()` is safe at any time.
 */
export class DynamicFileContent<T> {
  readonly #o: DynamicFileOptions<T>;
  readonly #listeners = new Set<() => void>();
  readonly #watches = new Map<string, FileWatchHandle>();
  #value: T | undefined;
  #raw: Buffer[] | undefined;
  #badRaw: Buffer[] | undefined;
  #failures = 0;
  #timer: TimerHandle | undefined;
  #debounce: TimerHandle | undefined;
  #running: Promise<CheckResult> | undefined;
  #again = false;
  /** Watching and checking on the clock (between start and stop). */
  #active = false;
  /** stop() was called: a check still running applies its result but notifies nobody. */
  #closed = false;

  constructor(o: DynamicFileOptions<T>) {
    this.#o = o;
  }

  /** The last good value; undefined before `load()`. */
  current(): T | undefined {
    return this.#value;
  }

  /** Calls `listener` after each applied change. Returns the unsubscribe function. */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Reads and parses the files; throws CertificateFileError when they are unreadable or invalid. */
  async load(): Promise<T> {
    const raw = await this.#read();
    const value = this.#o.parse(raw);
    this.#value = value;
    this.#raw = raw;
    return value;
  }

  /** Watches the files and checks them periodically (call after `load()`). Idempotent. */
  start(): void {
    if (this.#active) return;
    this.#active = true;
    this.#closed = false;
    this.#ensureWatches();
    this.#schedule(this.#o.periodMs ?? FILE_REFRESH_MS);
    // As upstream: one check right after the watches exist, for a change between load() and now.
    this.#soon();
  }

  /** Stops watching; a running check finishes but notifies nobody. Idempotent. */
  stop(): void {
    this.#active = false;
    this.#closed = true;
    for (const w of this.#watches.values()) w.close();
    this.#watches.clear();
    for (const t of [this.#timer, this.#debounce]) if (t !== undefined) this.#o.clock.clearTimeout(t);
    this.#timer = undefined;
    this.#debounce = undefined;
  }

  /** One check: re-reads the files and applies new content that parses. Never throws. */
  async check(): Promise<CheckResult> {
    if (this.#running !== undefined) {
      this.#again = true;
      return this.#running;
    }
    this.#running = this.#checkOnce().finally(() => (this.#running = undefined));
    const result = await this.#running;
    if (this.#again) {
      this.#again = false;
      return this.check();
    }
    return result;
  }

  async #checkOnce(): Promise<CheckResult> {
    const { logger, name } = this.#o;
    let raw: Buffer[] | undefined;
    try {
      raw = await this.#read();
      if (sameBytes(this.#raw, raw)) return this.#settled('unchanged');
      if (sameBytes(this.#badRaw, raw)) return this.#settled('invalid');
      const value = this.#o.parse(raw);
      this.#value = value;
      this.#raw = raw;
      this.#badRaw = undefined;
    } catch (err) {
      // Logged once per distinct bad content; an unreadable file (raw undefined) is logged at every failure.
      if (raw === undefined || !sameBytes(this.#badRaw, raw)) logger.error({ name, files: this.#o.paths, ...errorFields(err) }, 'certificate files changed but cannot be used; keeping the last good content');
      this.#badRaw = raw;
      return this.#settled('invalid');
    }
    logger.info({ name, files: this.#o.paths }, 'certificate files changed; loaded the new content');
    if (!this.#closed) {
      for (const l of [...this.#listeners]) {
        try {
          l();
        } catch (err) {
          logger.error({ name, ...errorFields(err) }, 'certificate change listener failed');
        }
      }
    }
    return this.#settled('changed');
  }

  async #read(): Promise<Buffer[]> {
    return Promise.all(
      this.#o.paths.map(async (path, i) => {
        const field = this.#o.fields[i];
        try {
          return await this.#o.files.read(path);
        } catch (err) {
          throw new CertificateFileError('CERTIFICATE_UNREADABLE', `${field ?? 'file'}: cannot read ${path}: ${errorMessage(err)}`, { cause: err, object: `file ${path}`, ...(field === undefined ? {} : { field }) });
        }
      }),
    );
  }

  /** Books the outcome and schedules the next check: the period after success, a growing backoff after failure. */
  #settled(result: CheckResult): CheckResult {
    const period = this.#o.periodMs ?? FILE_REFRESH_MS;
    this.#failures = result === 'invalid' ? this.#failures + 1 : 0;
    if (this.#active) {
      this.#ensureWatches();
      this.#schedule(result === 'invalid' ? Math.min(period, FIRST_RETRY_MS * 2 ** (this.#failures - 1)) : period);
    }
    return result;
  }

  #schedule(ms: number): void {
    if (this.#timer !== undefined) this.#o.clock.clearTimeout(this.#timer);
    this.#timer = this.#o.clock.setTimeout(() => {
      this.#timer = undefined;
      void this.check();
    }, ms);
  }

  #ensureWatches(): void {
    for (const path of this.#o.paths) {
      if (this.#watches.has(path)) continue;
      try {
        this.#watches.set(
          path,
          this.#o.files.watch(path, (event) => {
            if (event === 'rename') {
              // The watch follows the old file: watch the path again (now, or at the next check if it is missing).
              this.#watches.get(path)?.close();
              this.#watches.delete(path);
              if (this.#active) this.#ensureWatches();
            }
            this.#soon();
          }),
        );
      } catch (err) {
        this.#o.logger.debug({ name: this.#o.name, path, ...errorFields(err) }, 'cannot watch certificate file; relying on the periodic check');
      }
    }
  }

  #soon(): void {
    if (!this.#active || this.#debounce !== undefined) return;
    this.#debounce = this.#o.clock.setTimeout(() => {
      this.#debounce = undefined;
      void this.check();
    }, EVENT_DEBOUNCE_MS);
  }
}
