/**
 * The systemd-logind seam for graceful node shutdown: the maximum inhibitor delay, a delay inhibitor lock on
 * shutdown, and the PrepareForShutdown signal. {@link DbusLogind} (built only in src/cli) reads the property and the
 * signal over the system D-Bus with dbus-next; the lock is held by a `systemd-inhibit --mode=delay` child process,
 * because logind hands the lock out as a file descriptor and Node cannot receive descriptors over a socket (the
 * lock is released by ending that child). {@link FakeLogind} is for unit tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import dbus from 'dbus-next';
import type { Logger } from '../../util/logger.js';

/** See module comment. */
export interface Logind {
  /** logind's InhibitDelayMaxUSec, in ms. */
  inhibitDelayMaxMs(): Promise<number>;
  /**
   * Asks logind to re-read its configuration (upstream ReloadLogindConf: SIGHUP to systemd-logind.service through
   * systemd's KillUnit). logind reloads asynchronously: read the value again until it changes.
   */
  reloadConfig(): Promise<void>;
  /** Takes a delay lock on shutdown (idempotent). */
  acquireDelayLock(): Promise<void>;
  /** Releases the lock (idempotent): logind goes on with the shutdown. */
  releaseDelayLock(): Promise<void>;
  /** Calls `listener(true)` when a shutdown begins and `listener(false)` when it is cancelled. */
  onPrepareForShutdown(listener: (active: boolean) => void): Promise<void>;
  close(): Promise<void>;
}

const DEST = 'org.freedesktop.login1';
const PATH = '/org/freedesktop/login1';
const IFACE = 'org.freedesktop.login1.Manager';

/** The real logind on the system bus ($DBUS_SYSTEM_BUS_ADDRESS or /run/dbus/system_bus_socket). */
export class DbusLogind implements Logind {
  readonly #bus: dbus.MessageBus;
  readonly #logger: Logger;
  #inhibitor: ChildProcess | undefined;

  constructor(logger: Logger) {
    this.#logger = logger;
    this.#bus = dbus.systemBus();
    // A bus that goes away must not end the agent: calls fail with the error instead.
    this.#bus.on('error', (err: unknown) => logger.warn({ code: 'DBUS_ERROR', err: String(err) }, 'system bus error'));
  }

  async inhibitDelayMaxMs(): Promise<number> {
    const obj = await this.#bus.getProxyObject(DEST, PATH);
    const props = obj.getInterface('org.freedesktop.DBus.Properties');
    const v = (await props.Get(IFACE, 'InhibitDelayMaxUSec')) as { value: bigint | number };
    return Number(v.value) / 1000;
  }

  async reloadConfig(): Promise<void> {
    const obj = await this.#bus.getProxyObject('org.freedesktop.systemd1', '/org/freedesktop/systemd1');
    const mgr = obj.getInterface('org.freedesktop.systemd1.Manager');
    // KillUnit(unit, who, signal): SIGHUP (1) to every process of the unit.
    await mgr.KillUnit('systemd-logind.service', 'all', 1);
  }

  async acquireDelayLock(): Promise<void> {
    if (this.#inhibitor !== undefined && this.#inhibitor.exitCode === null) return;
    const child = spawn(
      'systemd-inhibit',
      ['--what=shutdown', '--who=kubelet', '--why=Kubelet needs time to handle node shutdown', '--mode=delay', 'sleep', 'infinity'],
      { stdio: ['ignore', 'ignore', 'pipe'], env: process.env },
    );
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    this.#inhibitor = child;
    // systemd-inhibit fails at once when logind refuses; give it a moment to do so.
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => {
        child.removeAllListeners('exit');
        resolve();
      }, 500);
      child.once('exit', (code) => {
        clearTimeout(t);
        reject(new Error(`systemd-inhibit exited (${String(code)}): ${stderr.trim()}`));
      });
      child.once('error', (err) => {
        clearTimeout(t);
        reject(err);
      });
    });
    this.#logger.info({ pid: child.pid }, 'holding a delay inhibitor lock on shutdown');
  }

  async releaseDelayLock(): Promise<void> {
    const c = this.#inhibitor;
    this.#inhibitor = undefined;
    if (c === undefined || c.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill('SIGTERM');
    });
  }

  async onPrepareForShutdown(listener: (active: boolean) => void): Promise<void> {
    const obj = await this.#bus.getProxyObject(DEST, PATH);
    const mgr = obj.getInterface(IFACE);
    mgr.on('PrepareForShutdown', (active: boolean) => listener(active));
  }

  async close(): Promise<void> {
    await this.releaseDelayLock();
    this.#bus.disconnect();
  }
}

/**
 * In-memory logind for unit tests: `prepare(active)` emits the signal; `locked` tells whether the lock is held;
 * `reloads` counts reloadConfig calls, and `onReload` models what logind reads then (e.g. a drop-in's value).
 */
export class FakeLogind implements Logind {
  delayMaxMs = 30_000;
  locked = false;
  reloads = 0;
  onReload: (() => void | Promise<void>) | undefined;
  readonly #listeners: ((active: boolean) => void)[] = [];

  async inhibitDelayMaxMs(): Promise<number> {
    return this.delayMaxMs;
  }
  async reloadConfig(): Promise<void> {
    this.reloads++;
    await this.onReload?.();
  }
  async acquireDelayLock(): Promise<void> {
    this.locked = true;
  }
  async releaseDelayLock(): Promise<void> {
    this.locked = false;
  }
  async onPrepareForShutdown(listener: (active: boolean) => void): Promise<void> {
    this.#listeners.push(listener);
  }
  async close(): Promise<void> {
    this.locked = false;
  }
  /** Emits PrepareForShutdown(active). */
  prepare(active: boolean): void {
    for (const l of this.#listeners) l(active);
  }
}
