/**
 * The legacy container log links of upstream's kubelet (kuberuntime_container.go legacyLogSymlink, kuberuntime_gc.go):
 * `/var/log/containers/<pod>_<namespace>_<container>-<containerID>.log` → the container's CRI log file, made when a
 * container starts, for the cluster log collectors that read /var/log/containers (fluentd, fluent-bit, …). A link
 * whose file is gone is removed by the container GC unless its container still runs. Only `*.log` symbolic links
 * in the directory are ever removed.
 */
import { lstat, mkdir, readdir, stat, symlink, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { errorMessage } from '../../util/errors.js';
import type { Logger } from '../../util/logger.js';

/** Upstream's directory (not configurable upstream). */
export const LEGACY_CONTAINER_LOGS_DIR = '/var/log/containers';

/** ext4's longest file name (upstream ext4MaxFileNameLen). */
const MAX_NAME = 255;
const SUFFIX = '.log';

/** The link's path for a container (upstream logSymlink: `<pod>_<ns>_<container>-<id>` cut to 251 bytes + `.log`). Pure. */
export function legacyLogLinkPath(dir: string, podName: string, podNamespace: string, containerName: string, containerId: string): string {
  let name = `${podName}_${podNamespace}_${containerName}-${containerId}`;
  if (Buffer.byteLength(name) > MAX_NAME - SUFFIX.length) name = Buffer.from(name).subarray(0, MAX_NAME - SUFFIX.length).toString();
  return join(dir, `${name}${SUFFIX}`);
}

/** The container ID a link's name ends with (upstream getContainerIDFromLegacyLogSymlink), or undefined. Pure. */
export function containerIdOfLegacyLink(name: string): string | undefined {
  if (!name.endsWith(SUFFIX)) return undefined;
  const id = name.slice(0, -SUFFIX.length).split('-').at(-1) ?? '';
  return id === '' || name.split('-').length < 2 ? undefined : id;
}

/** What the cleanup asks the runtime: the container's state, or undefined when it is not known (not found, error). */
export type ContainerStateOf = (id: string) => Promise<'running' | 'created' | 'exited' | 'unknown' | undefined>;

/** See module comment. `dir` defaults to {@link LEGACY_CONTAINER_LOGS_DIR}. */
export class LegacyLogLinks {
  readonly #dir: string;
  readonly #log: Logger;

  constructor(o: { dir?: string; logger: Logger }) {
    this.#dir = o.dir ?? LEGACY_CONTAINER_LOGS_DIR;
    this.#log = o.logger;
  }

  /**
   * Links the container's log file (`target`) under the directory. Nothing is made when the file does not exist (a
   * link to nothing would only be removed again, as upstream says); a failure is logged, never thrown.
   */
  async link(c: { podName: string; podNamespace: string; containerName: string; containerId: string }, target: string): Promise<void> {
    if (target === '') return;
    const path = legacyLogLinkPath(this.#dir, c.podName, c.podNamespace, c.containerName, c.containerId);
    try {
      await stat(target);
    } catch {
      return;
    }
    try {
      await mkdir(this.#dir, { recursive: true, mode: 0o755 });
      await unlink(path).catch(() => undefined);
      await symlink(target, path);
    } catch (err) {
      this.#log.warn({ code: 'RUNTIME_ERROR', path, target, err: errorMessage(err) }, 'failed to create the legacy container log link');
    }
  }

  /** Removes links whose file is gone, unless their container is known and not exited. Returns how many. */
  async removeDangling(stateOf: ContainerStateOf): Promise<number> {
    let removed = 0;
    for (const name of await readdir(this.#dir).catch(() => [] as string[])) {
      const id = containerIdOfLegacyLink(name);
      if (id === undefined) continue;
      const path = join(this.#dir, name);
      const st = await lstat(path).catch(() => undefined);
      if (st?.isSymbolicLink() !== true) continue;
      if (await stat(path).then(() => true, () => false)) continue;
      const state = await stateOf(id).catch(() => undefined);
      if (state !== undefined && state !== 'exited') continue;
      try {
        await unlink(path);
        removed++;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.#log.warn({ code: 'RUNTIME_ERROR', path, err: errorMessage(err) }, 'failed to remove a dangling legacy log link');
      }
    }
    return removed;
  }
}
