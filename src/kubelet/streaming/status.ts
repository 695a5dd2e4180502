/**
 * The metav1.Status objects the streaming endpoints write (pure): on the v4/v5 error channel of exec/attach, and as
 * HTTP error bodies. Field order and wording follow upstream (k8s.io/apimachinery errors, remotecommand server).
 */

/** A metav1.Status as JSON. */
export interface Status {
  kind?: 'Status';
  apiVersion?: 'v1';
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  details?: { name?: string; kind?: string; causes?: { reason?: string; message: string }[] };
  code?: number;
}

/** The v4 error-channel message of a command that exited 0 (and of an attach that ended). */
export function successStatus(): Status {
  return { metadata: {}, status: 'Success' };
}

/**
 * The v4 error-channel message of a command that exited non-zero. Clients (kubectl) read the code from the
 * `ExitCode` cause and exit with it.
 */
export function exitCodeStatus(cmd: string[], exitCode: number): Status {
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command [${cmd.join(' ')}], exit code ${exitCode}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(exitCode) }] },
  };
}

/** apierrors.NewInternalError: what the error channel carries when the session could not run. */
export function internalErrorStatus(message: string): Status {
  return {
    metadata: {},
    status: 'Failure',
    message: `Internal error occurred: ${message}`,
    reason: 'InternalError',
    details: { causes: [{ message }] },
    code: 500,
  };
}

/** The text form used by protocol versions before v4 (empty for success: nothing is written). */
export function statusText(status: Status): string {
  return status.status === 'Success' ? '' : (status.message ?? 'error');
}

const REASONS: Record<number, string> = {
  400: 'BadRequest',
  403: 'Forbidden',
  404: 'NotFound',
  500: 'InternalError',
};

/** An HTTP error body (kind Status), e.g. 404 for an unknown pod or container. */
export function httpErrorStatus(code: number, message: string): Status {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: REASONS[code] ?? 'Unknown', code };
}
