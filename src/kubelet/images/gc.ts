/**
 * The image garbage collector (upstream realImageGCManager): every `periodMs` (5 min) it lists the runtime's images
 * and containers, updates its records, and removes unused images — those unused for longer than imageMaximumGCAge,
 * then, when the image filesystem is at or above imageGCHighThresholdPercent, the least recently used ones until
 * usage reaches imageGCLowThresholdPercent. Images used by any container (running or exited) and the pod infra
 * image are never removed. Failures become Node events with upstream reasons (`ImageGCFailed`,
 * `FreeDiskSpaceFailed`, `InvalidDiskCapacity`).
 */
import { Counter, type Registry } from 'prom-client';
import type { EventRecorder, ObjectReference } from '../../api/types.js';
import type { ContainerRuntime } from '../../cri/types.js';
import type { Clock } from '../../util/clock.js';
import { errorMessage, NodeletError } from '../../util/errors.js';
import type { Logger } from '../../util/logger.js';
import { detectImages, evictionOrder, planImageGc, type FsUsage, type ImageGcPolicy, type ImageRecord, type ImagesInUse } from './gc-policy.js';

/** Reads a filesystem's size (statfs). */
export type FsStatsReader = (path: string) => Promise<FsUsage>;

/** Options of {@link ImageGcManager}. */
export interface ImageGcOptions {
  runtime: Pick<ContainerRuntime, 'listImages' | 'listContainers' | 'removeImage' | 'imageFsInfo'>;
  fsStats: FsStatsReader;
  policy: ImageGcPolicy;
  /** Image references never removed (the pod infra image). */
  pinnedImages: string[];
  nodeName: string;
  recorder: EventRecorder;
  clock: Clock;
  logger: Logger;
  /** Registers `kubelet_image_garbage_collected_total` when given. */
  registry?: Registry;
}

/** The result of one collection. */
export interface ImageGcResult {
  removed: { id: string; reason: 'age' | 'space'; size: number }[];
  usagePercent: number;
  bytesToFree: number;
}

/** A failed collection; `code` is stable. */
export class ImageGcError extends NodeletError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('IMAGE_GC_FAILED', message, options);
  }
}

/** See module comment. Calls are serialized by the caller (one loop). */
export class ImageGcManager {
  readonly #o: ImageGcOptions;
  readonly #nodeRef: ObjectReference;
  readonly #startedMs: number;
  readonly #collected: Counter<'reason'> | undefined;
  #records = new Map<string, ImageRecord>();

  constructor(options: ImageGcOptions) {
    this.#o = options;
    this.#nodeRef = { kind: 'Node', apiVersion: 'v1', name: options.nodeName, uid: options.nodeName };
    this.#startedMs = options.clock.now();
    this.#collected =
      options.registry === undefined
        ? undefined
        : new Counter({
            name: 'kubelet_image_garbage_collected_total',
            help: 'Total number of images garbage collected by the kubelet, whether through disk usage or image age.',
            labelNames: ['reason'],
            registers: [options.registry],
          });
  }

  /** The records as last detected (tests, debugging). */
  records(): ImageRecord[] {
    return [...this.#records.values()];
  }

  /**
   * Removes every unused image detected at least imageMinimumGCAge ago (upstream DeleteUnusedImages, the eviction
   * manager's node-level reclaim under disk pressure). Returns the bytes freed; removal failures are logged.
   */
  async deleteUnusedImages(): Promise<number> {
    const inUse = await this.detect();
    const now = this.#o.clock.now();
    let freed = 0;
    for (const r of evictionOrder(this.#records.values(), inUse)) {
      if (r.lastUsedMs >= now || now - r.firstDetectedMs < this.#o.policy.minAgeMs) continue;
      try {
        await this.#o.runtime.removeImage(r.id);
        this.#records.delete(r.id);
        this.#collected?.inc({ reason: 'space' });
        freed += r.size;
        this.#o.logger.info({ imageID: r.id, tags: r.repoTags, size: r.size }, 'removed unused image (eviction reclaim)');
      } catch (err) {
        this.#o.logger.warn({ code: 'IMAGE_GC_FAILED', imageID: r.id, err: errorMessage(err) }, 'failed to remove image');
      }
    }
    return freed;
  }

  /** Lists images and containers and updates the records; returns the images in use. */
  async detect(): Promise<ImagesInUse> {
    const [images, containers] = await Promise.all([this.#o.runtime.listImages(), this.#o.runtime.listContainers()]);
    const ids = new Set<string>();
    const refs = new Set<string>();
    for (const c of containers) {
      if (c.imageRef !== '') ids.add(c.imageRef);
      refs.add(c.image);
    }
    const inUse = { ids, refs };
    this.#records = detectImages(this.#records, images, inUse, new Set(this.#o.pinnedImages), this.#o.clock.now());
    return inUse;
  }

  /**
   * One collection. Throws ImageGcError when the image filesystem cannot be read or not enough could be freed
   * (after removing what could be), having recorded the upstream event.
   */
  async garbageCollect(): Promise<ImageGcResult> {
    const { runtime, recorder, clock, logger } = this.#o;
    const inUse = await this.detect();
    const fsInfo = await runtime.imageFsInfo();
    const fs = await this.#o.fsStats(fsInfo.mountpoint);
    if (fs.capacityBytes <= 0) {
      const msg = 'invalid capacity 0 on image filesystem';
      recorder.event(this.#nodeRef, 'Warning', 'InvalidDiskCapacity', msg);
      throw new ImageGcError(msg);
    }
    const plan = planImageGc({ records: this.#records.values(), inUse, fs, policy: this.#o.policy, nowMs: clock.now(), startedMs: this.#startedMs });
    const removed: ImageGcResult['removed'] = [];
    const failures: string[] = [];
    const remove = async (r: ImageRecord, reason: 'age' | 'space'): Promise<number> => {
      try {
        await runtime.removeImage(r.id);
        this.#records.delete(r.id);
        removed.push({ id: r.id, reason, size: r.size });
        this.#collected?.inc({ reason });
        logger.info({ imageID: r.id, tags: r.repoTags, size: r.size, reason }, 'removed image');
        return r.size;
      } catch (err) {
        failures.push(`${r.id}: ${errorMessage(err)}`);
        logger.warn({ code: 'IMAGE_GC_FAILED', imageID: r.id, err: errorMessage(err) }, 'failed to remove image');
        return 0;
      }
    };
    for (const r of plan.expired) await remove(r, 'age');
    let freed = 0;
    if (plan.bytesToFree > 0) {
      logger.info(
        { usage: plan.usagePercent, highThreshold: this.#o.policy.highThresholdPercent, lowThreshold: this.#o.policy.lowThresholdPercent, amountToFree: plan.bytesToFree },
        'disk usage on image filesystem is over the high threshold, trying to free bytes down to the low threshold',
      );
      for (const r of plan.forSpace) freed += await remove(r, 'space');
      if (freed < plan.bytesToFree) {
        const msg = `Failed to garbage collect required amount of images. Attempted to free ${plan.bytesToFree} bytes, but only found ${freed} bytes eligible to free.`;
        recorder.event(this.#nodeRef, 'Warning', 'FreeDiskSpaceFailed', msg);
        throw new ImageGcError(msg);
      }
    }
    if (failures.length > 0) throw new ImageGcError(`failed to remove images: ${failures.join('; ')}`);
    return { removed, usagePercent: plan.usagePercent, bytesToFree: plan.bytesToFree };
  }
}
