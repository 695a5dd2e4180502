/**
 * nodelet's own V8 memory settings, applied whatever starts it: a young generation of 1 MB semi-spaces (the
 * default 16–32 MB ones are most of an idle agent's RSS above its live heap) and an old-space cap of 1 GB. V8 reads
 * these only when the heap is created, so a process started without them replaces itself once with
 * `process.execve` (same PID, same arguments, flags added); one started with them (the systemd units' NODE_OPTIONS,
 * or this re-exec) goes on. `NODELET_NO_MEMORY_FLAGS=1` turns it off.
 */

/** The flags (name=value); a flag given by the user (execArgv or NODE_OPTIONS) wins over ours. */
export const MEMORY_FLAGS: readonly string[] = ['--max-semi-space-size=1', '--max-old-space-size=1024'];

/** Marks the re-executed process (no second attempt, whatever happened). */
const MARK = 'NODELET_MEMORY_FLAGS_APPLIED';

/** The flags missing from `execArgv` and `nodeOptions` (pure). */
export function missingMemoryFlags(execArgv: readonly string[], nodeOptions: string | undefined): string[] {
  const given = [...execArgv, ...(nodeOptions ?? '').split(/\s+/)].map((f) => f.split('=')[0]?.replace(/_/g, '-'));
  return MEMORY_FLAGS.filter((f) => !given.includes(f.split('=')[0]));
}

/**
 * Re-executes this process with the missing memory flags (never returns then), or returns when there is nothing
 * to do or no way to do it (Node without process.execve: the process runs with V8's defaults).
 */
export function applyMemoryFlags(): void {
  const env = process.env;
  if (env[MARK] === '1' || env.NODELET_NO_MEMORY_FLAGS === '1') return;
  const missing = missingMemoryFlags(process.execArgv, env.NODE_OPTIONS);
  const execve = (process as unknown as { execve?: (file: string, args: string[], env: NodeJS.ProcessEnv) => never }).execve;
  if (missing.length === 0 || typeof execve !== 'function') return;
  execve(process.execPath, [process.execPath, ...process.execArgv, ...missing, ...process.argv.slice(1)], { ...env, [MARK]: '1' });
}
