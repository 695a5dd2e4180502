/**
 * Safety of pod directory removal with real mounts: a filesystem still mounted inside the pod dir is never
 * descended into, and HostMounter unmounts tmpfs and bind mounts (deepest first) before the delete.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { removePodDir, removeTreeOnDevice, unmountAllUnder } from '../../src/kubelet/volumes/fs-safe.js';
import { HostMounter } from '../../src/kubelet/volumes/mounter.js';

describe('pod dir removal with real mounts', () => {
  const root = mkdtempSync(join(tmpdir(), 'nlpe-clean-'));
  const mounter = new HostMounter();

  afterAll(async () => {
    await unmountAllUnder(root, mounter).catch(() => undefined);
    rmSync(root, { recursive: true, force: true });
  });

  it('refuses to cross into a mounted filesystem, then unmounts and removes everything', async () => {
    const pod = join(root, 'pod');
    const hostData = join(root, 'host-data');
    mkdirSync(join(pod, 'volumes/tmp'), { recursive: true });
    mkdirSync(join(pod, 'volume-subpaths/data'), { recursive: true });
    mkdirSync(hostData);
    writeFileSync(join(hostData, 'precious'), 'keep me');
    await mounter.mountTmpfs(join(pod, 'volumes/tmp'), 1 << 20);
    writeFileSync(join(pod, 'volumes/tmp/file'), 'x');
    await mounter.bind(hostData, join(pod, 'volume-subpaths/data'));
    expect(await mounter.mountsUnder(pod)).toHaveLength(2);

    // A same-device bind mount has the same st_dev as the pod dir: only the mount list reveals it.
    const mounts = new Set(await mounter.mountsUnder(pod));
    await expect(removeTreeOnDevice(join(pod, 'volume-subpaths'), mounts)).rejects.toThrow(/it is a mount point/);
    await expect(removeTreeOnDevice(pod, mounts)).rejects.toThrow(/it is a mount point/);
    expect(readFileSync(join(hostData, 'precious'), 'utf8')).toBe('keep me');
    // The tmpfs alone (another device) is refused even without the list.
    await mounter.unmount(join(pod, 'volume-subpaths/data'));
    await expect(removeTreeOnDevice(pod)).rejects.toThrow(/it is a mount point/);
    expect(readFileSync(join(pod, 'volumes/tmp/file'), 'utf8')).toBe('x');
    mkdirSync(join(pod, 'volume-subpaths/data'), { recursive: true });
    await mounter.bind(hostData, join(pod, 'volume-subpaths/data'));
    expect(await mounter.mountsUnder(pod)).toHaveLength(2);

    await removePodDir(pod, mounter);
    expect(await mounter.mountsUnder(pod)).toEqual([]);
    expect(existsSync(pod)).toBe(false);
    expect(readFileSync(join(hostData, 'precious'), 'utf8')).toBe('keep me');
  });
});
