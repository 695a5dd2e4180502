/**
 * Making logind allow the shutdown grace period (upstream nodeshutdown managerImpl.start + systemd
 * OverrideInhibitDelay / ReloadLogindConf): when logind's InhibitDelayMaxSec is below the grace period, the drop-in
 * `/etc/systemd/logind.conf.d/99-kubelet.conf` (`[Login]` `InhibitDelayMaxSec=<seconds>`) is written, logind is
 * asked to reload (SIGHUP through systemd's KillUnit), and the value is read again; still too low is an error.
 * {@link LogindDropIn} writes the file (its directory is an option, so tests write into a temp dir);
 * {@link ensureInhibitDelay} is the decision and sequence, tested with FakeLogind.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock } from '../../util/clock.js';
import { errorMessage, NodeletError } from '../../util/errors.js';
import type { Logger } from '../../util/logger.js';
import type { Logind } from './logind.js';

/** Upstream's drop-in directory and file name. */
export const LOGIND_CONF_DIR = '/etc/systemd/logind.conf.d';
export const KUBELET_LOGIND_CONF = '99-kubelet.conf';

/** Writes logind's InhibitDelayMaxSec override. */
export interface LogindConfWriter {
  /** Writes the drop-in for `seconds` (replacing an earlier one); returns its path. Idempotent. */
  writeInhibitDelayMax(seconds: number): Promise<string>;
}

/** The drop-in's text, as upstream writes it. Pure. */
export function logindDropInText(seconds: number): string {
  return `# Kubelet logind override\n[Login]\nInhibitDelayMaxSec=${Math.round(seconds)}\n`;
}

/** The file `<dir>/99-kubelet.conf` (dir default /etc/systemd/logind.conf.d), written atomically (temp + rename). */
export class LogindDropIn implements LogindConfWriter {
  readonly path: string;
  readonly #dir: string;

  constructor(dir: string = LOGIND_CONF_DIR) {
    this.#dir = dir;
    this.path = join(dir, KUBELET_LOGIND_CONF);
  }

  async writeInhibitDelayMax(seconds: number): Promise<string> {
    await mkdir(this.#dir, { recursive: true, mode: 0o755 });
    const tmp = `${this.path}.tmp`;
    await writeFile(tmp, logindDropInText(seconds), { mode: 0o644 });
    await rename(tmp, this.path);
    return this.path;
  }
}

/** Inputs of {@link ensureInhibitDelay}. */
export interface EnsureInhibitDelayOptions {
  logind: Logind;
  /** undefined: never write the drop-in (the manager then only checks, as before). */
  dropIn: LogindConfWriter | undefined;
  /** The shutdown grace period to allow, in ms. */
  neededMs: number;
  clock: Clock;
  logger: Logger;
  /** Reads after the reload until logind reports the new value (logind reloads asynchronously); default 10 × 200 ms. */
  rereads?: { attempts: number; intervalMs: number };
}

/**
 * Returns logind's InhibitDelayMaxSec in ms once it is at least `neededMs`, writing the drop-in and reloading logind
 * when it is lower. Throws NodeletError SHUTDOWN_INHIBIT_FAILED when writing or reloading fails or logind still
 * allows less (the message names both values), as upstream's manager refuses to start then.
 */
export async function ensureInhibitDelay(o: EnsureInhibitDelayOptions): Promise<number> {
  const { logind, neededMs, logger } = o;
  const current = await logind.inhibitDelayMaxMs();
  if (current >= neededMs) return current;
  const fail = (message: string, cause?: unknown): never => {
    throw new NodeletError('SHUTDOWN_INHIBIT_FAILED', message, { cause });
  };
  if (o.dropIn === undefined) {
    fail(`node shutdown manager: logind InhibitDelayMaxSec (${current / 1000}s) is less than the requested shutdown grace period (${neededMs / 1000}s); raise InhibitDelayMaxSec in logind.conf`);
  }
  let path = '';
  try {
    path = await (o.dropIn as LogindConfWriter).writeInhibitDelayMax(Math.ceil(neededMs / 1000));
  } catch (err) {
    fail(`unable to override inhibit delay by shutdown manager: ${errorMessage(err)}`, err);
  }
  try {
    await logind.reloadConfig();
  } catch (err) {
    fail(`unable to reload logind conf: ${errorMessage(err)}`, err);
  }
  const { attempts, intervalMs } = o.rereads ?? { attempts: 10, intervalMs: 200 };
  let updated = current;
  for (let i = 0; i < Math.max(1, attempts); i++) {
    if (i > 0) await o.clock.sleep(intervalMs);
    updated = await logind.inhibitDelayMaxMs();
    if (updated >= neededMs) {
      logger.info({ path, inhibitDelayMaxSeconds: updated / 1000, previousSeconds: current / 1000 }, 'raised logind InhibitDelayMaxSec for the shutdown grace period');
      return updated;
    }
  }
  return fail(
    `node shutdown manager was unable to update logind InhibitDelayMaxSec to ${neededMs / 1000}s (ShutdownGracePeriod), current value of InhibitDelayMaxSec (${updated / 1000}s) is less than requested ShutdownGracePeriod`,
  );
}
