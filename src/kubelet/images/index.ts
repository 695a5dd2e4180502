export { ImageManager, type ImageManagerOptions } from './manager.js';
export { effectivePullPolicy, registryHost, isValidImageRef, goDurationMs, type PullPolicy } from './policy.js';
export { authsFromSecret, credentialsFor } from './secrets.js';
export { ImageGcManager, ImageGcError, type ImageGcOptions, type ImageGcResult, type FsStatsReader } from './gc.js';
export { planImageGc, detectImages, evictionOrder, type ImageGcPolicy, type ImageRecord, type FsUsage } from './gc-policy.js';
export { statfsUsage } from './fs-stats.js';
