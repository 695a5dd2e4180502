/**
 * The CRI ImageService half of CriRuntime. ImageStatus is asked verbosely so the image config (user, stop signal,
 * env) is known; ListImages has only CRI's uid/username.
 */
import { hasCode, NodeletError } from '../../util/index.js';
import type { Image, ImageFsInfo, PullOptions } from '../types.js';
import type { CriClient } from './client.js';
import type { CriImage } from './messages.js';

/** The parts of the image config CRI's verbose ImageStatus reports (containerd: info.imageSpec.config). */
export interface ImageConfig {
  user: string;
  stopSignal: string;
  env: string[];
}

/** An image with its config. */
export interface ImageWithConfig {
  image: Image;
  config: ImageConfig;
}

/** Image config from containerd's verbose ImageStatus info (empty fields when absent or unparsable). */
export function imageConfigFromInfo(info: Record<string, string> | undefined): ImageConfig | undefined {
  const raw = info?.['info'];
  if (raw === undefined) return undefined;
  try {
    const cfg = (JSON.parse(raw) as { imageSpec?: { config?: { User?: string; StopSignal?: string; Env?: string[] } } }).imageSpec?.config;
    return { user: cfg?.User ?? '', stopSignal: cfg?.StopSignal ?? '', env: cfg?.Env ?? [] };
  } catch {
    return undefined;
  }
}

/** Seam image of a CRI image; `config` (when known) supplies user and stop signal. */
export function fromCriImage(i: CriImage, config?: ImageConfig): Image {
  const user = config?.user ?? (i.uid !== null && i.uid !== undefined ? i.uid.value : i.username);
  return {
    id: i.id,
    repoTags: [...i.repoTags],
    repoDigests: [...i.repoDigests],
    size: Number(i.size),
    user: user === '0' ? '' : user,
    stopSignal: config?.stopSignal ?? '',
  };
}

/** The image with its config, or null when the runtime does not have it. */
export async function imageWithConfig(client: CriClient, ref: string): Promise<ImageWithConfig | null> {
  const res = await client.image('ImageStatus', { image: { image: ref }, verbose: true }, { op: 'inspect', object: `image ${ref}` });
  if (res.image === null || res.image === undefined || res.image.id === '') return null;
  const config = imageConfigFromInfo(res.info) ?? { user: '', stopSignal: '', env: [] };
  return { image: fromCriImage(res.image, config), config };
}

/** Lists images (user from CRI uid/username; stop signal unknown: ''). */
export async function listImages(client: CriClient): Promise<Image[]> {
  const res = await client.image('ListImages', {}, { op: 'list', object: 'images' });
  return res.images.map((i) => fromCriImage(i));
}

/** Pulls `image`; every failure but an unreachable runtime or an abort is IMAGE_PULL_FAILED. */
export async function pullImage(client: CriClient, image: string, options: PullOptions): Promise<string> {
  const a = options.auth;
  const req = {
    image: { image },
    ...(a === undefined
      ? {}
      : {
          auth: {
            username: a.username ?? '',
            password: a.password ?? '',
            auth: a.auth ?? '',
            serverAddress: a.serverAddress ?? '',
            identityToken: a.identityToken ?? '',
            registryToken: a.registryToken ?? '',
          },
        }),
  };
  options.onProgress?.({ status: `Pulling image ${image}` });
  try {
    // Pulls may be long: no deadline beyond the caller's signal (upstream uses none either).
    const res = await client.image('PullImage', req, { op: 'pull', object: `image ${image}` }, { timeoutMs: 0, signal: options.signal });
    options.onProgress?.({ status: `Pulled image ${image}` });
    return res.imageRef;
  } catch (err) {
    if (hasCode(err, 'RUNTIME_UNAVAILABLE') || hasCode(err, 'CANCELLED')) throw err;
    const detail = err instanceof Error ? err.message : String(err);
    throw new NodeletError('IMAGE_PULL_FAILED', `failed to pull image ${image}: ${detail}`, { cause: err, object: `image ${image}` });
  }
}

/** The image filesystem as containerd reports it (first entry of ImageFsInfo). */
export async function imageFsInfo(client: CriClient): Promise<ImageFsInfo> {
  const res = await client.image('ImageFsInfo', {}, { op: 'image fs info', object: 'image filesystem' });
  const fs = res.imageFilesystems[0];
  return { mountpoint: fs?.fsId?.mountpoint ?? '/', usedBytes: Number(fs?.usedBytes?.value ?? 0) };
}

/**
 * Removes the image (idempotent). Note: containerd removes every reference of the image (all its tags), as the CRI
 * contract allows.
 */
export async function removeImage(client: CriClient, image: string): Promise<void> {
  try {
    await client.image('RemoveImage', { image: { image } }, { op: 'remove', object: `image ${image}` });
  } catch (err) {
    if (!hasCode(err, 'NOT_FOUND')) throw err;
  }
}
