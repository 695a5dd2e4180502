import { mkdir, mkdtemp, rm, stat, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hasCode } from '../../util/errors.js';
import { FakeMounter } from './mounter.js';
import { prepareSubPath, resolveSubPath } from './subpath.js';

describe('subPath', () => {
  let tmp: string;
  let vol: string;
  let outside: string;
  beforeEach(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'nlpe-sp-'));
    vol = path.join(tmp, 'pod/volumes/kubernetes.io~empty-dir/data');
    outside = path.join(tmp, 'host-secret');
    await mkdir(vol, { recursive: true });
    await mkdir(outside);
    await writeFile(path.join(outside, 'shadow'), 'root:x');
    await mkdir(path.join(vol, 'logs'));
    await writeFile(path.join(vol, 'logs/app.log'), 'x');
    await symlink(outside, path.join(vol, 'escape'));
    await symlink('../../../../host-secret/shadow', path.join(vol, 'relescape'));
    await symlink('logs', path.join(vol, 'inside-link'));
    await symlink('/nonexistent-nlpe', path.join(vol, 'dangling'));
  });
  afterEach(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it('resolves paths inside the volume (also through internal symlinks) and creates missing dirs', async () => {
    expect(await resolveSubPath(vol, 'logs/app.log', 'x')).toBe(path.join(vol, 'logs/app.log'));
    expect(await resolveSubPath(vol, 'inside-link', 'x')).toBe(path.join(vol, 'logs'));
    expect(await resolveSubPath(vol, 'new/dir', 'x')).toBe(path.join(vol, 'new/dir'));
    expect((await stat(path.join(vol, 'new/dir'))).isDirectory()).toBe(true);
  });

  it.each(['escape', 'escape/shadow', 'relescape', 'escape/newdir'])('refuses %s (symlink out of the volume)', async (sp) => {
    const err = await resolveSubPath(vol, sp, 'failed to prepare subPath for volumeMount "data" of container "c"').catch((e: unknown) => e);
    expect(hasCode(err, 'CREATE_CONTAINER_CONFIG')).toBe(true);
    expect((err as Error).message).toContain('resolves outside the volume');
    await expect(stat(path.join(outside, 'newdir'))).rejects.toThrow();
  });

  it.each([
    ['dangling', 'cannot be resolved'],
    ['/etc', 'must not be an absolute path'],
    ['../x', "must not contain '..'"],
    ['a/../../x', "must not contain '..'"],
  ])('refuses %s', async (sp, msg) => {
    await expect(resolveSubPath(vol, sp, 'x')).rejects.toThrow(msg);
  });

  it('prepareSubPath bind-mounts the pinned fd to volume-subpaths and reuses an existing mount', async () => {
    const m = new FakeMounter();
    const req = { volumePath: vol, subPath: 'logs/app.log', podDir: path.join(tmp, 'pod'), volumeName: 'data', containerName: 'c', index: 2 };
    const target = await prepareSubPath(req, m);
    expect(target).toBe(path.join(tmp, 'pod/volume-subpaths/data/c/2'));
    expect((await stat(target)).isFile()).toBe(true);
    expect(m.calls).toHaveLength(1);
    expect(m.calls[0]).toMatch(new RegExp(`^bind /proc/${process.pid}/fd/\\d+ ${target}$`));
    expect(await prepareSubPath(req, m)).toBe(target);
    expect(m.calls).toHaveLength(1);
    await expect(prepareSubPath({ ...req, subPath: 'escape', index: 3 }, m)).rejects.toThrow(
      'failed to prepare subPath for volumeMount "data" of container "c": subPath "escape" resolves outside the volume',
    );
  });
});
