import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import { TimeoutError } from '../../util/index.js';
import type { ExecResult } from '../types.js';

/** Collects a readable stream into a string. */
function collect(stream: PassThrough): () => string {
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return () => Buffer.concat(chunks).toString('utf8');
}

/**
 * Runs `cmd` in a running container and returns its exit code and demultiplexed output. With `timeoutSeconds` > 0
 * it rejects with TimeoutError at the deadline and kills the exec'd process (Docker has no API for that; the
 * process is killed through its host PID, best effort, as the agent runs in the host PID namespace).
 */
export async function dockerExec(
  docker: Docker,
  container: Docker.Container,
  cmd: string[],
  timeoutSeconds: number,
): Promise<ExecResult> {
  const exec = await container.exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true, AttachStdin: false });
  const stream = await exec.start({ hijack: true, stdin: false, Detach: false });
  const out = new PassThrough();
  const err = new PassThrough();
  const stdout = collect(out);
  const stderr = collect(err);
  docker.modem.demuxStream(stream, out, err);
  const finished = new Promise<void>((resolve, reject) => {
    stream.on('end', resolve);
    stream.on('close', resolve);
    stream.on('error', reject);
  });
  let timer: NodeJS.Timeout | undefined;
  const deadline =
    timeoutSeconds > 0
      ? new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), timeoutSeconds * 1000);
        })
      : new Promise<never>(() => undefined);
  try {
    const first = await Promise.race([finished, deadline]);
    if (first === 'timeout') {
      stream.destroy();
      await killExec(exec);
      throw new TimeoutError(`command ${JSON.stringify(cmd)} timed out after ${timeoutSeconds}s`);
    }
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
  const info = await exec.inspect();
  return { exitCode: info.ExitCode ?? -1, stdout: stdout(), stderr: stderr() };
}

async function killExec(exec: Docker.Exec): Promise<void> {
  try {
    const info = await exec.inspect();
    if (info.Running && info.Pid > 0) process.kill(info.Pid, 'SIGKILL');
  } catch {
    // Best effort: the process may have ended, or live in a PID namespace we cannot see.
  }
}
