/**
 * The only place that knows which real implementations exist: the runtime backend, the pod lifecycle, the proxy.
 */
import type { NodeletConfig } from '../config/index.js';
import { DockerRuntime } from '../cri/docker/index.js';
import type { Logger } from '../util/logger.js';
import type { RoleFactories } from './daemon.js';
import { socketPath } from './endpoint.js';

/** The factories used by the real daemon. */
export const wiring: RoleFactories = {
  createRuntime(config, logger) {
    return new DockerRuntime({
      socketPath: socketPath(config.kubelet.containerRuntimeEndpoint),
      logMaxSize: `${Math.max(1, Math.floor(config.kubelet.containerLogMaxSizeBytes / 2 ** 20))}m`,
      logMaxFiles: config.kubelet.containerLogMaxFiles,
      logger,
    });
  },
};

/** `--cleanup`: removes the proxy's rules and exits. Returns the exit code. */
export function runCleanup(_config: NodeletConfig, logger: Logger): Promise<number> {
  logger.error('--cleanup: the proxy role is not available in this build');
  return Promise.resolve(1);
}
