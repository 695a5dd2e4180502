/**
 * nodelet's own V8 memory settings, applied whatever starts it: a young generation of 1 MB semi-spaces (the
 * default 16–32 MB ones are most of an idle agent's RSS above its live heap), an old-space cap of 1 GB, and one V8
 * platform worker thread instead of four (each thread that allocates gets a glibc malloc arena of its own, 2–3 MB of
 * RSS once used; an agent's background GC and compilation do not need more). libuv's threadpool keeps its 4 threads:
 * it also runs getaddrinfo, and a resolver that hangs would hold a smaller pool's every thread and stall all file
 * system work (the measured gain of 2 threads was within the noise). V8 reads these only when the heap is created,
 * so a process started without the flags replaces itself once with `process.execve` (same PID, same arguments, flags
 * added); one started with them (the systemd units' NODE_OPTIONS, or this re-exec) goes on.
 * `NODELET_NO_MEMORY_FLAGS=1` turns it off. Measurements: docs/benchmarks.md, "Idle footprint" (issue 14).
 */

/** The flags (name=value); a flag given by the user (execArgv or NODE_OPTIONS) wins over ours. */
export const MEMORY_FLAGS: readonly string[] = ['--max-semi-space-size=1', '--max-old-space-size=1024', '--v8-pool-size=1'];

/**
 * A kubelet-only process (no proxy role) adds `--optimize-for-size`: the kubelet is idle most of the time, and V8
 * then keeps far fewer heap pages (100 pods on containerd, issue 14: idle RSS 98–102 MB with it, 115–117 MB without;
 * V8 pages 19 MB against 33–35 MB) for ≈ 1 % of a core more while idle. Not for the proxy: its full syncs at thousands
 * of services spent ~70 % more JavaScript CPU with it.
 */
export const KUBELET_MEMORY_FLAGS: readonly string[] = [...MEMORY_FLAGS, '--optimize-for-size'];

/**
 * A proxy-only process (`--roles=proxy`) adds `--max-opt=1` and `--no-incremental-marking` (issue 17, measurements in
 * docs/benchmarks.md). `--max-opt=1`: V8 runs its code in the interpreter and the Sparkplug baseline compiler only,
 * never Maglev or TurboFan; the proxy's hot work is in native code (JSON parsing, string building, hashing, the
 * iptables/nft children), so this costs it little CPU (+1–4 % at 5,000 services), while the optimizing compilers
 * cost ~7 MB of Node binary paged in and ~6 MB of compile memory on the worker thread. `--no-incremental-marking`: a
 * full sync allocates fast, and while an incremental mark-compact runs alongside it the old generation grows by
 * another 5–15 MB before the collection ends; a stop-the-world one frees at the limit (a pause of tens of ms at
 * 1,000 services). Peak RSS at 1,000 services: −10 MB and −10 MB more.
 */
export const PROXY_MEMORY_FLAGS: readonly string[] = [...MEMORY_FLAGS, '--max-opt=1', '--no-incremental-marking'];

/** Marks the re-executed process (no second attempt, whatever happened). */
const MARK = 'NODELET_MEMORY_FLAGS_APPLIED';

/** The `flags` (default MEMORY_FLAGS) missing from `execArgv` and `nodeOptions` (pure). */
export function missingMemoryFlags(execArgv: readonly string[], nodeOptions: string | undefined, flags: readonly string[] = MEMORY_FLAGS): string[] {
  // `--no-x` (a boolean flag turned off) counts as the user's choice for `--x`.
  const given = [...execArgv, ...(nodeOptions ?? '').split(/\s+/)].map((f) => f.split('=')[0]?.replace(/_/g, '-').replace(/^--no-/, '--'));
  return flags.filter((f) => !given.includes(f.split('=')[0]?.replace(/^--no-/, '--')));
}

/** What {@link applyMemoryFlags} runs: `process.execve(file, args, env)`. */
export interface MemoryReexec {
  file: string;
  args: string[];
  env: NodeJS.ProcessEnv;
}

/** The re-exec that adds the missing flags, or undefined when nothing is missing or this process is the re-exec already (pure). */
export function memoryReexec(
  execPath: string,
  execArgv: readonly string[],
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  flags: readonly string[] = MEMORY_FLAGS,
): MemoryReexec | undefined {
  if (env[MARK] === '1' || env.NODELET_NO_MEMORY_FLAGS === '1') return undefined;
  const missing = missingMemoryFlags(execArgv, env.NODE_OPTIONS, flags);
  if (missing.length === 0) return undefined;
  return { file: execPath, args: [execPath, ...execArgv, ...missing, ...argv.slice(1)], env: { ...env, [MARK]: '1' } };
}

/**
 * Re-executes this process with the missing memory flags (`flags`: MEMORY_FLAGS, KUBELET_MEMORY_FLAGS for a
 * kubelet-only process, PROXY_MEMORY_FLAGS for a proxy-only one) (never returns then), or returns when there is nothing to do or no way to do it (Node without
 * process.execve: the process runs with V8's defaults).
 */
export function applyMemoryFlags(flags: readonly string[] = MEMORY_FLAGS): void {
  const plan = memoryReexec(process.execPath, process.execArgv, process.argv, process.env, flags);
  const execve = (process as unknown as { execve?: (file: string, args: string[], env: NodeJS.ProcessEnv) => never }).execve;
  if (plan !== undefined && typeof execve === 'function') execve(plan.file, plan.args, plan.env);
}
