/**
 * NetnsDialer through a helper process per network namespace: `nsenter --net=<path>` (or `-t <pid> -n`) runs
 * node with {@link HELPER_SOURCE}, which connects inside the namespace and passes each connected socket back over
 * the IPC channel. nodelet then owns a socket straight into the pod: no process copies the bytes (containerd's
 * streaming server and socat both did). A helper is shared by every dial into its namespace and exits after
 * `idleMs` without dials, so it never keeps a deleted pod's namespace alive for long.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readlink, stat } from 'node:fs/promises';
import { Socket, type SocketConstructorOpts } from 'node:net';
import { NodeletError, NotFoundError, silentLogger, type Logger } from '../../util/index.js';
import { HELPER_SOURCE } from './helper-source.js';
import type { DialOptions, NetnsDialer, NetnsTarget } from './types.js';

/** Options of {@link NsenterDialer}. */
export interface NsenterDialerOptions {
  /** nsenter binary (default 'nsenter'). */
  nsenter?: string;
  /** node binary the helper runs on (default: this process's). */
  node?: string;
  /** A helper exits this long after its last dial settled (default 10 s). */
  idleMs?: number;
  /** How long a helper may take to start (default 10 s). */
  startTimeoutMs?: number;
  logger?: Logger;
}

/** The raw stream handle a helper sends; wrapped into a net.Socket here. */
type RawHandle = object;

interface Pending {
  port: number;
  object: string;
  resolve: (h: RawHandle) => void;
  reject: (err: Error) => void;
}

/** The namespace's identity (`net:[inode]`), from its file or its process. NotFoundError when it is gone. */
export async function netnsId(target: NetnsTarget): Promise<{ id: string; enter: string[] }> {
  if (target.path !== undefined) {
    try {
      const st = await stat(target.path);
      return { id: `net:[${String(st.ino)}]`, enter: [`--net=${target.path}`] };
    } catch (err) {
      if (target.pid === undefined) throw new NotFoundError(`network namespace ${target.path} not found`, { cause: err });
    }
  }
  if (target.pid === undefined || !Number.isInteger(target.pid) || target.pid <= 0) {
    throw new NotFoundError('no network namespace to enter (no netns path, no running sandbox process)');
  }
  try {
    return { id: await readlink(`/proc/${String(target.pid)}/ns/net`), enter: ['-t', String(target.pid), '-n'] };
  } catch (err) {
    throw new NotFoundError(`network namespace of process ${String(target.pid)} not found (process gone)`, { cause: err });
  }
}

/** One helper process inside one namespace. */
class Helper {
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, Pending>();
  readonly #ready: Promise<void>;
  readonly #idleMs: number;
  readonly #onGone: () => void;
  #nextId = 1;
  #idle: NodeJS.Timeout | undefined;
  #stderr = '';
  #gone = false;

  constructor(o: { nsenter: string; node: string; enter: string[]; id: string; idleMs: number; startTimeoutMs: number; onGone: () => void; log: Logger }) {
    this.#idleMs = o.idleMs;
    this.#onGone = o.onGone;
    const args = [...o.enter, o.node, '--max-old-space-size=16', '--v8-pool-size=1', '-e', HELPER_SOURCE];
    this.#child = spawn(o.nsenter, args, { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' } });
    this.#child.stderr?.on('data', (d: Buffer) => {
      if (this.#stderr.length < 2048) this.#stderr += d.toString('utf8');
    });
    this.#ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new NodeletError('TIMEOUT', `port-forward helper did not start within ${String(o.startTimeoutMs)} ms`)), o.startTimeoutMs);
      this.#child.once('message', (m: { netns?: string }) => {
        clearTimeout(timer);
        // The pid may have been reused by a process in another namespace between the lookup and nsenter.
        if (m.netns === o.id) resolve();
        else reject(new NotFoundError(`network namespace ${o.id} is gone (the helper entered ${String(m.netns)})`));
      });
      this.#child.once('exit', () => {
        clearTimeout(timer);
        reject(this.#exitError());
      });
      this.#child.once('error', (err) => {
        clearTimeout(timer);
        reject(new NodeletError('RUNTIME_ERROR', `port-forward helper (${o.nsenter}) failed: ${err.message}`));
      });
    });
    this.#ready.catch((err: unknown) => {
      o.log.debug({ err: (err as Error).message, netns: o.id }, 'port-forward helper failed to start');
      this.dispose();
    });
    this.#child.on('message', (m: { id?: number; errors?: string[] }, handle?: RawHandle) => this.#answer(m, handle));
    this.#child.on('error', (err) => {
      // e.g. spawn ENOENT: no nsenter on this host
      this.#end(new NodeletError('RUNTIME_ERROR', `port-forward helper (${o.nsenter}) failed: ${err.message}`));
      this.dispose();
    });
    this.#child.once('exit', () => this.#end(this.#exitError()));
    this.#armIdle();
  }

  /** Asks for a connection to `port`; resolves with the connected handle. */
  async dial(port: number, object: string, signal: AbortSignal): Promise<RawHandle> {
    if (this.#gone) throw this.#exitError();
    clearTimeout(this.#idle);
    const id = this.#nextId++;
    const answer = new Promise<RawHandle>((resolve, reject) => this.#pending.set(id, { port, object, resolve, reject }));
    const onAbort = (): void => this.#settle(id)?.reject(new NodeletError('CANCELLED', `port-forward to port ${String(port)} aborted`));
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      if (signal.aborted) onAbort();
      await Promise.race([this.#ready, answer]);
      if (this.#pending.has(id)) this.#child.send({ id, port });
      return await answer;
    } catch (err) {
      this.#settle(id);
      throw err;
    } finally {
      signal.removeEventListener('abort', onAbort);
      this.#armIdle();
    }
  }

  /** Kills the helper; pending dials are rejected. Idempotent. */
  dispose(): void {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill('SIGKILL');
    this.#end(new NodeletError('CANCELLED', 'port-forward helper stopped'));
  }

  #answer(m: { id?: number; errors?: string[] }, handle: RawHandle | undefined): void {
    if (m.id === undefined) return;
    const p = this.#settle(m.id);
    if (p === undefined) {
      if (handle !== undefined) wrap(handle).destroy(); // the dial was aborted meanwhile
      return;
    }
    if (handle !== undefined) return p.resolve(handle);
    const [v4, v6] = m.errors ?? [];
    p.reject(new NodeletError('RUNTIME_ERROR', `failed to connect to localhost:${String(p.port)} inside namespace of ${p.object}, IPv4: ${v4 ?? '?'} IPv6: ${v6 ?? '?'}`));
  }

  #settle(id: number): Pending | undefined {
    const p = this.#pending.get(id);
    this.#pending.delete(id);
    return p;
  }

  #armIdle(): void {
    clearTimeout(this.#idle);
    if (this.#gone || this.#pending.size > 0) return;
    this.#idle = setTimeout(() => this.dispose(), this.#idleMs);
    this.#idle.unref();
  }

  #end(err: Error): void {
    if (!this.#gone) {
      this.#gone = true;
      this.#onGone();
    }
    clearTimeout(this.#idle);
    for (const p of this.#pending.values()) p.reject(err);
    this.#pending.clear();
  }

  #exitError(): Error {
    const why = this.#stderr.trim();
    return new NodeletError('RUNTIME_ERROR', `port-forward helper (nsenter) exited${why === '' ? '' : `: ${why}`}`);
  }
}

/** A net.Socket around a handle received from a helper (undocumented `handle` option, as child_process uses it). */
function wrap(handle: RawHandle, onread?: DialOptions['onread']): Socket {
  const opts = { handle, readable: true, writable: true, allowHalfOpen: true, ...(onread === undefined ? {} : { onread }) };
  return new Socket(opts as unknown as SocketConstructorOpts);
}

/** The real NetnsDialer (see the file comment). */
export class NsenterDialer implements NetnsDialer {
  readonly #helpers = new Map<string, Helper>();
  readonly #nsenter: string;
  readonly #node: string;
  readonly #idleMs: number;
  readonly #startTimeoutMs: number;
  readonly #log: Logger;
  #closed = false;

  constructor(o: NsenterDialerOptions = {}) {
    this.#nsenter = o.nsenter ?? 'nsenter';
    this.#node = o.node ?? process.execPath;
    this.#idleMs = o.idleMs ?? 10_000;
    this.#startTimeoutMs = o.startTimeoutMs ?? 10_000;
    this.#log = (o.logger ?? silentLogger()).child({ component: 'netns-dialer' });
  }

  async dial(target: NetnsTarget, port: number, options: DialOptions): Promise<Socket> {
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new NodeletError('INVALID', `invalid port ${String(port)}`);
    if (this.#closed) throw new NodeletError('CANCELLED', 'port-forward dialer closed');
    if (options.signal.aborted) throw new NodeletError('CANCELLED', `port-forward to port ${String(port)} aborted`);
    const ns = await netnsId(target);
    let helper = this.#helpers.get(ns.id);
    if (helper === undefined) {
      const created: Helper = new Helper({
        nsenter: this.#nsenter,
        node: this.#node,
        enter: ns.enter,
        id: ns.id,
        idleMs: this.#idleMs,
        startTimeoutMs: this.#startTimeoutMs,
        log: this.#log,
        onGone: () => {
          if (this.#helpers.get(ns.id) === created) this.#helpers.delete(ns.id);
        },
      });
      helper = created;
      this.#helpers.set(ns.id, helper);
    }
    const handle = await helper.dial(port, options.object ?? ns.id, options.signal);
    return wrap(handle, options.onread);
  }

  close(): void {
    this.#closed = true;
    for (const h of [...this.#helpers.values()]) h.dispose();
    this.#helpers.clear();
  }

  /** Helpers running now (for tests). */
  get helpers(): number {
    return this.#helpers.size;
  }
}
