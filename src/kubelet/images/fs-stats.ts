/** The real {@link FsStatsReader}: statfs(2) of a path (constructed only in src/cli). */
import { statfs } from 'node:fs/promises';
import type { FsUsage } from './gc-policy.js';

/** Capacity and bytes available to unprivileged users of the filesystem holding `path` (as cAdvisor reports). */
export async function statfsUsage(path: string): Promise<FsUsage> {
  const s = await statfs(path);
  return { capacityBytes: s.blocks * s.bsize, availableBytes: s.bavail * s.bsize };
}
