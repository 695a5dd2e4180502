/**
 * Disk used by one container's log (upstream's `Logs.UsedBytes`; the eviction manager adds the writable layer,
 * `Rootfs.UsedBytes`, from the runtime's containerWritableLayerBytes).
 */
import { readdir, realpath, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Bytes allocated to the log file at `logPath` (symlinks followed: Docker's json-file behind a CRI log path) and to
 * its rotated siblings (`<file>.<suffix>`: CRI `0.log.20261202-043405[.gz]`, Docker `-json.log.1`). 0 when there is
 * no log. Never throws.
 */
export async function containerLogBytes(logPath: string): Promise<number> {
  if (logPath === '') return 0;
  let file: string;
  try {
    file = await realpath(logPath);
  } catch {
    return 0;
  }
  const dir = dirname(file);
  const base = basename(file);
  let total = 0;
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (name !== base && !name.startsWith(`${base}.`)) continue;
    const st = await stat(join(dir, name)).catch(() => undefined);
    if (st?.isFile() === true) total += st.blocks * 512;
  }
  return total;
}
