/** The test Kubernetes API server: start it, point clients at its kubeconfig, inject faults. */
export { startTestApiServer, type TestApiServer, type TestApiServerOptions } from './server.js';
export { Faults, type FailOptions, type DelayOptions, type FaultMatch } from './faults.js';
export { Store, type StoreEvent } from './store.js';
export type { ReviewHooks } from './handlers/special.js';
export { renderKubeconfig, type KubeconfigParams } from './kubeconfig.js';
export { seenClientCertSerials } from './certificates/auth.js';
export { parseCsr } from './certificates/signer.js';
