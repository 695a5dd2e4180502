export { CriRuntime } from './cri-runtime.js';
export type { CriRuntimeOptions } from './cri-runtime.js';
export { probeCri } from './probe.js';
