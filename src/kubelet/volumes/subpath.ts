/**
 * subPath mounts that cannot escape their volume (upstream pkg/volume/util/subpath): the path is resolved, checked
 * to stay inside the volume's real path, opened without following a final symlink, checked again through
 * /proc/self/fd (so a swap after the check is caught), and bind-mounted from that open descriptor to
 * `<pod>/volume-subpaths/<volume>/<container>/<index>`. The container gets the bind mount, never the user path.
 * An existing bind mount is kept (a configMap subPath keeps its content until the pod is recreated, as upstream).
 */
import { constants } from 'node:fs';
import { lstat, mkdir, open, readlink, realpath, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { NodeletError } from '../../util/errors.js';
import { isWithin } from './fs-safe.js';
import type { Mounter } from './mounter.js';

/** Where a subPath bind mount lives for one container mount. */
export interface SubPathRequest {
  volumePath: string;
  subPath: string;
  podDir: string;
  volumeName: string;
  containerName: string;
  /** Index of the mount in the container's volumeMounts. */
  index: number;
}

function configError(message: string): NodeletError {
  return new NodeletError('CREATE_CONTAINER_CONFIG', message);
}

/** Rejects absolute subPaths and `..` elements (upstream messages). */
export function validateSubPath(subPath: string): void {
  if (path.isAbsolute(subPath)) throw configError(`error SubPath \`${subPath}\` must not be an absolute path`);
  if (subPath.split('/').includes('..')) {
    throw configError(`unable to provision SubPath \`${subPath}\`: must not contain '..'`);
  }
}

/**
 * Resolves `subPath` inside `volumePath` to a real path, creating missing directories one by one without ever
 * following a symlink out of the volume. Throws CREATE_CONTAINER_CONFIG when the path escapes the volume.
 */
export async function resolveSubPath(volumePath: string, subPath: string, what: string): Promise<string> {
  validateSubPath(subPath);
  const root = await realpath(volumePath);
  let cur = root;
  const parts = subPath.split('/').filter((p) => p !== '' && p !== '.');
  for (const part of parts) {
    const next = path.join(cur, part);
    let exists = true;
    try {
      await lstat(next);
    } catch {
      exists = false;
    }
    if (!exists) {
      const mode = (await lstat(cur)).mode & 0o7777;
      await mkdir(next, { mode });
      cur = next;
      continue;
    }
    let real: string;
    try {
      real = await realpath(next);
    } catch (err) {
      throw new NodeletError('CREATE_CONTAINER_CONFIG', `${what}: subPath "${subPath}" cannot be resolved`, { cause: err });
    }
    if (!isWithin(root, real)) throw configError(`${what}: subPath "${subPath}" resolves outside the volume`);
    cur = real;
  }
  return cur;
}

/**
 * Bind-mounts the subPath and returns the host path the container should mount. Throws CREATE_CONTAINER_CONFIG
 * (upstream "failed to prepare subPath for volumeMount …") when it escapes the volume or cannot be pinned.
 */
export async function prepareSubPath(req: SubPathRequest, mounter: Mounter): Promise<string> {
  const what = `failed to prepare subPath for volumeMount "${req.volumeName}" of container "${req.containerName}"`;
  const target = path.join(req.podDir, 'volume-subpaths', req.volumeName, req.containerName, String(req.index));
  if ((await mounter.mountsUnder(target)).includes(target)) return target;
  const real = await resolveSubPath(req.volumePath, req.subPath, what);
  const root = await realpath(req.volumePath);
  let fh;
  try {
    fh = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    throw new NodeletError('CREATE_CONTAINER_CONFIG', `${what}: cannot open subPath "${req.subPath}"`, { cause: err });
  }
  try {
    const pinned = await readlink(`/proc/self/fd/${fh.fd}`);
    if (!isWithin(root, pinned)) throw configError(`${what}: subPath "${req.subPath}" resolves outside the volume`);
    const isDir = (await fh.stat()).isDirectory();
    await mkdir(path.dirname(target), { recursive: true, mode: 0o750 });
    if (isDir) await mkdir(target, { recursive: true });
    else await writeFile(target, '', { flag: 'a' });
    await mounter.bind(`/proc/${process.pid}/fd/${fh.fd}`, target);
  } finally {
    await fh.close();
  }
  return target;
}
