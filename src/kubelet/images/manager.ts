/**
 * Ensures a container's image is present before it is created (upstream images.imageManager.EnsureImageExists):
 * pull policy, pull secrets, Pulling/Pulled/Failed/BackOff events with upstream messages, and a per-(pod, image)
 * backoff (10 s doubling to 300 s) that surfaces as ImagePullBackOff instead of a hidden sleep. Pulls are serialized
 * (upstream serializeImagePulls=true).
 */
import type { V1Container, V1Pod, V1Secret } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { EventRecorder, ObjectReference } from '../../api/types.js';
import type { ContainerRuntime, Image } from '../../cri/types.js';
import { Backoff } from '../../util/backoff.js';
import type { Clock } from '../../util/clock.js';
import { errorMessage } from '../../util/errors.js';
import { WaitingError } from '../pods/waiting.js';
import { effectivePullPolicy, goDurationMs, isValidImageRef } from './policy.js';
import { credentialsFor } from './secrets.js';

/** Options for {@link ImageManager}. */
export interface ImageManagerOptions {
  runtime: ContainerRuntime;
  recorder: EventRecorder;
  clock: Clock;
  logger: Logger;
  /** Reads a pull secret (undefined in standalone mode: no secrets). */
  getSecret?: (namespace: string, name: string) => Promise<V1Secret>;
  backoff?: Backoff;
}

/** See module comment. One instance per agent. */
export class ImageManager {
  readonly #o: ImageManagerOptions;
  readonly #backoff: Backoff;
  /** When the last pull of (pod, image) failed; the backoff window starts there. */
  readonly #lastFailure = new Map<string, number>();
  #chain: Promise<unknown> = Promise.resolve();

  constructor(options: ImageManagerOptions) {
    this.#o = options;
    this.#backoff = options.backoff ?? new Backoff({ initialMs: 10_000, maxMs: 300_000 });
  }

  /** Current pull backoff of (pod, image) in ms (0 = none). */
  backoffMs(podUID: string, image: string): number {
    return this.#backoff.get(`${podUID}_${image}`);
  }

  /**
   * Returns the image, pulling it when the policy says so. Throws WaitingError with reason InvalidImageName,
   * ErrImageNeverPull, ImagePullBackOff or ErrImagePull.
   */
  async ensureImage(pod: V1Pod, container: V1Container, ref: ObjectReference): Promise<Image> {
    const { runtime, recorder, clock } = this.#o;
    const image = container.image ?? '';
    if (!isValidImageRef(image)) {
      const msg = `Failed to apply default image tag "${image}": couldn't parse image reference "${image}": invalid reference format`;
      recorder.event(ref, 'Warning', 'InspectFailed', msg);
      throw new WaitingError('INVALID', 'InvalidImageName', msg);
    }
    const policy = effectivePullPolicy(image, container.imagePullPolicy);
    const present = await runtime.imageStatus(image);
    if (policy === 'Never' || (policy === 'IfNotPresent' && present !== null)) {
      if (present !== null) {
        recorder.event(ref, 'Normal', 'Pulled', `Container image "${image}" already present on machine`);
        return present;
      }
      const msg = `Container image "${image}" is not present with pull policy of Never`;
      recorder.event(ref, 'Warning', 'ErrImageNeverPull', msg);
      throw new WaitingError('IMAGE_NOT_FOUND', 'ErrImageNeverPull', msg);
    }
    const key = `${pod.metadata?.uid ?? ''}_${image}`;
    const now = clock.now();
    const failedAt = this.#lastFailure.get(key);
    if (failedAt !== undefined && this.#backoff.isInBackoffSince(key, failedAt, now)) {
      const msg = `Back-off pulling image "${image}"`;
      recorder.event(ref, 'Normal', 'BackOff', msg);
      throw new WaitingError('IMAGE_PULL_FAILED', 'ImagePullBackOff', msg, {
        retryAt: failedAt + this.#backoff.get(key),
      });
    }
    const queued = clock.monotonic();
    const result = this.#chain.then(() => this.#pull(pod, image, ref, queued, key));
    this.#chain = result.catch(() => undefined);
    return result;
  }

  async #pull(pod: V1Pod, image: string, ref: ObjectReference, queued: number, key: string): Promise<Image> {
    const { runtime, recorder, clock } = this.#o;
    recorder.event(ref, 'Normal', 'Pulling', `Pulling image "${image}"`);
    const start = clock.monotonic();
    try {
      const secrets = await this.#secrets(pod);
      const creds = credentialsFor(image, secrets);
      let lastErr: unknown;
      for (const auth of creds.length > 0 ? creds : [undefined]) {
        try {
          await runtime.pullImage(image, auth === undefined ? {} : { auth });
          lastErr = undefined;
          break;
        } catch (err) {
          lastErr = err;
        }
      }
      if (lastErr !== undefined) throw lastErr;
      const got = await runtime.imageStatus(image);
      if (got === null) throw new Error(`image "${image}" not present after pull`);
      const end = clock.monotonic();
      recorder.event(
        ref,
        'Normal',
        'Pulled',
        `Successfully pulled image "${image}" in ${goDurationMs(end - start)} (${goDurationMs(end - queued)} including waiting)`,
      );
      this.#backoff.reset(key);
      this.#lastFailure.delete(key);
      return got;
    } catch (err) {
      const msg = errorMessage(err);
      recorder.event(ref, 'Warning', 'Failed', `Failed to pull image "${image}": ${msg}`);
      recorder.event(ref, 'Warning', 'Failed', 'Error: ErrImagePull');
      const now = clock.now();
      this.#backoff.next(key, now);
      this.#lastFailure.set(key, now);
      this.#o.logger.info({ image, err: msg }, 'image pull failed');
      throw new WaitingError('IMAGE_PULL_FAILED', 'ErrImagePull', msg, {
        cause: err,
        retryAt: now + this.#backoff.get(key),
      });
    }
  }

  async #secrets(pod: V1Pod): Promise<V1Secret[]> {
    const get = this.#o.getSecret;
    const ns = pod.metadata?.namespace ?? 'default';
    if (get === undefined) return [];
    const out: V1Secret[] = [];
    for (const s of pod.spec?.imagePullSecrets ?? []) {
      if (s.name === undefined) continue;
      try {
        out.push(await get(ns, s.name));
      } catch (err) {
        this.#o.logger.warn({ secret: `${ns}/${s.name}`, err: errorMessage(err) }, 'unable to retrieve pull secret');
      }
    }
    return out;
  }
}
