import { spawn } from 'node:child_process';

/** Result of one kubectl run. */
export interface KubectlResult {
  stdout: string;
  stderr: string;
  /** Exit code (null when killed by the timeout). */
  code: number | null;
}

/** Options of {@link runKubectl}. */
export interface KubectlOptions {
  /** Written to stdin (e.g. a manifest for `apply -f -`). */
  input?: string;
  /** Kill after this long (default 30 s). */
  timeoutMs?: number;
  /** Extra environment. */
  env?: NodeJS.ProcessEnv;
}

/** Runs the machine's `kubectl` with `--kubeconfig <path>`; never throws on a non-zero exit (check `code`). */
export function runKubectl(kubeconfig: string, args: string[], opts: KubectlOptions = {}): Promise<KubectlResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('kubectl', ['--kubeconfig', kubeconfig, ...args], {
      env: { ...process.env, ...opts.env, KUBECONFIG: kubeconfig },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ stdout, stderr, code });
    });
    child.stdin.end(opts.input ?? '');
  });
}

/** Like {@link runKubectl} but throws with stderr when kubectl fails; returns stdout. */
export async function kubectlOk(kubeconfig: string, args: string[], opts: KubectlOptions = {}): Promise<string> {
  const r = await runKubectl(kubeconfig, args, opts);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${String(r.code)}): ${r.stderr.trim()}`);
  return r.stdout;
}
