/**
 * The container log link cri-dockerd keeps (its createContainerLogSymlink / removeContainerLogSymlink): the CRI log
 * path the kubelet chose (`<podLogsDir>/<ns>_<pod>_<uid>/<container>/<attempt>.log`, kept in the container's
 * `io.kubernetes.container.logpath` label) is a symbolic link to the engine's json-file log, so tools reading
 * /var/log/pods, the eviction manager's log usage and the pod log directory cleanup see Docker containers as they
 * see CRI runtimes' ones. Never throws: a link that cannot be made is logged (cri-dockerd reports it, the container
 * keeps running either way).
 */
import { mkdir, readlink, symlink, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { errorMessage, type Logger } from '../../util/index.js';

/** Makes `path` a link to `target` (replacing a stale link or file there). */
export async function createLogLink(path: string, target: string, log: Logger): Promise<void> {
  if (path === '' || target === '') return;
  try {
    if ((await readlink(path).catch(() => undefined)) === target) return;
    await mkdir(dirname(path), { recursive: true, mode: 0o755 });
    await unlink(path).catch(() => undefined);
    await symlink(target, path);
  } catch (err) {
    log.warn({ code: 'RUNTIME_ERROR', path, target, err: errorMessage(err) }, 'failed to create the container log link');
  }
}

/** Removes the link at `path` (nothing there is fine). */
export async function removeLogLink(path: string, log: Logger): Promise<void> {
  if (path === '') return;
  try {
    await unlink(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      log.warn({ code: 'RUNTIME_ERROR', path, err: errorMessage(err) }, 'failed to remove the container log link');
    }
  }
}
