/**
 * Patch options for @kubernetes/client-node's generated APIs (tests and tools). Deliberately not exported from
 * src/api/index.ts: importing a value from client-node would put that library (about 50 MB of memory) into the agent.
 */
import { setHeaderOptions, type ConfigurationOptions, type ObservableMiddleware } from '@kubernetes/client-node';
import { PATCH_CONTENT_TYPE, type PatchType } from './patch.js';

/**
 * client-node request options that make a generated API's patch call send `type`'s Content-Type, e.g.
 * `coreApi.patchNamespacedPodStatus({ name, namespace, body }, patchOptions('strategic'))`.
 */
export function patchOptions(type: PatchType): ConfigurationOptions<ObservableMiddleware> {
  return setHeaderOptions('Content-Type', PATCH_CONTENT_TYPE[type]);
}
