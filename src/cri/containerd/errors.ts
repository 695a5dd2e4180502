/**
 * Maps gRPC failures of a CRI runtime onto nodelet's error hierarchy (src/util/errors.ts), keeping the original error
 * as `cause`. Classification is by gRPC status code; the one exception is containerd 1.6 reporting a name that is
 * already reserved (a duplicate sandbox/container) as UNKNOWN, which is recognised by its fixed wording.
 */
import {
  AlreadyExistsError,
  NodeletError,
  NotFoundError,
  RuntimeUnavailableError,
  TimeoutError,
} from '../../util/index.js';
import { GrpcStatus as Status } from '../../grpc/index.js';

/** What was being done, for the message: e.g. `{ op: 'start', object: 'container 3f2a…' }`. */
export interface CriErrorContext {
  op: string;
  object: string;
}

/** A failed gRPC call as unary.ts (or grpc-js) reports it. */
export interface ServiceError extends Error {
  code: number;
  details: string;
}

/** True when `err` looks like a gRPC call error (has a numeric gRPC status code and details). */
export function isServiceError(err: unknown): err is ServiceError {
  return typeof err === 'object' && err !== null && typeof (err as { code?: unknown }).code === 'number' && 'details' in err;
}

/** gRPC status code of `err`, or undefined when it is not a gRPC error. */
export function grpcCode(err: unknown): number | undefined {
  return isServiceError(err) ? err.code : undefined;
}

// containerd 1.6: `failed to reserve sandbox name "…": name "…" is reserved for "<id>"` (gRPC UNKNOWN).
const RESERVED = /is reserved for/;

/**
 * UNAVAILABLE → RuntimeUnavailableError, NOT_FOUND → NotFoundError, ALREADY_EXISTS (or a reserved name) →
 * AlreadyExistsError, DEADLINE_EXCEEDED → TimeoutError, CANCELLED → CANCELLED, anything else → RUNTIME_ERROR.
 */
export function mapCriError(err: unknown, ctx: CriErrorContext, endpoint: string): NodeletError {
  if (err instanceof NodeletError) return err;
  if (!isServiceError(err)) {
    return new NodeletError('RUNTIME_ERROR', `${ctx.op} ${ctx.object} failed: ${String(err)}`, { cause: err, object: ctx.object });
  }
  const msg = err.details || err.message;
  const opts = { cause: err, object: ctx.object };
  switch (err.code) {
    case Status.UNAVAILABLE:
      return new RuntimeUnavailableError(`cannot connect to the container runtime at ${endpoint}: ${msg}`, opts);
    case Status.NOT_FOUND:
      return new NotFoundError(`${ctx.op} ${ctx.object}: not found: ${msg}`, opts);
    case Status.ALREADY_EXISTS:
      return new AlreadyExistsError(`${ctx.op} ${ctx.object}: ${msg}`, opts);
    case Status.DEADLINE_EXCEEDED:
      return new TimeoutError(`${ctx.op} ${ctx.object}: deadline exceeded: ${msg}`, opts);
    case Status.CANCELLED:
      return new NodeletError('CANCELLED', `${ctx.op} ${ctx.object}: cancelled`, opts);
    case Status.UNIMPLEMENTED:
      return new NodeletError('RUNTIME_ERROR', `${ctx.op} ${ctx.object}: the runtime at ${endpoint} does not implement it (CRI v1 required): ${msg}`, opts);
    default:
      if (RESERVED.test(msg)) return new AlreadyExistsError(`${ctx.op} ${ctx.object}: ${msg}`, opts);
      return new NodeletError('RUNTIME_ERROR', `${ctx.op} ${ctx.object} failed: ${msg}`, opts);
  }
}
