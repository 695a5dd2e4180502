import type { CachedAttachment } from './cache.js';
import type { CniResult, NetworkConfigList, RuntimeConf } from './types.js';

/**
 * The CNI invoker (libcni's CNIConfig): runs a configuration list's plugins for one container and keeps the result
 * cache. Implementations: {@link ExecCniPlugin} (the plugin binaries) and `FakeCniPlugin`; both pass the contract in
 * cni-contract.ts.
 *
 * Contract:
 * - `add` runs the plugins in order, each with the previous result, and caches the final result; on a plugin error
 *   it throws CniError('plugin-error') and caches nothing (the caller runs `del` to release what was allocated).
 * - `del` runs the plugins in reverse order with the cached result (if any) and removes the cache entry. It is
 *   idempotent: deleting an unknown container, or with netns '' (namespace gone), succeeds.
 * - `check` needs spec 0.4.0+ and a cached result (else CniError('no-cached-result')); a list with
 *   `disableCheck` passes without running anything.
 * - Calls for different containers may run concurrently; callers serialize calls for one container.
 */
export interface CniPlugin {
  add(list: NetworkConfigList, rt: RuntimeConf): Promise<CniResult>;
  del(list: NetworkConfigList, rt: RuntimeConf): Promise<void>;
  check(list: NetworkConfigList, rt: RuntimeConf): Promise<void>;
  /** The cached attachment of a container on a network, if any. */
  cached(networkName: string, containerId: string, ifName: string): Promise<CachedAttachment | undefined>;
  /** Every cached attachment, or those of one container (for teardown after a restart and garbage collection). */
  listCached(containerId?: string): Promise<CachedAttachment[]>;
  /** Throws CniError('plugin-not-found') naming the first plugin type of the list with no binary. */
  validate(list: NetworkConfigList): Promise<void>;
}
