/**
 * The one error hierarchy of nodelet. Every error carries a stable `code` (never parse messages) and an optional
 * `cause`. Classify errors with the predicates at the bottom of this file, never with `instanceof` chains or text.
 */

/** Stable error codes. Add new codes here; never rename an existing one (logs and tests key on them). */
export type ErrorCode =
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'CONFLICT'
  | 'INVALID'
  | 'IMAGE_NOT_FOUND'
  | 'IMAGE_PULL_FAILED'
  | 'RUNTIME_UNAVAILABLE'
  | 'RUNTIME_ERROR'
  | 'TIMEOUT'
  | 'CANCELLED'
  | 'API_ERROR'
  | 'CONFIG_INVALID'
  | 'MANIFEST_INVALID'
  | 'CREATE_CONTAINER_CONFIG'
  | 'MOUNT_FAILED'
  | 'IPTABLES_FAILED'
  | 'NFTABLES_FAILED'
  | 'NFTABLES_UNSUPPORTED'
  | 'SYSCTL_FAILED'
  | 'NETWORK_PLUGIN_FAILED'
  | 'IMAGE_GC_FAILED'
  | 'CONTAINER_GC_FAILED'
  | 'CGROUP_FAILED'
  | 'CHECKPOINT_FAILED'
  | 'RESIZE_FAILED'
  | 'CERTIFICATE_UNREADABLE'
  | 'CERTIFICATE_INVALID'
  | 'SHUTDOWN_INHIBIT_FAILED'
  | 'INTERNAL';

/** Options accepted by every nodelet error. */
export interface NodeletErrorOptions {
  cause?: unknown;
  /** Dotted path of the offending field in the object or config, e.g. `spec.containers[0].image`. */
  field?: string;
  /** Human name of the object the error is about, e.g. `pod default/web` or `file /etc/kubernetes/manifests/x.yaml`. */
  object?: string;
}

/** Base class: a message, a stable code, and optional field/object/cause. */
export class NodeletError extends Error {
  readonly code: ErrorCode;
  readonly field: string | undefined;
  readonly object: string | undefined;

  constructor(code: ErrorCode, message: string, options: NodeletErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.field = options.field;
    this.object = options.object;
  }
}

/** The thing asked for does not exist (container, sandbox, image, API object). */
export class NotFoundError extends NodeletError {
  constructor(message: string, options?: NodeletErrorOptions) {
    super('NOT_FOUND', message, options);
  }
}

/** The thing to be created exists already. */
export class AlreadyExistsError extends NodeletError {
  constructor(message: string, options?: NodeletErrorOptions) {
    super('ALREADY_EXISTS', message, options);
  }
}

/** An optimistic-concurrency conflict (stale resourceVersion, uid precondition). */
export class ConflictError extends NodeletError {
  constructor(message: string, options?: NodeletErrorOptions) {
    super('CONFLICT', message, options);
  }
}

/** Input (manifest, API object, config, flag) is invalid; `field` names what is wrong. */
export class InvalidError extends NodeletError {
  constructor(message: string, options?: NodeletErrorOptions) {
    super('INVALID', message, options);
  }
}

/** The container runtime cannot be reached or is not ready. */
export class RuntimeUnavailableError extends NodeletError {
  constructor(message: string, options?: NodeletErrorOptions) {
    super('RUNTIME_UNAVAILABLE', message, options);
  }
}

/** The image is not present locally (and was not pulled). */
export class ImageNotFoundError extends NodeletError {
  constructor(message: string, options?: NodeletErrorOptions) {
    super('IMAGE_NOT_FOUND', message, options);
  }
}

/** An operation did not finish within its deadline. */
export class TimeoutError extends NodeletError {
  constructor(message: string, options?: NodeletErrorOptions) {
    super('TIMEOUT', message, options);
  }
}

/** Configuration (flags or config file) is invalid; raised before anything starts. */
export class ConfigError extends NodeletError {
  constructor(message: string, options?: NodeletErrorOptions) {
    super('CONFIG_INVALID', message, options);
  }
}

/** True when `err` is a nodelet error with the given code. */
export function hasCode(err: unknown, code: ErrorCode): err is NodeletError {
  return err instanceof NodeletError && err.code === code;
}

/** True when the object asked for does not exist. */
export const isNotFound = (err: unknown): boolean => hasCode(err, 'NOT_FOUND') || hasCode(err, 'IMAGE_NOT_FOUND');
/** True for optimistic-concurrency conflicts. */
export const isConflict = (err: unknown): boolean => hasCode(err, 'CONFLICT');
/** True when the object exists already. */
export const isAlreadyExists = (err: unknown): boolean => hasCode(err, 'ALREADY_EXISTS');
/** True when the runtime is down or unreachable. */
export const isRuntimeUnavailable = (err: unknown): boolean => hasCode(err, 'RUNTIME_UNAVAILABLE');
/** True when a deadline passed. */
export const isTimeout = (err: unknown): boolean => hasCode(err, 'TIMEOUT');

/** Best-effort message of anything thrown. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** Log fields of anything thrown. */
export interface ErrorLogFields {
  /** The message. */
  err: string;
  /** The stable code (NodeletError), a Node system error code (`ENOENT`), or `INTERNAL`. */
  code: string;
  field?: string;
  object?: string;
  /** Message of the cause, when there is one. */
  cause?: string;
}

/**
 * The fields to log an error with (`logger.error({ ...errorFields(err) }, 'sentence')`), so log queries can match on
 * its stable code, the offending field and the cause.
 */
export function errorFields(err: unknown): ErrorLogFields {
  const out: ErrorLogFields = { err: errorMessage(err), code: 'INTERNAL' };
  if (err instanceof NodeletError) {
    out.code = err.code;
    if (err.field !== undefined) out.field = err.field;
    if (err.object !== undefined) out.object = err.object;
  } else if (typeof (err as { code?: unknown } | null)?.code === 'string') {
    out.code = (err as { code: string }).code;
  }
  const cause = err instanceof Error ? err.cause : undefined;
  if (cause !== undefined) out.cause = errorMessage(cause);
  return out;
}
