import type { ApiClient } from './client.js';

/** Patch flavours and the Content-Type each needs (client-node defaults to JSON Patch, which fails with a merge body). */
export const PATCH_CONTENT_TYPE = {
  strategic: 'application/strategic-merge-patch+json',
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
  apply: 'application/apply-patch+yaml',
} as const;

/** A patch flavour. */
export type PatchType = keyof typeof PATCH_CONTENT_TYPE;

/** One RFC 6902 operation. */
export interface JsonPatchOp {
  op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  path: string;
  value?: unknown;
  from?: string;
}

/** Options of {@link patchObject}. */
export interface PatchOptions {
  /** `status` to patch the status subresource. */
  subresource?: string;
  /** Field manager name (default `nodelet`; required by server-side apply). */
  fieldManager?: string;
  /** Server-side apply only: take ownership of conflicting fields. */
  force?: boolean;
  signal?: AbortSignal;
}

/**
 * PATCHes the object at `path` (e.g. `/api/v1/namespaces/ns/pods/name`) with the right Content-Type for `type`.
 * JSON patches must be an array of operations; the others an object. Returns the updated object; throws
 * ApiStatusError (isNotFound / isConflict / INVALID) on failure.
 */
export async function patchObject<T = unknown>(client: ApiClient, path: string, type: PatchType, patch: object, opts: PatchOptions = {}): Promise<T> {
  if (type === 'json' && !Array.isArray(patch)) throw new TypeError('a JSON patch must be an array of operations');
  if (type !== 'json' && Array.isArray(patch)) throw new TypeError(`a ${type} patch must be an object`);
  return client.request<T>({
    method: 'PATCH',
    path: opts.subresource ? `${path}/${opts.subresource}` : path,
    query: { fieldManager: opts.fieldManager ?? 'nodelet', force: type === 'apply' && opts.force ? true : undefined },
    body: type === 'apply' ? JSON.stringify(patch) : patch,
    contentType: PATCH_CONTENT_TYPE[type],
    signal: opts.signal,
  });
}

/** Strategic-merge patch of the status subresource (how the kubelet writes pod and node status). */
export function patchStatus<T = unknown>(client: ApiClient, path: string, status: object, opts: Omit<PatchOptions, 'subresource'> = {}): Promise<T> {
  return patchObject<T>(client, path, 'strategic', { status }, { ...opts, subresource: 'status' });
}
