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
 * Deletes `dir` recursively, unlinking (never following) symlinks. Refuses (MOUNT_FAILED, nothing below deleted)
 * to enter a directory listed in `mountPoints` (a bind mount on the same device is only visible there) or one on
 * another device than `dir` (a mount that appeared in between).
 */
export async function removeTreeOnDevice(dir: string, mountPoints: ReadonlySet<string> = new Set(), dev?: number): Promise<void> {
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
  if (st.dev !== device || mountPoints.has(dir)) {
    throw new NodeletError('MOUNT_FAILED', `refusing to remove ${dir}: it is a mount point`);
  }
  for (const e of await readdir(dir)) await removeTreeOnDevice(path.join(dir, e), mountPoints, device);
  await rmdir(dir);
}

/**
 * Removes a pod directory safely: unmounts everything below it, then deletes it while refusing to enter anything
 * still mounted. Idempotent.
 */
export async function removePodDir(dir: string, mounter: Mounter): Promise<void> {
  await unmountAllUnder(dir, mounter);
  await removeTreeOnDevice(dir, new Set(await mounter.mountsUnder(dir)));
}

/** True when `child` is `parent` or inside it (both absolute, normalized). */
export function isWithin(parent: string, child: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (rel !== '..' && !rel.startsWith('../') && !path.isAbsolute(rel));
}
