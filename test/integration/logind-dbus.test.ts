/**
 * Integration: DbusLogind over a real (private) D-Bus daemon against test/e2e/fixtures/fake-logind.py, which also
 * stands in for systemd's KillUnit: with logind at InhibitDelayMaxSec 5s, ensureInhibitDelay writes the drop-in into a
 * temp dir (never /etc), reloads logind through org.freedesktop.systemd1.Manager.KillUnit(systemd-logind.service,
 * all, SIGHUP) and reads the raised value back. The bus and the fake are stopped by PID.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DbusLogind, ensureInhibitDelay, LogindDropIn } from '../../src/kubelet/shutdown/index.js';
import { RealClock } from '../../src/util/clock.js';
import { silentLogger } from '../../src/util/logger.js';

const FAKE = resolve(import.meta.dirname, '../e2e/fixtures/fake-logind.py');
const missing =
  spawnSync('sh', ['-c', 'command -v dbus-daemon']).status !== 0
    ? 'dbus-daemon is not installed'
    : spawnSync('/usr/bin/python3', ['-c', 'import dbus, gi']).status !== 0
      ? 'python3-dbus / python3-gi are not installed'
      : undefined;

describe.skipIf(missing !== undefined)(`DbusLogind reload through systemd's KillUnit ${missing === undefined ? '' : `(skipped: ${missing})`}`, () => {
  let dir = '';
  let busPid = 0;
  let fake: ChildProcess | undefined;
  let out = '';
  const savedBus = process.env.DBUS_SYSTEM_BUS_ADDRESS;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lg-logind-bus-'));
    const address = `unix:path=${dir}/bus.sock`;
    writeFileSync(
      join(dir, 'bus.conf'),
      `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN" "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>system</type><listen>${address}</listen><auth>EXTERNAL</auth>
<policy context="default"><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/><allow own="*"/><allow user="*"/></policy></busconfig>
`,
    );
    const bus = spawnSync('dbus-daemon', [`--config-file=${join(dir, 'bus.conf')}`, '--fork', '--print-pid'], { encoding: 'utf8' });
    busPid = Number(bus.stdout.trim());
    if (!busPid) throw new Error(`dbus-daemon did not start: ${bus.stderr}`);
    process.env.DBUS_SYSTEM_BUS_ADDRESS = address;
    fake = spawn('/usr/bin/python3', [FAKE, '5', join(dir, 'conf.d')], { env: { ...process.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    fake.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    fake.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    const deadline = Date.now() + 15_000;
    while (!out.includes('READY')) {
      if (Date.now() > deadline) throw new Error(`fake logind did not start: ${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  });

  afterAll(() => {
    if (savedBus === undefined) delete process.env.DBUS_SYSTEM_BUS_ADDRESS;
    else process.env.DBUS_SYSTEM_BUS_ADDRESS = savedBus;
    fake?.kill('SIGTERM');
    if (busPid > 0) {
      try {
        process.kill(busPid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  it('raises InhibitDelayMaxSec with the drop-in and a SIGHUP to systemd-logind.service', async () => {
    const logind = new DbusLogind(silentLogger());
    try {
      expect(await logind.inhibitDelayMaxMs()).toBe(5000);
      const dropIn = new LogindDropIn(join(dir, 'conf.d'));
      const now = await ensureInhibitDelay({ logind, dropIn, neededMs: 20_000, clock: new RealClock(), logger: silentLogger() });
      expect(now).toBe(20_000);
      expect(out).toContain('KILLUNIT systemd-logind.service all 1');
      expect(readFileSync(dropIn.path, 'utf8')).toBe('# Kubelet logind override\n[Login]\nInhibitDelayMaxSec=20\n');
    } finally {
      await logind.close();
    }
  });
});
