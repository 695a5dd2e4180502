/**
 * The v1.33 Pod field table (what nodelet supports, refuses at admission, or does not know) and its uses: admission
 * rejections, static-pod schema problems, docs/pod-fields.md.
 */
export { POD_FIELDS, type PodField, type Support } from './table.js';
export { newerFields, rejectedFields, valuesAt, type FieldRejection } from './check.js';
export { renderPodFieldsMarkdown } from './render.js';
