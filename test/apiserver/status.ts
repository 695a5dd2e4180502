import type { JsonObject } from './json.js';

/** One cause of an Invalid error (`details.causes[]`). */
export interface StatusCause {
  reason: string;
  message: string;
  field: string;
}

/** A Kubernetes Status failure thrown inside handlers and rendered as the response body. */
export class ApiError extends Error {
  readonly code: number;
  readonly reason: string;
  readonly details: JsonObject | undefined;

  constructor(code: number, reason: string, message: string, details?: JsonObject) {
    super(message);
    this.code = code;
    this.reason = reason;
    this.details = details;
  }

  /** The `Status` object as a real API server sends it. */
  toStatus(): JsonObject {
    const s: JsonObject = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
    };
    if (this.details !== undefined) s.details = this.details;
    s.code = this.code;
    return s;
  }
}

const details = (name: string, kind: string, group: string): JsonObject =>
  group ? { name, group, kind } : { name, kind };

/** 404 `<plural> "<name>" not found` (10-get-missing-pod.txt). */
export const notFound = (plural: string, name: string, group = ''): ApiError =>
  new ApiError(404, 'NotFound', `${group ? `${plural}.${group}` : plural} "${name}" not found`, details(name, plural, group));

/** 409 AlreadyExists (08-create-pod-again-conflict.txt). */
export const alreadyExists = (plural: string, name: string, group = ''): ApiError =>
  new ApiError(409, 'AlreadyExists', `${group ? `${plural}.${group}` : plural} "${name}" already exists`, details(name, plural, group));

/** 409 Conflict on a stale resourceVersion (21-update-stale-resourceversion.txt). */
export const conflict = (plural: string, name: string, group = '', why?: string): ApiError =>
  new ApiError(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${group ? `${plural}.${group}` : plural} "${name}": ${
      why ?? 'the object has been modified; please apply your changes to the latest version and try again'
    }`,
    details(name, plural, group),
  );

/** 422 Invalid with causes (22-create-invalid-pod.txt). */
export function invalid(kind: string, name: string, causes: StatusCause[], group = ''): ApiError {
  const parts = causes.map((c) => `${c.field}: ${c.message}`);
  const list = parts.length === 1 ? parts[0] : `[${parts.join(', ')}]`;
  const d: JsonObject = group ? { name, group, kind } : { name, kind };
  d.causes = causes.map((c) => ({ reason: c.reason, message: c.message, field: c.field }));
  return new ApiError(422, 'Invalid', `${kind}${group ? `.${group}` : ''} "${name}" is invalid: ${list}`, d);
}

/** 400 BadRequest. */
export const badRequest = (message: string): ApiError => new ApiError(400, 'BadRequest', message);

/** 410 Expired for a watch from a compacted resourceVersion (25-watch-too-old-resourceversion.txt). */
export const gone = (rv: string, oldest: number): ApiError =>
  new ApiError(410, 'Expired', `too old resource version: ${rv} (${oldest})`);

/** 405 MethodNotAllowed. */
export const methodNotAllowed = (): ApiError =>
  new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');

/** 415 UnsupportedMediaType. */
export const unsupportedMediaType = (ct: string): ApiError =>
  new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json (got ${ct})`);

/** 403 Forbidden. */
export const forbidden = (plural: string, name: string, why: string): ApiError =>
  new ApiError(403, 'Forbidden', `${plural} "${name}" is forbidden: ${why}`, { name, kind: plural });

/** 401 Unauthorized. */
export const unauthorized = (): ApiError => new ApiError(401, 'Unauthorized', 'Unauthorized');

/** 500 InternalError (also used by fault injection). */
export const internalError = (message: string): ApiError =>
  new ApiError(500, 'InternalError', `Internal error occurred: ${message}`, { causes: [{ message }] });

/** A 422 cause for a required field. */
export const required = (field: string): StatusCause => ({ reason: 'FieldValueRequired', message: 'Required value', field });

/** A 422 cause for an invalid value; `value` is rendered Go-style (strings quoted). */
export function invalidValue(field: string, value: unknown, why: string): StatusCause {
  const v = typeof value === 'string' ? JSON.stringify(value) : String(value);
  return { reason: 'FieldValueInvalid', message: `Invalid value: ${v}: ${why}`, field };
}
