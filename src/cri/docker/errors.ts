import {
  AlreadyExistsError,
  ImageNotFoundError,
  NodeletError,
  NotFoundError,
  RuntimeUnavailableError,
} from '../../util/index.js';

/** What was being done when the engine failed, for the message and for the 404/409 meaning. */
export interface DockerErrorContext {
  /** The verb, e.g. `create`, `inspect`, `exec in`. */
  op: string;
  /** The object's human name, e.g. `container 3f2a…` or `image localhost/x:1`. */
  object: string;
  /** Whether a 409 means "name already in use" (create calls). */
  createCall?: boolean;
}

const CONNECT_CODES = new Set(['ECONNREFUSED', 'ENOENT', 'EACCES', 'ECONNRESET', 'EPIPE', 'ENOTSOCK', 'EHOSTUNREACH']);

interface EngineErrorShape {
  statusCode?: number;
  code?: string;
  json?: { message?: string } | null;
  message?: string;
}

function shape(err: unknown): EngineErrorShape {
  return typeof err === 'object' && err !== null ? (err as EngineErrorShape) : { message: String(err) };
}

/** The engine's own message (from the JSON body when there is one). */
export function engineMessage(err: unknown): string {
  const e = shape(err);
  return (e.json?.message ?? e.message ?? String(err)).trim();
}

/** HTTP status of a dockerode error (undefined for socket errors). */
export function engineStatus(err: unknown): number | undefined {
  return shape(err).statusCode;
}

/** True when the error means the Docker socket cannot be reached. */
export function isConnectError(err: unknown): boolean {
  const code = shape(err).code;
  return code !== undefined && CONNECT_CODES.has(code);
}

/**
 * Maps a dockerode/engine error to the nodelet error hierarchy: socket errors → RuntimeUnavailableError,
 * 404 → NotFoundError (ImageNotFoundError when the engine says the image is missing), 409 on create →
 * AlreadyExistsError, anything else → RUNTIME_ERROR. The original error is kept as `cause`.
 */
export function mapDockerError(err: unknown, ctx: DockerErrorContext, socketPath: string): NodeletError {
  if (err instanceof NodeletError) return err;
  const msg = engineMessage(err);
  const opts = { cause: err, object: ctx.object };
  if (isConnectError(err)) {
    return new RuntimeUnavailableError(`cannot connect to the Docker daemon at unix://${socketPath}: ${msg}`, opts);
  }
  const status = engineStatus(err);
  if (status === 404) {
    if (/no such image/i.test(msg)) return new ImageNotFoundError(`${ctx.op} ${ctx.object}: ${msg}`, opts);
    return new NotFoundError(`${ctx.op} ${ctx.object}: not found: ${msg}`, opts);
  }
  if (status === 409 && ctx.createCall === true) return new AlreadyExistsError(`${ctx.op} ${ctx.object}: ${msg}`, opts);
  return new NodeletError('RUNTIME_ERROR', `${ctx.op} ${ctx.object} failed: ${msg}`, opts);
}
