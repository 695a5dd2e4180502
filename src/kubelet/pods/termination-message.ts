/**
 * The termination message of an exited container (upstream kuberuntime getTerminationMessage and
 * readLastStringFromContainerLogs): the last 4096 bytes of the file mounted at the container's
 * terminationMessagePath; with `terminationMessagePolicy: FallbackToLogsOnError`, a container that failed (exit code
 * ≠ 0, it did run) and left the file empty reports the last 80 lines (at most 2048 bytes) of its log instead.
 * Path and policy are read from the container's annotations, so adopted containers report the same.
 */
import { open } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { ANNOTATIONS, type ContainerLogs, type ContainerRuntime, type ContainerStatus } from '../../cri/types.js';
import { errorMessage } from '../../util/errors.js';
import { TERMINATION_MESSAGE_POLICY_ANNOTATION } from '../security/labels.js';

/** Upstream MaxContainerTerminationMessageLength. */
export const MAX_TERMINATION_MESSAGE_BYTES = 4096;
/** Upstream MaxContainerTerminationMessageLogLength. */
export const MAX_TERMINATION_LOG_BYTES = 2048;
/** Upstream MaxContainerTerminationMessageLogLines. */
export const MAX_TERMINATION_LOG_LINES = 80;

/** The last `max` bytes of `file`; undefined when it does not exist. */
async function readTail(file: string, max: number): Promise<string | undefined> {
  let fh;
  try {
    fh = await open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const { size } = await fh.stat();
    const len = Math.min(size, max);
    const buf = Buffer.alloc(len);
    const { bytesRead } = await fh.read(buf, 0, len, size - len);
    return buf.subarray(0, bytesRead).toString('utf8');
  } finally {
    await fh.close();
  }
}

/** Whether the runtime can read logs (every real backend and the fake can; a bare test double may not). */
function canReadLogs(runtime: ContainerRuntime): runtime is ContainerRuntime & ContainerLogs {
  return typeof (runtime as Partial<ContainerLogs>).readLogs === 'function';
}

async function lastLogLines(runtime: ContainerRuntime, id: string): Promise<string> {
  if (!canReadLogs(runtime)) return '';
  const chunks: Buffer[] = [];
  const out = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
      cb();
    },
  });
  try {
    await runtime.readLogs(id, { tailLines: MAX_TERMINATION_LOG_LINES, limitBytes: MAX_TERMINATION_LOG_BYTES }, out);
  } catch (err) {
    return `Error on reading termination message from logs: ${errorMessage(err)}`;
  }
  return Buffer.concat(chunks).subarray(0, MAX_TERMINATION_LOG_BYTES).toString('utf8');
}

/**
 * The message to report for exited container `st`: the runtime's own message, then `: ` and the termination message
 * when there is one (upstream joins them the same way). '' for containers that did not exit. Never throws: a file
 * that cannot be read is reported in the message, as upstream.
 */
export async function containerMessage(runtime: ContainerRuntime, st: ContainerStatus): Promise<string> {
  if (st.state !== 'exited') return st.message;
  const path = st.annotations[ANNOTATIONS.terminationMessagePath] ?? '';
  const fallback = st.annotations[TERMINATION_MESSAGE_POLICY_ANNOTATION] === 'FallbackToLogsOnError' &&
    st.exitCode !== 0 && st.reason !== 'ContainerCannotRun';
  let msg = '';
  let checkLogs = fallback;
  const mount = path === '' ? undefined : st.mounts.find((m) => m.containerPath === path);
  if (mount !== undefined) {
    try {
      const data = await readTail(mount.hostPath, MAX_TERMINATION_MESSAGE_BYTES);
      msg = data ?? '';
      checkLogs = fallback && msg === '';
    } catch (err) {
      msg = `Error on reading termination log ${mount.hostPath}: ${errorMessage(err)}`;
      checkLogs = false;
    }
  }
  if (checkLogs) msg = await lastLogLines(runtime, st.id);
  if (msg === '') return st.message;
  return st.message === '' ? msg : `${st.message}: ${msg}`;
}
