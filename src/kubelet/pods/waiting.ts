/** An error that leaves a container waiting with a visible reason (ErrImagePull, CrashLoopBackOff, …). */
import { NodeletError, type ErrorCode } from '../../util/errors.js';

/** Thrown by the start path of one container; the worker records `reason`/`message` as the waiting state. */
export class WaitingError extends NodeletError {
  /** Upstream waiting reason, e.g. `ImagePullBackOff`. */
  readonly reason: string;
  /** Epoch ms when a retry makes sense (end of a backoff window); undefined = the worker's default. */
  readonly retryAt: number | undefined;

  constructor(code: ErrorCode, reason: string, message: string, options?: { cause?: unknown; retryAt?: number }) {
    super(code, message, options);
    this.reason = reason;
    this.retryAt = options?.retryAt;
  }
}

/** True for a {@link WaitingError}. */
export function isWaitingError(err: unknown): err is WaitingError {
  return err instanceof WaitingError;
}
