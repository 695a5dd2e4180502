/**
 * The exec handler (upstream pkg/probe/exec plus the CRI exec-sync timeout): runs the command in the container through
 * the runtime seam. Exit 0 = success, any other exit = failure with the output; a command still running at
 * timeoutSeconds is a failure with upstream's text `command "<cmd>" timed out`. Any other runtime error is a prober
 * error (thrown).
 */
import type { ContainerManager } from '../../cri/types.js';
import { TimeoutError, isTimeout, type Clock, type TimerHandle } from '../../util/index.js';
import { boundOutput, goQuote, type ProbeOutcome } from './types.js';

/** Everything one exec probe needs. */
export interface ExecProbeRequest {
  runtime: Pick<ContainerManager, 'execSync'>;
  /** Runtime container ID without the `docker://` prefix. */
  containerID: string;
  command: string[];
  timeoutSeconds: number;
  clock: Clock;
  /**
   * Extra wait after the timeout before the prober gives up on a runtime that does not enforce the timeout itself
   * (default 1000 ms). The outcome is the same timeout failure either way.
   */
  graceMs?: number;
}

/** Upstream's timeout message (CRI exec-sync deadline exceeded). */
export function execTimeoutMessage(command: string[]): string {
  return `command ${goQuote(command.join(' '))} timed out`;
}

/** Runs one exec probe. Resolves to an outcome; rejects only for prober errors (runtime failures other than timeout). */
export async function execProbe(req: ExecProbeRequest): Promise<ProbeOutcome> {
  const timeoutMs = req.timeoutSeconds * 1000 + (req.graceMs ?? 1000);
  let timer: TimerHandle | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = req.clock.setTimeout(() => reject(new TimeoutError(execTimeoutMessage(req.command))), timeoutMs);
  });
  try {
    const res = await Promise.race([req.runtime.execSync(req.containerID, req.command, req.timeoutSeconds), guard]);
    const output = boundOutput(res.stdout + res.stderr).trimEnd();
    return { result: res.exitCode === 0 ? 'success' : 'failure', output };
  } catch (err) {
    if (isTimeout(err)) return { result: 'failure', output: execTimeoutMessage(req.command) };
    throw err;
  } finally {
    if (timer !== undefined) req.clock.clearTimeout(timer);
    guard.catch(() => undefined);
  }
}
