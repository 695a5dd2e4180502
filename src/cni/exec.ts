/**
 * Running one CNI plugin binary: environment + stdin in, stdout out (spec "Protocol parameters"). A non-zero exit
 * carries the plugin's error JSON on stdout.
 */
import { spawn } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { join } from 'node:path';
import { CniError } from './errors.js';

/** One plugin invocation. */
export interface PluginInvocation {
  /** Absolute path of the binary. */
  path: string;
  env: Record<string, string>;
  stdin: string;
  timeoutMs: number;
}

/** What a plugin process produced. */
export interface PluginOutput {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Runs a plugin process and collects its output (never throws for a non-zero exit). */
export function runPluginProcess(inv: PluginInvocation): Promise<PluginOutput> {
  return new Promise((resolve, reject) => {
    const child = spawn(inv.path, [], { env: inv.env, stdio: ['pipe', 'pipe', 'pipe'], timeout: inv.timeoutMs, killSignal: 'SIGKILL' });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => reject(new CniError('plugin-not-found', `failed to run CNI plugin ${inv.path}: ${e.message}`, { cause: e })));
    child.on('close', (code, signal) => {
      resolve({
        exitCode: code ?? (signal === null ? 1 : 128),
        stdout: Buffer.concat(out).toString(),
        stderr: Buffer.concat(err).toString() + (signal === null ? '' : `killed by ${signal} (timeout ${inv.timeoutMs} ms?)`),
      });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(inv.stdin);
  });
}

/** First directory of `binDirs` holding an executable `type`; undefined when none does. */
export async function findPlugin(type: string, binDirs: readonly string[]): Promise<string | undefined> {
  if (type.includes('/') || type.startsWith('.')) return undefined;
  for (const dir of binDirs) {
    const p = join(dir, type);
    try {
      await access(p, constants.X_OK);
      return p;
    } catch {
      // try the next directory
    }
  }
  return undefined;
}
