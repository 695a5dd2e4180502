/**
 * Walking a directory tree (du) is the expensive part of volume, log and ephemeral-storage stats, so its result is
 * kept per path for `ttlMs` (upstream computes volume stats once per `volumeStatsAggPeriod`, 1 minute). Bounded.
 */
import type { DirUsage, StatsFs } from './fs.js';

/** Cached `du` per path. */
export class DiskUsageCache {
  readonly #entries = new Map<string, { atMs: number; usage: DirUsage | undefined }>();

  constructor(
    private readonly fs: StatsFs,
    private readonly ttlMs = 60_000,
    private readonly maxEntries = 8192,
    private readonly maxWalk = 100_000,
  ) {}

  /** Usage of `path`, recomputed when older than the TTL. */
  get(path: string, nowMs: number): DirUsage | undefined {
    const hit = this.#entries.get(path);
    if (hit !== undefined && nowMs - hit.atMs < this.ttlMs) return hit.usage;
    const usage = this.fs.diskUsage(path, this.maxWalk);
    this.#entries.delete(path);
    this.#entries.set(path, { atMs: nowMs, usage });
    while (this.#entries.size > this.maxEntries) this.#entries.delete(this.#entries.keys().next().value!);
    return usage;
  }

  /** Drops entries not read since `beforeMs` (gone pods). */
  prune(beforeMs: number): void {
    for (const [k, v] of this.#entries) if (v.atMs < beforeMs) this.#entries.delete(k);
  }
}
