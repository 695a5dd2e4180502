export { FakeRuntime, FAKE_DEFAULT_IMAGES } from './fake-runtime.js';
export type { FakeRuntimeOptions, FakeExecHandler, RecordedCall, RuntimeMethod } from './fake-runtime.js';
export type { FakeImageSpec } from './images.js';
