import { hasCode, NodeletError, type NodeletErrorOptions } from '../util/errors.js';

/** Why a CNI operation failed, for callers that react differently (a missing config is "not ready", not a bug). */
export type CniFailure = 'no-config' | 'bad-config' | 'plugin-not-found' | 'plugin-error' | 'no-cached-result';

/**
 * A CNI operation failed: no usable configuration, a plugin binary is missing, or a plugin returned an error (its
 * `msg`/`details` are in the message, its numeric code in `cniCode`). Code `NETWORK_PLUGIN_FAILED`.
 */
export class CniError extends NodeletError {
  readonly failure: CniFailure;
  readonly cniCode: number | undefined;

  constructor(failure: CniFailure, message: string, options: NodeletErrorOptions & { cniCode?: number } = {}) {
    super('NETWORK_PLUGIN_FAILED', message, options);
    this.failure = failure;
    this.cniCode = options.cniCode;
  }
}

/** True for a CniError (any failure) or, with `failure`, for that failure only. */
export function isCniError(err: unknown, failure?: CniFailure): err is CniError {
  return hasCode(err, 'NETWORK_PLUGIN_FAILED') && err instanceof CniError && (failure === undefined || err.failure === failure);
}
