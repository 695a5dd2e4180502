import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isWithin, removeTreeOnDevice, unmountAllUnder } from './fs-safe.js';
import { FakeMounter, HostMounter, parseMountInfo } from './mounter.js';

describe('mountinfo parsing', () => {
  it('reads mount points and decodes octal escapes', () => {
    const text = [
      '22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw',
      '90 22 0:50 / /var/lib/nodelet/pods/u/volumes/kubernetes.io~secret/my\\040secret rw - tmpfs tmpfs rw',
      '',
    ].join('\n');
    expect(parseMountInfo(text)).toEqual(['/', '/var/lib/nodelet/pods/u/volumes/kubernetes.io~secret/my secret']);
  });
});

describe('HostMounter.hasOwnFilesystem', () => {
  it('is true for a filesystem root (/proc) and false for a plain directory', async () => {
    const m = new HostMounter();
    expect(await m.hasOwnFilesystem('/proc')).toBe(true);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'nlpe-own-fs-'));
    try {
      expect(await m.hasOwnFilesystem(dir)).toBe(false);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('safe removal', () => {
  it('isWithin', () => {
    expect(isWithin('/a/b', '/a/b')).toBe(true);
    expect(isWithin('/a/b', '/a/b/..c')).toBe(true);
    expect(isWithin('/a/b', '/a/bc')).toBe(false);
    expect(isWithin('/a/b', '/a')).toBe(false);
  });

  it('unmounts deepest first and deletes without following symlinks', async () => {
    const tmp = await mkdtemp(path.join(os.tmpdir(), 'nlpe-rm-'));
    try {
      const pod = path.join(tmp, 'pod');
      const outside = path.join(tmp, 'outside');
      await mkdir(path.join(pod, 'a/b'), { recursive: true });
      await mkdir(outside);
      await writeFile(path.join(outside, 'keep'), 'x');
      await symlink(outside, path.join(pod, 'a/b/link'));
      await symlink(path.join(outside, 'keep'), path.join(pod, 'filelink'));
      const m = new FakeMounter();
      await m.mountTmpfs(path.join(pod, 'a'));
      await m.bind('/x', path.join(pod, 'a/b'));
      await m.mountTmpfs(path.join(tmp, 'podX'));
      await unmountAllUnder(pod, m);
      expect(m.calls.slice(-2)).toEqual([`umount ${path.join(pod, 'a/b')}`, `umount ${path.join(pod, 'a')}`]);
      expect([...m.mounts.keys()]).toEqual([path.join(tmp, 'podX')]);
      await removeTreeOnDevice(pod);
      expect(await readdir(tmp)).toEqual(['outside']);
      expect(await readdir(outside)).toEqual(['keep']);
      await removeTreeOnDevice(pod);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });

  it('refuses when a mount cannot be removed', async () => {
    const m = new FakeMounter();
    m.unmount = async () => undefined;
    await m.mountTmpfs('/p/x');
    await expect(unmountAllUnder('/p', m)).rejects.toThrow('mount points still present under /p: /p/x');
  });
});
