import { existsSync, lstatSync, mkdirSync, mkdtempSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../util/logger.js';
import { containerIdOfLegacyLink, legacyLogLinkPath, LegacyLogLinks } from './legacy-links.js';

let dir = '';
afterEach(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
  dir = '';
});

const linked = (p: string): boolean => {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
};

describe('legacy container log links (/var/log/containers)', () => {
  it('names a link <pod>_<ns>_<container>-<id>.log, cut to 255 bytes, and reads the id back', () => {
    expect(legacyLogLinkPath('/var/log/containers', 'web', 'default', 'app', 'abc123')).toBe('/var/log/containers/web_default_app-abc123.log');
    const long = legacyLogLinkPath('/d', 'p'.repeat(250), 'ns', 'c', 'id');
    expect(long.slice('/d/'.length)).toHaveLength(255);
    expect(long.endsWith('.log')).toBe(true);
    expect(containerIdOfLegacyLink('web_default_app-abc123.log')).toBe('abc123');
    expect(containerIdOfLegacyLink('my-pod_default_my-app-abc123.log')).toBe('abc123');
    expect(containerIdOfLegacyLink('notes.txt')).toBeUndefined();
    expect(containerIdOfLegacyLink('nodash.log')).toBeUndefined();
  });

  it('links a started container\'s log file, and makes nothing when the file does not exist', async () => {
    dir = mkdtempSync(join(tmpdir(), 'nl-legacy-links-'));
    const links = new LegacyLogLinks({ dir: join(dir, 'containers'), logger: silentLogger() });
    const log = join(dir, 'pods', 'default_web_u1', 'app', '0.log');
    mkdirSync(join(dir, 'pods', 'default_web_u1', 'app'), { recursive: true });
    writeFileSync(log, 'hello\n');
    await links.link({ podName: 'web', podNamespace: 'default', containerName: 'app', containerId: 'c1' }, log);
    expect(readlinkSync(join(dir, 'containers', 'web_default_app-c1.log'))).toBe(log);
    await links.link({ podName: 'web', podNamespace: 'default', containerName: 'app', containerId: 'c2' }, join(dir, 'missing.log'));
    expect(existsSync(join(dir, 'containers', 'web_default_app-c2.log'))).toBe(false);
  });

  it('removes links whose file is gone unless their container still runs; never other files or live links', async () => {
    dir = mkdtempSync(join(tmpdir(), 'nl-legacy-links-'));
    const d = join(dir, 'containers');
    mkdirSync(d);
    writeFileSync(join(dir, 'live.log'), 'x');
    symlinkSync(join(dir, 'live.log'), join(d, 'a_ns_c-live.log'));
    symlinkSync(join(dir, 'gone1.log'), join(d, 'a_ns_c-exited.log'));
    symlinkSync(join(dir, 'gone2.log'), join(d, 'a_ns_c-unknownid.log'));
    symlinkSync(join(dir, 'gone3.log'), join(d, 'a_ns_c-running.log'));
    writeFileSync(join(d, 'plain-file.log'), 'not a link');
    symlinkSync(join(dir, 'gone4'), join(d, 'README'));
    const states: Record<string, 'running' | 'exited'> = { exited: 'exited', running: 'running', live: 'running' };
    const links = new LegacyLogLinks({ dir: d, logger: silentLogger() });
    expect(await links.removeDangling(async (id) => states[id])).toBe(2);
    expect(linked(join(d, 'a_ns_c-live.log'))).toBe(true);
    expect(linked(join(d, 'a_ns_c-running.log'))).toBe(true);
    expect(linked(join(d, 'a_ns_c-exited.log'))).toBe(false);
    expect(linked(join(d, 'a_ns_c-unknownid.log'))).toBe(false);
    expect(existsSync(join(d, 'plain-file.log'))).toBe(true);
    expect(linked(join(d, 'README'))).toBe(true);
    // A missing directory is nothing to do.
    expect(await new LegacyLogLinks({ dir: join(dir, 'none'), logger: silentLogger() }).removeDangling(async () => undefined)).toBe(0);
  });
});
