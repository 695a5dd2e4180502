/** hostPath volumes: the host path itself, after the `type` check (upstream hostpath plugin checkType). */
import { constants } from 'node:fs';
import { mkdir, open, stat } from 'node:fs/promises';
import type { V1HostPathVolumeSource } from '@kubernetes/client-node';

/** The kinds of host path `type` checks. */
export type HostPathType = '' | 'DirectoryOrCreate' | 'Directory' | 'FileOrCreate' | 'File' | 'Socket' | 'CharDevice' | 'BlockDevice';

async function statOrUndefined(p: string): Promise<Awaited<ReturnType<typeof stat>> | undefined> {
  try {
    return await stat(p);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * Checks (and for *OrCreate creates) the host path. Throws an Error with upstream's message
 * (`hostPath type check failed: /p is not a directory`, …). Never modifies existing content.
 */
export async function checkHostPath(src: V1HostPathVolumeSource): Promise<void> {
  const p = src.path;
  const type = (src.type ?? '') as HostPathType;
  let st = await statOrUndefined(p);
  if (type === 'DirectoryOrCreate' && st === undefined) {
    await mkdir(p, { recursive: true, mode: 0o755 });
    return;
  }
  if (type === 'FileOrCreate' && st === undefined) {
    const fh = await open(p, constants.O_CREAT | constants.O_RDONLY, 0o644);
    await fh.close();
    st = await stat(p);
  }
  switch (type) {
    case '':
      return;
    case 'DirectoryOrCreate':
    case 'Directory':
      if (st === undefined || !st.isDirectory()) throw new Error(`hostPath type check failed: ${p} is not a directory`);
      return;
    case 'FileOrCreate':
    case 'File':
      if (st === undefined || !st.isFile()) throw new Error(`hostPath type check failed: ${p} is not a file`);
      return;
    case 'Socket':
      if (st === undefined || !st.isSocket()) throw new Error(`hostPath type check failed: ${p} is not a socket file`);
      return;
    case 'CharDevice':
      if (st === undefined || !st.isCharacterDevice()) {
        throw new Error(`hostPath type check failed: ${p} is not a character device`);
      }
      return;
    case 'BlockDevice':
      if (st === undefined || !st.isBlockDevice()) throw new Error(`hostPath type check failed: ${p} is not a block device`);
      return;
    default:
      throw new Error(`${String(type)} is an invalid volume type`);
  }
}
