import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock, RealClock } from '../../util/clock.js';
import { silentLogger } from '../../util/logger.js';
import { shutdownGroups } from './groups.js';
import { ensureInhibitDelay, KUBELET_LOGIND_CONF, LOGIND_CONF_DIR, LogindDropIn, logindDropInText } from './inhibit-delay.js';
import { FakeLogind } from './logind.js';
import { NodeShutdownManager } from './manager.js';

/** A fake logind that, on reload, reads InhibitDelayMaxSec from the drop-in directory (as logind reads logind.conf.d). */
function logindReading(dir: string, startMs: number): FakeLogind {
  const logind = new FakeLogind();
  logind.delayMaxMs = startMs;
  logind.onReload = async () => {
    const text = await readFile(join(dir, KUBELET_LOGIND_CONF), 'utf8').catch(() => '');
    const m = /^InhibitDelayMaxSec=(\d+)$/m.exec(text);
    if (m !== null) logind.delayMaxMs = Number(m[1]) * 1000;
  };
  return logind;
}

describe('logind InhibitDelayMaxSec override (upstream OverrideInhibitDelay + ReloadLogindConf)', () => {
  let dir = '';
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lg-logind-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const base = { clock: new RealClock(), logger: silentLogger(), rereads: { attempts: 2, intervalMs: 0 } };

  it('writes upstream\'s drop-in text to <dir>/99-kubelet.conf (default dir /etc/systemd/logind.conf.d)', async () => {
    expect(logindDropInText(30)).toBe('# Kubelet logind override\n[Login]\nInhibitDelayMaxSec=30\n');
    expect(new LogindDropIn().path).toBe(`${LOGIND_CONF_DIR}/${KUBELET_LOGIND_CONF}`);
    const dropIn = new LogindDropIn(join(dir, 'logind.conf.d'));
    expect(await dropIn.writeInhibitDelayMax(45)).toBe(join(dir, 'logind.conf.d', '99-kubelet.conf'));
    expect(await readFile(dropIn.path, 'utf8')).toBe(logindDropInText(45));
    expect(await readdir(join(dir, 'logind.conf.d'))).toEqual(['99-kubelet.conf']);
  });

  it('leaves logind alone when it already allows the grace period', async () => {
    const logind = logindReading(dir, 60_000);
    expect(await ensureInhibitDelay({ ...base, logind, dropIn: new LogindDropIn(dir), neededMs: 30_000 })).toBe(60_000);
    expect(logind.reloads).toBe(0);
    expect(await readdir(dir)).toEqual([]);
  });

  it('raises a lower value: writes the drop-in, reloads logind once, reads the new value', async () => {
    const logind = logindReading(dir, 5_000);
    expect(await ensureInhibitDelay({ ...base, logind, dropIn: new LogindDropIn(dir), neededMs: 30_000 })).toBe(30_000);
    expect(logind.reloads).toBe(1);
    expect(await readFile(join(dir, '99-kubelet.conf'), 'utf8')).toBe(logindDropInText(30));
  });

  it('fails with SHUTDOWN_INHIBIT_FAILED when logind keeps the old value, or writing or reloading fails', async () => {
    const ignoring = new FakeLogind();
    ignoring.delayMaxMs = 5_000;
    await expect(ensureInhibitDelay({ ...base, logind: ignoring, dropIn: new LogindDropIn(dir), neededMs: 30_000 })).rejects.toMatchObject({
      code: 'SHUTDOWN_INHIBIT_FAILED',
      message: 'node shutdown manager was unable to update logind InhibitDelayMaxSec to 30s (ShutdownGracePeriod), current value of InhibitDelayMaxSec (5s) is less than requested ShutdownGracePeriod',
    });
    await writeFile(join(dir, 'file'), '');
    const unwritable = logindReading(dir, 5_000);
    await expect(ensureInhibitDelay({ ...base, logind: unwritable, dropIn: new LogindDropIn(join(dir, 'file')), neededMs: 30_000 })).rejects.toMatchObject({ code: 'SHUTDOWN_INHIBIT_FAILED' });
    expect(unwritable.reloads).toBe(0);
    const noBus = logindReading(dir, 5_000);
    noBus.onReload = () => Promise.reject(new Error('no systemd on the bus'));
    await expect(ensureInhibitDelay({ ...base, logind: noBus, dropIn: new LogindDropIn(dir), neededMs: 30_000 })).rejects.toThrow('unable to reload logind conf: no systemd on the bus');
  });

  it('lets the shutdown manager start (and take its lock) once the drop-in raised the value', async () => {
    const logind = logindReading(dir, 5_000);
    const m = new NodeShutdownManager({
      logind,
      logindDropIn: new LogindDropIn(dir),
      groups: shutdownGroups(30, 10, []),
      nodeName: 'n1',
      activePods: () => [],
      killPod: () => undefined,
      podTerminated: () => true,
      recorder: { event: () => undefined },
      clock: new FakeClock(),
      logger: silentLogger(),
    });
    await m.start();
    expect(logind.locked).toBe(true);
    expect(logind.delayMaxMs).toBe(30_000);
    await m.stop();
  });
});
