/**
 * Watches whether the container runtime answers (CRI Status + Version). One check = one `status()` call bounded by
 * a timeout; the node status and the health server read the result. Transitions are logged once.
 */
import type { RuntimeInfo } from '../../cri/types.js';
import type { Clock } from '../../util/clock.js';
import { errorMessage } from '../../util/errors.js';
import type { Logger } from '../../util/logger.js';
import type { RuntimeHealth } from './conditions.js';

/** Options for {@link RuntimeMonitor}. */
export interface RuntimeMonitorOptions {
  runtime: Pick<RuntimeInfo, 'status' | 'version'>;
  clock: Clock;
  logger: Logger;
  /** Bound of one check (default 5 s; the daemon passes runtimeRequestTimeout, 2 min by default). */
  timeoutMs?: number;
}

/** Tracks runtime reachability. `check()` may be called concurrently; concurrent callers share one request. */
export class RuntimeMonitor {
  readonly #o: RuntimeMonitorOptions;
  #health: RuntimeHealth = { state: 'unknown' };
  #version = '';
  #lastOkAt: number | undefined;
  #inflight: Promise<RuntimeHealth> | undefined;

  constructor(options: RuntimeMonitorOptions) {
    this.#o = options;
  }

  /** The last result. */
  health(): RuntimeHealth {
    return this.#health;
  }

  /** `docker://20.10.24` style, '' until the first successful check. */
  version(): string {
    return this.#version;
  }

  /** Wall-clock ms of the last successful check, undefined if none. */
  lastOkAt(): number | undefined {
    return this.#lastOkAt;
  }

  /** Performs one check (or joins the one in flight) and returns its result. Never throws. */
  check(): Promise<RuntimeHealth> {
    this.#inflight ??= this.#check().finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  async #check(): Promise<RuntimeHealth> {
    const timeoutMs = this.#o.timeoutMs ?? 5000;
    let handle: ReturnType<Clock['setTimeout']> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      handle = this.#o.clock.setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    let next: RuntimeHealth;
    try {
      const work = (async () => {
        const status = await this.#o.runtime.status();
        if (this.#version === '' || this.#health.state !== 'up') {
          const v = await this.#o.runtime.version();
          this.#version = `${v.runtimeName}://${v.runtimeVersion}`;
        }
        return status;
      })();
      work.catch(() => undefined);
      const status = await Promise.race([work, timeout]);
      next = { state: 'up', conditions: status.conditions };
      this.#lastOkAt = this.#o.clock.now();
    } catch (err) {
      next = { state: 'down', error: errorMessage(err) };
    } finally {
      if (handle !== undefined) this.#o.clock.clearTimeout(handle);
    }
    if (next.state !== this.#health.state) {
      if (next.state === 'down') this.#o.logger.warn({ err: next.error }, 'container runtime is down');
      else this.#o.logger.info({ version: this.#version }, 'container runtime is up');
    }
    this.#health = next;
    return next;
  }
}
