import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { withPrivatePodLogsDir } from './pod-logs.js';

/** Repository root (this file is test/e2e/harness/nodelet.ts). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** Where e2e process logs go (kept after the run for CI artifacts). */
export const E2E_LOG_DIR = join(REPO_ROOT, '.tmp', 'e2e-logs');

/** Options of {@link runNodelet}. */
export interface RunNodeletOptions {
  /** Extra environment for the daemon. */
  env?: NodeJS.ProcessEnv;
  /** Name used in the log file name (default `nodelet`). */
  name?: string;
  /** Working directory (default the repository root). */
  cwd?: string;
  /** Script run instead of dist/nodelet.mjs (for the harness's own tests); default $NODELET_ENTRY, else dist/nodelet.mjs. */
  entry?: string;
}

/** A running nodelet daemon. */
export interface NodeletProcess {
  readonly pid: number;
  /** File with the daemon's stdout and stderr. */
  readonly logPath: string;
  /** Resolves when the process exits. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** True until the process exited. */
  running(): boolean;
  /** The log so far. */
  logs(): string;
  /** SIGTERM, then SIGKILL after `graceMs` (default 10 s); resolves with the exit. Idempotent. */
  stop(graceMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const live = new Set<ChildProcess>();
let exitHook = false;

/**
 * Spawns `node_modules/.bin/node dist/nodelet.mjs <args>` (built by scripts/test.sh before vitest) with stdout and
 * stderr captured to a log file. The process is killed when the test process exits, even if a test forgot stop().
 */
export function runNodelet(args: string[], opts: RunNodeletOptions = {}): NodeletProcess {
  mkdirSync(E2E_LOG_DIR, { recursive: true });
  const node = join(REPO_ROOT, 'node_modules', '.bin', 'node');
  const entry = opts.entry ?? process.env.NODELET_ENTRY ?? join(REPO_ROOT, 'dist', 'nodelet.mjs');
  const child = spawn(node, [entry, ...withTestDefaults(args)], {
    cwd: opts.cwd ?? REPO_ROOT,
    env: { ...process.env, ...testEnv(args), ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`cannot start ${node}`);
  const logPath = join(E2E_LOG_DIR, `${opts.name ?? 'nodelet'}-${Date.now()}-${child.pid}.log`);
  const out = createWriteStream(logPath);
  out.write(`# ${node} ${entry} ${args.join(' ')}\n`);
  child.stdout.pipe(out, { end: false });
  child.stderr.pipe(out, { end: false });
  live.add(child);
  if (!exitHook) {
    exitHook = true;
    process.on('exit', () => {
      for (const c of live) c.kill('SIGKILL');
    });
  }
  let done = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => {
    child.on('exit', (code, signal) => {
      done = true;
      live.delete(child);
      // Give the pipes a moment to flush the last lines into the log.
      setTimeout(() => {
        out.end(`# exited code=${String(code)} signal=${String(signal)}\n`);
        res({ code, signal });
      }, 50);
    });
  });
  return {
    pid: child.pid,
    logPath,
    exited,
    running: () => !done,
    logs: () => {
      try {
        return readFileSync(logPath, 'utf8');
      } catch {
        return '';
      }
    },
    async stop(graceMs = 10_000) {
      if (!done) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
        try {
          return await exited;
        } finally {
          clearTimeout(t);
        }
      }
      return exited;
    },
  };
}

let daemons = 0;

/** Prefix of the cgroup roots e2e daemons get (`/sys/fs/cgroup/<hierarchy>/nodelet-e2e-…`); scripts/test.sh removes what is left. */
export const E2E_CGROUP_PREFIX = 'nodelet-e2e-';

/**
 * Test defaults for agent runs (with a root dir) unless the test sets them itself:
 * - image garbage collection off: the engine is shared by the whole suite, and a daemon collecting unused images
 *   (the suite's local test images among them) on a full disk would break the tests that run after it;
 * - eviction on memory only (`--eviction-hard=memory.available<100Mi`): the disk signals would evict the suite's pods
 *   on a shared machine whose disk is filled by others;
 * - a cgroup root of its own (`--cgroup-root=/nodelet-e2e-<pid>-<n>`): daemons running one after another (or side by
 *   side) never see each other's pod cgroups as orphans;
 * - a podLogsDir of its own (`<root-dir>/pod-logs`, pod-logs.ts): agents remove the log directories of pods they do
 *   not know, so they must never share /var/log/pods; and (environment, {@link testEnv}) its own directory for the
 *   /var/log/containers links, so a test run leaves no links on the host;
 * - ports of its own for the kubelet API and /healthz (`--port`, `--healthz-port`: free ones) when the test does not
 *   choose them: scripts/test.sh runs e2e files side by side, so no daemon may take the upstream defaults 10250/10248.
 */
/** The environment of an agent run with `--root-dir=<root>`: its /var/log/containers links go to `<root>/containers`. */
function testEnv(args: string[]): Record<string, string> {
  const root = args.find((a) => a.startsWith('--root-dir='))?.slice('--root-dir='.length);
  return root === undefined || root === '' ? {} : { NODELET_LEGACY_LOG_LINKS_DIR: `${root}/containers` };
}

function withTestDefaults(args: string[]): string[] {
  if (!args.some((a) => a.startsWith('--root-dir'))) return args;
  if (args[0] !== undefined && !args[0].startsWith('-')) return args; // a subcommand (hollow) sets its nodes' own
  const out = withPrivatePodLogsDir(args);
  if (!args.some((a) => a.startsWith('--image-gc-high-threshold'))) out.push('--image-gc-high-threshold=100');
  if (!args.some((a) => a.startsWith('--eviction-hard'))) out.push('--eviction-hard=memory.available<100Mi');
  if (!args.some((a) => a.startsWith('--cgroup-root'))) out.push(`--cgroup-root=/${E2E_CGROUP_PREFIX}${process.pid}-${++daemons}`);
  if (!args.some((a) => a.startsWith('--port'))) out.push(`--port=${freePortSync()}`);
  if (!args.some((a) => a.startsWith('--healthz-port'))) out.push(`--healthz-port=${freePortSync()}`);
  return out;
}

/** A TCP port that was free a moment ago (asked of the kernel by a short-lived child: runNodelet is synchronous). */
function freePortSync(): number {
  const script = "const s=require('net').createServer().listen(0,()=>{process.stdout.write(String(s.address().port));s.close()})";
  const port = Number(spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' }).stdout);
  if (!Number.isInteger(port) || port <= 0) throw new Error('cannot find a free port for the daemon under test');
  return port;
}
