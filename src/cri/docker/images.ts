import type Docker from 'dockerode';
import { NodeletError } from '../../util/index.js';
import { normalizeImageRef } from '../refs.js';
import type { AuthConfig, Image, ImageFsInfo, PullOptions, PullProgress } from '../types.js';
import { engineMessage, engineStatus, mapDockerError } from './errors.js';
import { LineSplitter } from './lines.js';

/** Docker's X-Registry-Auth fields from a CRI AuthConfig. */
function dockerAuth(a: AuthConfig): Record<string, string> {
  const out: Record<string, string> = {};
  if (a.username !== undefined) out['username'] = a.username;
  if (a.password !== undefined) out['password'] = a.password;
  if (a.auth !== undefined) out['auth'] = a.auth;
  if (a.serverAddress !== undefined) out['serveraddress'] = a.serverAddress;
  if (a.identityToken !== undefined) out['identitytoken'] = a.identityToken;
  if (a.registryToken !== undefined) out['registrytoken'] = a.registryToken;
  return out;
}

function pullFailed(image: string, detail: string, cause?: unknown): NodeletError {
  return new NodeletError('IMAGE_PULL_FAILED', `failed to pull image ${image}: ${detail}`, {
    cause,
    object: `image ${image}`,
  });
}

interface PullLine {
  status?: string;
  id?: string;
  error?: string;
  errorDetail?: { message?: string };
  progressDetail?: { current?: number; total?: number };
}

/** Consumes a pull stream, reporting progress; rejects on an `error` line, a broken stream or an abort. */
function followPull(
  image: string,
  stream: NodeJS.ReadableStream,
  onProgress: ((p: PullProgress) => void) | undefined,
  signal: AbortSignal | undefined,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const lines = new LineSplitter();
    let failed: NodeletError | undefined;
    const handle = (line: string): void => {
      let j: PullLine;
      try {
        j = JSON.parse(line) as PullLine;
      } catch {
        return;
      }
      if (j.error !== undefined) failed ??= pullFailed(image, j.errorDetail?.message ?? j.error);
      else if (j.status !== undefined && onProgress !== undefined) {
        const p: PullProgress = { status: j.status };
        if (j.id !== undefined) p.id = j.id;
        if (j.progressDetail?.current !== undefined) p.current = j.progressDetail.current;
        if (j.progressDetail?.total !== undefined) p.total = j.progressDetail.total;
        onProgress(p);
      }
    };
    const onAbort = (): void => {
      (stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
      reject(new NodeletError('CANCELLED', `pull of ${image} cancelled`, { cause: signal?.reason }));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    stream.on('data', (c: Buffer) => lines.push(c).forEach(handle));
    stream.on('error', (err: unknown) => reject(pullFailed(image, engineMessage(err), err)));
    stream.on('end', () => {
      signal?.removeEventListener('abort', onAbort);
      lines.flush().forEach(handle);
      if (failed !== undefined) reject(failed);
      else resolve();
    });
  });
}

/** Pulls `image` and returns its ID; every failure is IMAGE_PULL_FAILED (or CANCELLED on abort). */
export async function pullImage(docker: Docker, image: string, options: PullOptions, socketPath: string): Promise<string> {
  const ref = normalizeImageRef(image);
  let stream: NodeJS.ReadableStream;
  try {
    const opts: Record<string, unknown> = {};
    if (options.auth !== undefined) opts['authconfig'] = dockerAuth(options.auth);
    if (options.signal !== undefined) opts['abortSignal'] = options.signal;
    stream = (await docker.pull(ref, opts)) as NodeJS.ReadableStream;
  } catch (err) {
    const mapped = mapDockerError(err, { op: 'pull', object: `image ${image}` }, socketPath);
    if (mapped.code === 'RUNTIME_UNAVAILABLE') throw mapped;
    throw pullFailed(image, engineMessage(err), err);
  }
  await followPull(image, stream, options.onProgress, options.signal);
  const st = await imageStatus(docker, ref, socketPath);
  if (st === null) throw pullFailed(image, 'the engine reported success but the image is not present');
  return st.id;
}

function toImage(info: Docker.ImageInspectInfo): Image {
  const cfg = info.Config as (Docker.ImageInspectInfo['Config'] & { StopSignal?: string }) | undefined;
  return {
    id: info.Id,
    repoTags: info.RepoTags ?? [],
    repoDigests: info.RepoDigests ?? [],
    size: info.Size,
    user: cfg?.User ?? '',
    stopSignal: cfg?.StopSignal ?? '',
  };
}

/** The image, or null when it is not present. */
export async function imageStatus(docker: Docker, image: string, socketPath: string): Promise<Image | null> {
  try {
    return toImage(await docker.getImage(image).inspect());
  } catch (err) {
    if (engineStatus(err) === 404) return null;
    throw mapDockerError(err, { op: 'inspect', object: `image ${image}` }, socketPath);
  }
}

/** All local images (inspected, so user and stop signal are filled). */
export async function listImages(docker: Docker, socketPath: string): Promise<Image[]> {
  let infos: Docker.ImageInfo[];
  try {
    infos = await docker.listImages();
  } catch (err) {
    throw mapDockerError(err, { op: 'list', object: 'images' }, socketPath);
  }
  const out = await Promise.all(infos.map((i) => imageStatus(docker, i.Id, socketPath)));
  return out.filter((i): i is Image => i !== null);
}

/** Docker's data root (where image layers live) and the bytes its images use. */
export async function imageFsInfo(docker: Docker, socketPath: string): Promise<ImageFsInfo> {
  try {
    const [info, list] = await Promise.all([docker.info() as Promise<{ DockerRootDir?: string }>, docker.listImages()]);
    return { mountpoint: info.DockerRootDir ?? '/var/lib/docker', usedBytes: list.reduce((n, i) => n + (i.Size ?? 0), 0) };
  } catch (err) {
    throw mapDockerError(err, { op: 'info', object: 'image filesystem' }, socketPath);
  }
}

/** Removes an image reference (idempotent). Removing by ID removes all its tags. */
export async function removeImage(docker: Docker, image: string, socketPath: string): Promise<void> {
  const byId = /^(sha256:)?[0-9a-f]{12,64}$/.test(image);
  try {
    await docker.getImage(image).remove({ force: byId });
  } catch (err) {
    if (engineStatus(err) === 404) return;
    throw mapDockerError(err, { op: 'remove', object: `image ${image}` }, socketPath);
  }
}
