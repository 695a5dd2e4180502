/** emptyDir volumes: a directory in the pod dir, or a tmpfs with medium Memory (sized as upstream, see tmpfs-size.ts). */
import { chmod, mkdir } from 'node:fs/promises';

import type { SetUpContext } from './context.js';
import { setVolumeOwnership } from './ownership.js';
import { memoryVolumeSize } from './tmpfs-size.js';

/** Sets up (idempotently) an emptyDir; returns true when it was created or mounted now. */
export async function setUpEmptyDir(ctx: SetUpContext): Promise<boolean> {
  const src = ctx.volume.emptyDir ?? {};
  const medium = src.medium ?? '';
  if (medium !== '' && medium !== 'Memory') throw new Error(`emptyDir medium "${medium}" is not supported`);
  // mkdir returns the first directory it created (undefined: it existed). Mode and fsGroup ownership are applied
  // once, when the volume is created (or its tmpfs mounted), never again on later syncs.
  let fresh = (await mkdir(ctx.dir, { recursive: true })) !== undefined;
  if (medium === 'Memory') {
    if (!(await ctx.mounter.hasOwnFilesystem(ctx.dir))) {
      await ctx.mounter.mountTmpfs(ctx.dir, memoryVolumeSize(ctx.pod, ctx.allocatable.memoryBytes, src.sizeLimit));
      fresh = true;
    }
  }
  if (fresh) {
    await chmod(ctx.dir, 0o777);
    const fsGroup = ctx.pod.spec?.securityContext?.fsGroup;
    if (fsGroup !== undefined) await setVolumeOwnership(ctx.dir, fsGroup, false);
  }
  return fresh;
}
