/**
 * ExecIptables: the real iptables seam, running iptables(-nft|-legacy)(-save|-restore) as child processes, optionally
 * inside a network namespace (`ip netns exec <ns> …`) so tests and benchmarks never touch the host's tables.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { NodeletError, type NodeletErrorOptions } from '../util/index.js';
import type { Iptables, RestoreOptions } from './iptables.js';
import type { Table } from './render-top.js';

/** An iptables command failed; `code` IPTABLES_FAILED. `line` is the failing restore line when known. */
export class IptablesError extends NodeletError {
  readonly line: number | undefined;
  constructor(message: string, options: NodeletErrorOptions & { line?: number } = {}) {
    super('IPTABLES_FAILED', message, options);
    this.line = options.line;
  }
}

/** Bytes of stdin queued ahead of the child before waiting for it to drain. */
const WRITE_AHEAD = 1 << 20;

/** Result of one command. */
export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `argv` with optional stdin (chunks are pulled one at a time and written with backpressure, so a large input is
 * never copied whole); resolves with the exit code (spawn errors become code 127). EPIPE is ignored. `onChunk` sees
 * every chunk as it is written.
 */
export function runCommand(argv: readonly string[], stdin?: string | Iterable<string>, onChunk?: (chunk: string) => void): Promise<CommandResult> {
  return new Promise((resolve) => {
    const [cmd, ...args] = argv;
    const child = spawn(cmd ?? 'false', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    // The tool may exit before reading all input (parse error on line 1): EPIPE on stdin is expected then.
    child.stdin.on('error', () => undefined);
    child.on('error', (e) => resolve({ code: 127, stdout: '', stderr: String(e) }));
    child.on('close', (code) => {
      resolve({ code: code ?? 1, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
    });
    const chunks = (typeof stdin === 'string' ? [stdin] : (stdin ?? []))[Symbol.iterator]();
    let closed = false;
    child.on('close', () => (closed = true));
    const pump = (): void => {
      for (;;) {
        // The tool is gone (it failed): stop producing input.
        if (closed || child.stdin.destroyed) return;
        const next = chunks.next();
        if (next.done === true) break;
        onChunk?.(next.value);
        // Keep up to WRITE_AHEAD bytes queued, so producing the next chunks overlaps with the tool consuming these.
        if (!child.stdin.write(next.value) && child.stdin.writableLength > WRITE_AHEAD) {
          child.stdin.once('drain', pump);
          return;
        }
      }
      child.stdin.end();
    };
    pump();
  });
}

/** Which iptables flavour the host uses. */
export type IptablesBackend = 'nft' | 'legacy';

/** Options of {@link ExecIptables}. */
export interface ExecIptablesOptions {
  family?: 'IPv4' | 'IPv6';
  backend: IptablesBackend;
  /** Run inside this network namespace (`ip netns exec`), or in the namespace of this pid (`nsenter -n -t`). */
  netns?: string;
  netnsPid?: number;
  /** xtables lock wait in seconds (`-w`). */
  waitSeconds?: number;
  randomFully?: boolean;
}

/** Argument prefix that enters the target network namespace. */
export function namespacePrefix(o: { netns?: string; netnsPid?: number }): string[] {
  if (o.netns !== undefined) return ['ip', 'netns', 'exec', o.netns];
  if (o.netnsPid !== undefined) return ['nsenter', '-n', '-t', String(o.netnsPid)];
  return [];
}

/** The real implementation. Restores are serialized (one at a time per instance). */
export class ExecIptables implements Iptables {
  readonly family: 'IPv4' | 'IPv6';
  readonly randomFully: boolean;
  readonly #o: ExecIptablesOptions;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: ExecIptablesOptions) {
    this.#o = options;
    this.family = options.family ?? 'IPv4';
    this.randomFully = options.randomFully ?? true;
  }

  #tool(suffix: '' | '-save' | '-restore'): string[] {
    const base = this.family === 'IPv4' ? 'iptables' : 'ip6tables';
    return [...namespacePrefix(this.#o), `${base}-${this.#o.backend}${suffix}`];
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.#queue.then(fn, fn);
    this.#queue = p.catch(() => undefined);
    return p;
  }

  restore(data: string | Iterable<string>, options: RestoreOptions): Promise<void> {
    return this.#serial(async () => {
      const argv = [...this.#tool('-restore'), '-w', String(this.#o.waitSeconds ?? 5)];
      if (options.noflush) argv.push('--noflush');
      const recent = new RecentLines();
      const r = await runCommand(argv, data, (c) => recent.add(c));
      if (r.code !== 0) {
        const m = /line:? (\d+)/i.exec(r.stderr);
        const line = m ? Number(m[1]) : undefined;
        const near = line === undefined ? undefined : recent.around(line);
        const context = near !== undefined ? ` near: ${near}` : '';
        throw new IptablesError(`iptables-restore failed (exit ${r.code}): ${r.stderr.trim()}${context}`, { line });
      }
    });
  }

  async save(table?: Table): Promise<string> {
    const r = await runCommand([...this.#tool('-save'), ...(table === undefined ? [] : ['-t', table])]);
    if (r.code !== 0) throw new IptablesError(`iptables-save ${table ?? ''} failed (exit ${r.code}): ${r.stderr.trim()}`);
    return r.stdout;
  }

  scan(onLine: (line: string) => void): Promise<void> {
    return new Promise((resolve, reject) => {
      const [cmd = 'false', ...args] = this.#tool('-save');
      const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let rest = '';
      let err = '';
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (chunk: string) => {
        const lines = (rest + chunk).split('\n');
        rest = lines.pop() ?? '';
        for (const l of lines) onLine(l);
      });
      child.stderr.on('data', (b: Buffer) => (err += b.toString()));
      child.on('error', (e) => reject(new IptablesError(`iptables-save failed: ${String(e)}`, { cause: e })));
      child.on('close', (code) => {
        if (rest !== '') onLine(rest);
        if (code === 0) resolve();
        else reject(new IptablesError(`iptables-save failed (exit ${code}): ${err.trim()}`));
      });
    });
  }

  async chainExists(table: Table, chain: string): Promise<boolean> {
    const r = await runCommand([...this.#tool(''), '-w', String(this.#o.waitSeconds ?? 5), '-t', table, '-S', chain]);
    return r.code === 0;
  }

  async ruleExists(table: Table, chain: string, args: readonly string[]): Promise<boolean> {
    const r = await runCommand([...this.#tool(''), '-w', String(this.#o.waitSeconds ?? 5), '-t', table, '-C', chain, ...unquote(args)]);
    return r.code === 0;
  }

  async deleteRule(table: Table, chain: string, args: readonly string[]): Promise<void> {
    await runCommand([...this.#tool(''), '-w', String(this.#o.waitSeconds ?? 5), '-t', table, '-D', chain, ...unquote(args)]);
  }
}

/**
 * The last few chunks written to iptables-restore with their first line numbers, to quote the failing line of a
 * streamed input without keeping all of it (the tool fails on a line it has just read, so it is in a recent chunk).
 */
class RecentLines {
  static readonly KEEP = 32;
  readonly #chunks: { first: number; text: string }[] = [];
  #lines = 0;

  add(text: string): void {
    this.#chunks.push({ first: this.#lines + 1, text });
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) this.#lines++;
    if (this.#chunks.length > RecentLines.KEEP) this.#chunks.shift();
  }

  /** Lines `line-1 … line+1` joined with ' | ', or undefined when they are no longer held. */
  around(line: number): string | undefined {
    const first = this.#chunks[0]?.first;
    if (first === undefined || line < first) return undefined;
    const all = this.#chunks.map((c) => c.text).join('').split('\n');
    const at = line - first;
    return all.slice(Math.max(0, at - 1), at + 2).join(' | ');
  }
}

/** Removes the shell-style quotes our rule args carry (`"a b"` → `a b`) for direct exec. */
function unquote(args: readonly string[]): string[] {
  return args.map((a) => (a.length >= 2 && a.startsWith('"') && a.endsWith('"') ? a.slice(1, -1) : a));
}

/** What {@link detectBackend} reads; injectable for tests. */
export interface BackendProbe {
  /** Runs a command (already prefixed for the target namespace). */
  run(argv: readonly string[]): Promise<CommandResult>;
  /**
   * Contents of `/proc/net/<file>` as seen from the target namespace (`ip_tables_names` or `ip6_tables_names`, the
   * legacy tables the kernel has instantiated), or undefined when it cannot be read (no legacy tables).
   */
  readProcNet(file: 'ip_tables_names' | 'ip6_tables_names'): Promise<string | undefined>;
}

/** The real probe for `ns`: `/proc/net` of the host, of `/proc/<pid>/net`, or read via `ip netns exec … cat`. */
export function realBackendProbe(ns: { netns?: string; netnsPid?: number } = {}): BackendProbe {
  return {
    run: (argv) => runCommand(argv),
    readProcNet: async (file) => {
      if (ns.netns !== undefined) {
        const r = await runCommand([...namespacePrefix(ns), 'cat', `/proc/net/${file}`]);
        return r.code === 0 ? r.stdout : undefined;
      }
      const dir = ns.netnsPid !== undefined ? `/proc/${ns.netnsPid}/net` : '/proc/net';
      return readFile(`${dir}/${file}`, 'utf8').catch(() => undefined);
    },
  };
}

/** Table names listed in a `/proc/net/ip*_tables_names` text (undefined → none). */
function tableNames(text: string | undefined): Set<string> {
  return new Set((text ?? '').split('\n').map((l) => l.trim()).filter(Boolean));
}

/**
 * Picks the backend like kubernetes-sigs/iptables-wrappers: a KUBE-IPTABLES-HINT or KUBE-KUBELET-CANARY chain in the
 * mangle table of one flavour decides; otherwise the flavour with more rules wins; ties and errors → nft.
 * Side-effect free: a legacy table is only saved when `/proc/net/ip(6)_tables_names` lists it, since
 * `iptables-legacy-save -t <table>` makes the kernel instantiate a missing legacy table (after which iptables-nft warns
 * "iptables-legacy tables present"). A table that is not listed has no legacy rules.
 */
export async function detectBackend(ns: { netns?: string; netnsPid?: number } = {}, probe: BackendProbe = realBackendProbe(ns)): Promise<IptablesBackend> {
  const pre = namespacePrefix(ns);
  const legacy4 = tableNames(await probe.readProcNet('ip_tables_names'));
  const legacy6 = tableNames(await probe.readProcNet('ip6_tables_names'));
  const mangle = async (b: IptablesBackend): Promise<string> => {
    if (b === 'legacy' && !legacy4.has('mangle')) return '';
    return (await probe.run([...pre, `iptables-${b}-save`, '-t', 'mangle'])).stdout;
  };
  const hint = /^:(KUBE-IPTABLES-HINT|KUBE-KUBELET-CANARY) /m;
  if (hint.test(await mangle('nft'))) return 'nft';
  if (hint.test(await mangle('legacy'))) return 'legacy';
  const count = async (b: IptablesBackend): Promise<number> => {
    let n = 0;
    for (const [tool, names] of [[`iptables-${b}-save`, legacy4], [`ip6tables-${b}-save`, legacy6]] as const) {
      // Without -t, iptables-legacy-save dumps only the listed tables; skip the run when none is listed.
      if (b === 'legacy' && names.size === 0) continue;
      const r = await probe.run([...pre, tool]);
      n += r.stdout.split('\n').filter((l) => l.startsWith('-')).length;
    }
    return n;
  };
  const [legacy, nft] = [await count('legacy'), await count('nft')];
  return legacy > nft ? 'legacy' : 'nft';
}

/** True when `iptables --version` is ≥ 1.6.2 (MASQUERADE --random-fully). */
export async function supportsRandomFully(ns: { netns?: string; netnsPid?: number } = {}, backend: IptablesBackend = 'nft'): Promise<boolean> {
  const r = await runCommand([...namespacePrefix(ns), `iptables-${backend}`, '--version']);
  const m = /v(\d+)\.(\d+)\.(\d+)/.exec(r.stdout);
  if (!m) return false;
  const v = Number(m[1]) * 10000 + Number(m[2]) * 100 + Number(m[3]);
  return v >= 10602;
}
