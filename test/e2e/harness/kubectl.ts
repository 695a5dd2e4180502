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

/** `--kubeconfig <path>` for one file; a colon-separated $KUBECONFIG list is passed through the environment only. */
const kubeconfigArgs = (kubeconfig: string): string[] => (kubeconfig.includes(':') ? [] : ['--kubeconfig', kubeconfig]);

/** Runs the machine's `kubectl` with `--kubeconfig <path>`; never throws on a non-zero exit (check `code`). */
export function runKubectl(kubeconfig: string, args: string[], opts: KubectlOptions = {}): Promise<KubectlResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('kubectl', [...kubeconfigArgs(kubeconfig), ...args], {
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
    // kubectl may exit before it read its input (EPIPE): its exit code and stderr tell what happened.
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

/** Like {@link runKubectl} but throws with stderr when kubectl fails; returns stdout. */
export async function kubectlOk(kubeconfig: string, args: string[], opts: KubectlOptions = {}): Promise<string> {
  const r = await runKubectl(kubeconfig, args, opts);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${String(r.code)}): ${r.stderr.trim()}`);
  return r.stdout;
}

/** A long-running kubectl (e.g. `get -w`) whose output is read while it runs. */
export interface KubectlStream {
  /** Complete stdout lines so far. */
  lines(): string[];
  /** Resolves with the first line (old or new) matching `pred`; rejects after `timeoutMs` (default 15 s). */
  waitForLine(pred: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  /** Kills kubectl (SIGTERM) and resolves with everything it printed. */
  stop(): Promise<KubectlResult>;
}

/** Starts kubectl without waiting for it to exit; always call `stop()` (e.g. in finally). */
export function spawnKubectl(kubeconfig: string, args: string[], opts: { env?: NodeJS.ProcessEnv } = {}): KubectlStream {
  const child = spawn('kubectl', [...kubeconfigArgs(kubeconfig), ...args], { env: { ...process.env, ...opts.env, KUBECONFIG: kubeconfig }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const waiters = new Set<() => void>();
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    for (const w of [...waiters]) w();
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const closed = new Promise<number | null>((res) => child.on('close', (code) => res(code)));
  const lines = (): string[] => stdout.split('\n').slice(0, -1);
  return {
    lines,
    waitForLine(pred, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const hit = lines().find(pred);
          if (hit === undefined) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(hit);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`kubectl ${args.join(' ')}: no matching line after ${timeoutMs} ms; output:\n${stdout}${stderr}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    async stop() {
      child.kill('SIGTERM');
      const code = await closed;
      return { stdout, stderr, code };
    },
  };
}
