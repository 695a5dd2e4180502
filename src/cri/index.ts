export * from './types.js';
export { PAUSE_IMAGE, TESTBOX_IMAGE } from './images.js';
export { normalizeImageRef, matchesLabels, resolveArgv } from './refs.js';
export type { ResolvedArgv } from './refs.js';
export { FakeRuntime, FAKE_DEFAULT_IMAGES } from './fake/index.js';
export type { FakeRuntimeOptions, FakeExecHandler, RecordedCall, RuntimeMethod, FakeImageSpec } from './fake/index.js';
export { DockerRuntime, DOCKER_LABELS } from './docker/index.js';
export type { DockerRuntimeOptions } from './docker/index.js';
