/**
 * fsGroup ownership (upstream pkg/volume/volume_linux.go SetVolumeOwnership): every file and directory in the volume
 * gets group fsGroup; files gain g+rw (g+r for read-only volumes), directories additionally g+x and setgid.
 * Symlinks are re-grouped but never chmod'ed (that would change their target).
 */
import { chmod, lchown, lstat, readdir } from 'node:fs/promises';
import path from 'node:path';

/** Applies fsGroup ownership below (and including) `dir`, without following symlinks. */
export async function setVolumeOwnership(dir: string, fsGroup: number, readOnly: boolean): Promise<void> {
  const st = await lstat(dir);
  await lchown(dir, st.uid, fsGroup);
  if (st.isSymbolicLink()) return;
  const mask = readOnly ? 0o440 : 0o660;
  if (st.isDirectory()) {
    await chmod(dir, (st.mode & 0o7777) | mask | 0o2000 | 0o110);
    for (const e of await readdir(dir)) await setVolumeOwnership(path.join(dir, e), fsGroup, readOnly);
  } else {
    await chmod(dir, (st.mode & 0o7777) | mask);
  }
}
