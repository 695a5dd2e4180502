export * from './types.js';
export * from './nodes.js';
export * from './leases.js';
export * from './pods.js';
export * from './events.js';
export { loadKubeConfig } from './kubeconfig.js';
export { ApiClient, ApiStatusError, isGone, isRetryable, type ApiRequest as ApiClientRequest, type ApiStatus, type ApiTransport } from './client.js';
export { createInformer, type InformerDeps } from './informer.js';
export { patchObject, patchStatus, patchOptions, PATCH_CONTENT_TYPE, type PatchType, type PatchOptions, type JsonPatchOp } from './patch.js';
