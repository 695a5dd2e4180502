export { FakeRuntime } from './fake-runtime.js';
export { FAKE_DEFAULT_IMAGES } from './options.js';
export type { FakeRuntimeOptions, FakeExecHandler, RecordedCall, RuntimeMethod } from './options.js';
export type { FakeImageSpec } from './images.js';
export type { FakePortHandler } from './streaming.js';
