/**
 * The pod environment: volumes, env, DNS, /etc/hosts, resources and security for the pod workers.
 * Public surface: the PodEnvironment seam, its factory and options, and the pure helpers other areas use.
 */
import { NodePodEnvironment } from './environment.js';
import type { PodEnvironmentOptions } from './options.js';
import type { PodEnvironment } from './types.js';

export * from './types.js';
export type { PodEnvironmentOptions } from './options.js';
export { NodePodEnvironment } from './environment.js';
export { qosClass, type QOSClass } from '../security/qos.js';
export { podFullName } from '../../util/pod-names.js';
export { isStaticPod } from '../env/sources.js';
// eslint-disable-next-line no-restricted-imports -- the area's public surface: src/cli builds the HostMounter from here.
export { FakeMounter, HostMounter, type Mounter } from '../volumes/mounter.js';

/**
 * Builds the node's pod environment. Throws ConfigError for an invalid option (relative rootDir, empty
 * podInfraImage). The instance is safe for concurrent use by different pods; calls for one pod must be serialized
 * (the pod worker does).
 */
export function createPodEnvironment(options: PodEnvironmentOptions): PodEnvironment {
  return new NodePodEnvironment(options);
}
