/**
 * Image garbage collection as pure functions (upstream pkg/kubelet/images/image_gc_manager.go): image records kept
 * across detections (first detected, last used), the eviction order, and what one collection removes.
 */
import type { Image } from '../../cri/types.js';

/** The policy (KubeletConfiguration imageGC* / imageMinimumGCAge / imageMaximumGCAge). */
export interface ImageGcPolicy {
  /** Disk usage (percent of the image filesystem) at or above which collection runs; 100 disables it. */
  highThresholdPercent: number;
  /** Disk usage collection frees down to. */
  lowThresholdPercent: number;
  /** Images detected more recently than this are never removed for disk space. */
  minAgeMs: number;
  /** Images unused for longer than this are removed whatever the disk usage; 0 = never. */
  maxAgeMs: number;
}

/** What the kubelet remembers of one image between detections. */
export interface ImageRecord {
  id: string;
  repoTags: string[];
  size: number;
  /** When this agent first saw the image (epoch ms). */
  firstDetectedMs: number;
  /** Last time a container (running or not) used the image (epoch ms; 0 = never seen in use). */
  lastUsedMs: number;
  /** Never removed (the pod infra image). */
  pinned: boolean;
}

/** Image IDs and references of every container the runtime has (running or not): those images are in use. */
export interface ImagesInUse {
  ids: ReadonlySet<string>;
  refs: ReadonlySet<string>;
}

/** True when a container uses the image (by ID or by one of its tags). */
export function isImageInUse(image: Pick<ImageRecord, 'id' | 'repoTags'>, inUse: ImagesInUse): boolean {
  return inUse.ids.has(image.id) || image.repoTags.some((t) => inUse.refs.has(t));
}

/**
 * Updates the records with one listing of the runtime's images (upstream detectImages): new images get
 * `firstDetectedMs = nowMs`, images in use get `lastUsedMs = nowMs`, images gone from the runtime are dropped.
 * Returns a new map; the input is not changed.
 */
export function detectImages(
  records: ReadonlyMap<string, ImageRecord>,
  images: readonly Image[],
  inUse: ImagesInUse,
  pinnedRefs: ReadonlySet<string>,
  nowMs: number,
): Map<string, ImageRecord> {
  const next = new Map<string, ImageRecord>();
  for (const img of images) {
    const prev = records.get(img.id);
    const used = isImageInUse(img, inUse);
    next.set(img.id, {
      id: img.id,
      repoTags: img.repoTags,
      size: img.size,
      firstDetectedMs: prev?.firstDetectedMs ?? nowMs,
      lastUsedMs: used ? nowMs : (prev?.lastUsedMs ?? 0),
      pinned: img.repoTags.some((t) => pinnedRefs.has(t)) || pinnedRefs.has(img.id),
    });
  }
  return next;
}

/** Unused, unpinned images, least recently used first, then earliest detected (upstream byLastUsedAndDetected). */
export function evictionOrder(records: Iterable<ImageRecord>, inUse: ImagesInUse): ImageRecord[] {
  return [...records]
    .filter((r) => !r.pinned && !isImageInUse(r, inUse))
    .sort((a, b) => a.lastUsedMs - b.lastUsedMs || a.firstDetectedMs - b.firstDetectedMs);
}

/** The image filesystem as statfs sees it. */
export interface FsUsage {
  capacityBytes: number;
  availableBytes: number;
}

/** What one collection does, computed before anything is removed. */
export interface ImageGcPlan {
  /** Images unused for longer than maxAge. */
  expired: ImageRecord[];
  /** Images removed to get below the low threshold (in order). */
  forSpace: ImageRecord[];
  /** Disk usage in percent before collection (upstream's integer arithmetic). */
  usagePercent: number;
  /** Bytes to free to reach the low threshold (0 when below the high threshold). */
  bytesToFree: number;
  /** Bytes the `forSpace` images free. */
  bytesFreed: number;
}

/**
 * Plans one collection (upstream GarbageCollect): first the images unused for longer than `maxAgeMs` (once the
 * agent has collected for that long), then, when
 * usage is at or above the high threshold, the unused images in eviction order that were detected at least
 * `minAgeMs` ago and were not used at `nowMs`, until the usage would reach the low threshold. Throws on a zero
 * capacity (the caller reports `InvalidDiskCapacity`).
 */
export function planImageGc(input: {
  records: Iterable<ImageRecord>;
  inUse: ImagesInUse;
  fs: FsUsage;
  policy: ImageGcPolicy;
  nowMs: number;
  /** When collection began on this agent: nothing expires before maxAge has passed since (upstream beganGC). */
  startedMs: number;
}): ImageGcPlan {
  const { policy, nowMs } = input;
  if (input.fs.capacityBytes <= 0) throw new Error('invalid capacity 0 on image filesystem');
  const ordered = evictionOrder(input.records, input.inUse);
  const ageApplies = policy.maxAgeMs > 0 && nowMs - input.startedMs > policy.maxAgeMs;
  const expired = ageApplies ? ordered.filter((r) => nowMs - r.lastUsedMs > policy.maxAgeMs) : [];
  const remaining = ordered.filter((r) => !expired.includes(r));
  const capacity = input.fs.capacityBytes;
  const available = Math.min(input.fs.availableBytes, capacity);
  const usagePercent = 100 - Math.floor((available * 100) / capacity);
  const forSpace: ImageRecord[] = [];
  let bytesToFree = 0;
  let bytesFreed = 0;
  if (usagePercent >= policy.highThresholdPercent) {
    bytesToFree = Math.floor((capacity * (100 - policy.lowThresholdPercent)) / 100) - available;
    for (const r of remaining) {
      if (bytesFreed >= bytesToFree) break;
      if (r.lastUsedMs >= nowMs) continue;
      if (nowMs - r.firstDetectedMs < policy.minAgeMs) continue;
      forSpace.push(r);
      bytesFreed += r.size;
    }
  }
  return { expired, forSpace, usagePercent, bytesToFree: Math.max(0, bytesToFree), bytesFreed };
}
