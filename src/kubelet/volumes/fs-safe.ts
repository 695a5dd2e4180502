/**
 * Removal of a pod directory that can never reach outside it: mount points below it are unmounted first, and the
 * recursive delete refuses to descend into anything on another device (a mount that survived) and never follows
 * symlinks, so hostPath content and bind-mounted subPaths are never deleted.
 */
import { lstat, readdir, rmdir, unlink } from 'node:fs/promises';
import path from 'node:path';
import { NodeletError } from '../../util/errors.js';
import type { Mounter } from './mounter.js';

/** Unmounts every mount point at or below `dir`, deepest first; throws MOUNT_FAILED if any stays mounted. */
export async function unmountAllUnder(dir: string, mounter: Mounter): Promise<void> {
  for (const m of await mounter.mountsUnder(dir)) await mounter.unmount(m);
  const left = await mounter.mountsUnder(dir);
  if (left.length > 0) {
    throw new NodeletError('MOUNT_FAILED', `mount points still present under ${dir}: ${left.join(', ')}`);
  }
}

/**
 * Deletes `dir` recursively, staying on `dir`'s device and unlinking (never following) symlinks. Throws
 * MOUNT_FAILED without deleting the offending entry when a directory on another device is found.
 */
export async function removeTreeOnDevice(dir: string, dev?: number): Promise<void> {
  let st;
  try {
    st = await lstat(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  const device = dev ?? st.dev;
  if (!st.isDirectory()) {
    await unlink(dir);
    return;
  }
  if (st.dev !== device) {
    throw new NodeletError('MOUNT_FAILED', `refusing to remove ${dir}: it is a mount point of another filesystem`);
  }
  for (const e of await readdir(dir)) await removeTreeOnDevice(path.join(dir, e), device);
  await rmdir(dir);
}

/** True when `child` is `parent` or inside it (both absolute, normalized). */
export function isWithin(parent: string, child: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (rel !== '..' && !rel.startsWith('../') && !path.isAbsolute(rel));
}
