export { ApiSource, podInformerOptions } from './api.js';
export { FileSource, type FileSourceOptions } from './file.js';
export { HttpSource, type HttpSourceOptions } from './http.js';
export {
  CONFIG_ANNOTATIONS,
  ManifestError,
  applyPodDefaults,
  applyStaticIdentity,
  isMirrorPod,
  isStaticPod,
  parsePodObjects,
  staticPodsFromText,
  type StaticSource,
} from './static-pod.js';
export { validatePodObject, schemaProblems, semanticProblems, type FieldProblem } from './validate.js';
export type { PodSetListener, PodSource, SourceName } from './types.js';
