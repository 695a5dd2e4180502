/**
 * The floor under an agent's exec on Docker: the engine API calls alone (exec create, start with a hijacked stream,
 * inspect for the exit code) of a command in a running container, made straight to the engine's socket from this
 * process — no TLS, no SPDY, no agent — timed phase by phase.
 */
import type { Duplex } from 'node:stream';
import Docker from 'dockerode';
import { summarize, type Summary } from './stats.js';

/** Milliseconds of each engine call of one exec, and the whole. */
export interface EngineExecTiming {
  create: number;
  start: number;
  /** From the hijacked start until the engine ended the output stream (the process ran and exited). */
  output: number;
  inspect: number;
  total: number;
}

const now = (): number => performance.now();

/** One exec of `cmd` in `containerId` through the engine at `socketPath`. */
export async function engineExec(docker: Docker, containerId: string, cmd: string[]): Promise<EngineExecTiming> {
  const t0 = now();
  const exec = await docker.getContainer(containerId).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const t1 = now();
  const stream = (await exec.start({ hijack: true, stdin: false })) as Duplex;
  const t2 = now();
  await new Promise<void>((resolve) => {
    stream.on('data', () => undefined);
    stream.once('end', resolve);
    stream.once('close', resolve);
    stream.once('error', () => resolve());
  });
  const t3 = now();
  for (let i = 0; i < 100 && (await exec.inspect()).Running; i++) await new Promise((r) => setTimeout(r, 20));
  const t4 = now();
  stream.destroy();
  return { create: t1 - t0, start: t2 - t1, output: t3 - t2, inspect: t4 - t3, total: t4 - t0 };
}

/** p50 of each phase and p50/p99 of the whole. */
export function summarizeEngine(samples: readonly EngineExecTiming[]): Record<keyof EngineExecTiming, Summary> {
  const pick = (k: keyof EngineExecTiming): Summary => summarize(samples.map((s) => s[k]));
  return { create: pick('create'), start: pick('start'), output: pick('output'), inspect: pick('inspect'), total: pick('total') };
}
