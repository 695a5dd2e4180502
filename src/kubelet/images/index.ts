export { ImageManager, type ImageManagerOptions } from './manager.js';
export { effectivePullPolicy, registryHost, isValidImageRef, goDurationMs, type PullPolicy } from './policy.js';
export { authsFromSecret, credentialsFor } from './secrets.js';
