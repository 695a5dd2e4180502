/**
 * Kills the process of an exec whose client went away. containerd's CRI streaming server runs an exec with a
 * background context: when the client disconnects it does not notice until the process writes (or never, for
 * `sleep 4242`), so the process lingers. CRI does not say which containerd exec ID a streaming exec got, so each
 * exec session takes a ticket: the host's time since boot before its process can start (the streaming server starts
 * it only once the client's streams are up) — no runtime call, so an exec costs nothing more (a containerd ListPids
 * runs `runc ps`, tens of ms). When the client aborts, the session's process is the container's exec (containerd
 * Tasks.ListPids: exec IDs and host PIDs) that started since (/proc/<pid>/stat starttime, 10 ms ticks), is not claimed
 * by another session, and runs the session's command (/proc/<pid>/cmdline); it is killed with SIGKILL through
 * containerd (Tasks.Kill with its exec ID). nodelet must see the shims' PIDs in its /proc (the host PID namespace).
 *
 * Ambiguity is never resolved by guessing: when another live session in the same container could own a candidate
 * with the same command, nothing is killed (logged). A candidate whose command line no longer matches (a shell that
 * exec'd its last command) is killed only when it is the only new exec in the container and no other session or
 * ExecSync (probe) there could own it. The process may start a moment after the abort: the search is retried at
 * `retryDelaysMs` until found.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Clock, Logger } from '../../util/index.js';
import { TasksCallError, type ContainerdTasks, type ExecProcess } from './tasks.js';
import { GrpcStatus as grpcStatus } from '../../grpc/index.js';

const SIGKILL = 9;

/** What a reap found. */
export type ReapOutcome = 'killed' | 'none' | 'ambiguous' | 'unavailable';

/** One exec session's claim on its process. */
export interface ExecTicket {
  /** The session ended by itself: forget the ticket. Idempotent. */
  release(): void;
  /**
   * The client went away: kill the session's process. Resolves with the first attempt's outcome; when nothing was
   * found yet, later attempts run in the background. Releases the ticket when done. Idempotent.
   */
  reap(): Promise<ReapOutcome>;
}

/** What the reaper reads about host processes (default: /proc). Times are clock ticks since boot. */
export interface HostProcesses {
  /** Ticks since boot now. */
  now(): Promise<number>;
  /** When `pid` started, undefined when it is gone or unreadable. */
  startTicks(pid: number): Promise<number | undefined>;
  /** argv of `pid`, undefined when unreadable. */
  cmdline(pid: number): Promise<string[] | undefined>;
}

/** Options for {@link ExecReaper}. */
export interface ExecReaperOptions {
  tasks: ContainerdTasks;
  clock: Clock;
  logger: Logger;
  /** Default: {@link procHostProcesses}. */
  procs?: HostProcesses;
  /** Delays between attempts while the process is not found (default 250, 1000, 3000 ms). */
  retryDelaysMs?: number[];
  /** How long a killed exec ID stays claimed (default 60 s). */
  claimTtlMs?: number;
}

// USER_HZ: the unit of /proc/<pid>/stat times, 100 on every Linux architecture nodelet runs on.
const TICKS_PER_SECOND = 100;

/** The starttime field (22) of a /proc/<pid>/stat line; the command name may contain spaces and parentheses. */
export function statStartTicks(stat: string): number | undefined {
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const v = Number(rest[19]); // fields from 3 (state) on
  return Number.isFinite(v) && rest.length > 19 ? v : undefined;
}

/** {@link HostProcesses} from this host's /proc. */
export const procHostProcesses: HostProcesses = {
  // A synchronous procfs read (microseconds, never blocks): through the thread pool it took milliseconds on a busy
  // machine, on the path of every exec's preparation.
  now() {
    const up = readFileSync('/proc/uptime', 'utf8');
    return Promise.resolve(Math.floor(Number(up.split(' ')[0]) * TICKS_PER_SECOND));
  },
  async startTicks(pid) {
    try {
      return statStartTicks(await readFile(`/proc/${pid}/stat`, 'utf8'));
    } catch {
      return undefined;
    }
  },
  async cmdline(pid) {
    try {
      const raw = await readFile(`/proc/${pid}/cmdline`, 'utf8');
      if (raw === '') return undefined;
      return raw.replace(/\0$/, '').split('\0');
    } catch {
      return undefined;
    }
  },
};

const sameArgv = (a: string[] | undefined, b: string[]): boolean => a !== undefined && a.length === b.length && a.every((x, i) => x === b[i]);

interface Ticket extends ExecTicket {
  containerId: string;
  cmd: string[];
  /** Ticks since boot before the session's process could start: processes started earlier are not its own. */
  since: number;
}

/** See module comment. Safe for concurrent sessions. */
export class ExecReaper {
  readonly #tasks: ContainerdTasks;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #procs: HostProcesses;
  readonly #delays: number[];
  readonly #claimTtlMs: number;
  /** Live tickets per container. */
  readonly #tickets = new Map<string, Set<Ticket>>();
  /** In-flight ExecSync calls per container (their processes are not ours to kill). */
  readonly #execSyncs = new Map<string, number>();
  /** Exec IDs already killed by some session → when (monotonic ms); pruned after `claimTtlMs`. */
  readonly #claimed = new Map<string, number>();
  /** Aborts the background retries on close(). */
  readonly #stop = new AbortController();
  #disabled = false;

  constructor(o: ExecReaperOptions) {
    this.#tasks = o.tasks;
    this.#clock = o.clock;
    this.#log = o.logger;
    this.#procs = o.procs ?? procHostProcesses;
    this.#delays = o.retryDelaysMs ?? [250, 1000, 3000];
    this.#claimTtlMs = o.claimTtlMs ?? 60_000;
  }

  /** Number of live tickets (for tests and leak checks). */
  get liveTickets(): number {
    let n = 0;
    for (const s of this.#tickets.values()) n += s.size;
    return n;
  }

  /**
   * Takes a ticket for an exec of `cmd` in `containerId`; call before the streaming connection is made. Never
   * rejects: when the host's clock cannot be read or containerd has no Tasks service, the ticket does nothing.
   */
  async track(containerId: string, cmd: string[]): Promise<ExecTicket> {
    const inert: ExecTicket = { release: () => undefined, reap: () => Promise.resolve('unavailable') };
    if (this.#disabled) return inert;
    let since: number;
    try {
      since = await this.#procs.now();
    } catch (err) {
      this.#log.debug({ err: err instanceof Error ? err.message : String(err) }, 'cannot read the time since boot; exec not tracked');
      return inert;
    }
    let done = false;
    let reaping: Promise<ReapOutcome> | undefined;
    const t: Ticket = {
      containerId,
      cmd,
      since,
      release: () => {
        if (done) return;
        done = true;
        this.#drop(t);
      },
      reap: () => {
        if (done) return reaping ?? Promise.resolve('none');
        reaping ??= this.#reap(t);
        return reaping;
      },
    };
    let set = this.#tickets.get(containerId);
    if (set === undefined) this.#tickets.set(containerId, (set = new Set()));
    set.add(t);
    return t;
  }

  /** Stops background retries (no timer outlives the runtime). Idempotent. */
  close(): void {
    this.#stop.abort();
  }

  /** Marks an ExecSync in flight in `containerId`; call the returned function when it returns. */
  noteExecSync(containerId: string): () => void {
    this.#execSyncs.set(containerId, (this.#execSyncs.get(containerId) ?? 0) + 1);
    let once = false;
    return () => {
      if (once) return;
      once = true;
      const n = (this.#execSyncs.get(containerId) ?? 1) - 1;
      if (n <= 0) this.#execSyncs.delete(containerId);
      else this.#execSyncs.set(containerId, n);
    };
  }

  #drop(t: Ticket): void {
    const set = this.#tickets.get(t.containerId);
    set?.delete(t);
    if (set?.size === 0) this.#tickets.delete(t.containerId);
  }

  #unavailable(err: unknown): void {
    if (err instanceof TasksCallError && err.grpcCode === grpcStatus.UNIMPLEMENTED) {
      this.#disabled = true;
      this.#log.info({ err: err.message }, 'runtime has no containerd Tasks service: aborted execs are not killed by nodelet');
      return;
    }
    this.#log.debug({ err: err instanceof Error ? err.message : String(err) }, 'containerd Tasks call failed; exec not tracked');
  }

  async #reap(t: Ticket): Promise<ReapOutcome> {
    let first: ReapOutcome;
    try {
      first = await this.#attempt(t);
    } catch (err) {
      this.#unavailable(err);
      first = 'unavailable';
    }
    if (first !== 'none') {
      this.#drop(t);
      return first;
    }
    // Not there yet (or already gone): look again a few times in the background.
    void (async () => {
      try {
        for (const ms of this.#delays) {
          if (!(await this.#clock.sleep(ms, this.#stop.signal).then(() => true, () => false))) break;
          const r = await this.#attempt(t).catch(() => 'unavailable' as const);
          if (r !== 'none') break;
        }
      } finally {
        this.#drop(t);
      }
    })();
    return first;
  }

  /** One search for the ticket's process; kills it when found. */
  async #attempt(t: Ticket): Promise<ReapOutcome> {
    const now = this.#clock.monotonic();
    for (const [id, at] of this.#claimed) if (now - at > this.#claimTtlMs) this.#claimed.delete(id);
    const listed = (await this.#tasks.listExecs(t.containerId)).filter((p) => !this.#claimed.has(p.execId));
    const started = await Promise.all(listed.map((p) => this.#procs.startTicks(p.pid)));
    const startOf = new Map(listed.map((p, i) => [p.execId, started[i]]));
    const fresh = listed.filter((p) => (startOf.get(p.execId) ?? -1) >= t.since);
    if (fresh.length === 0) return 'none';
    const others = [...(this.#tickets.get(t.containerId) ?? [])].filter((o) => o !== t);
    const couldOwn = (o: Ticket, p: ExecProcess): boolean => (startOf.get(p.execId) ?? -1) >= o.since;
    const argv = await Promise.all(fresh.map((p) => this.#procs.cmdline(p.pid)));
    const same = fresh.filter((_p, i) => sameArgv(argv[i], t.cmd));
    let pick: ExecProcess | undefined;
    if (same.length > 0) {
      // Candidates running our command that no other live session with the same command could own (one whose
      // ticket is younger than the process cannot).
      const mine = same.filter((p) => !others.some((o) => couldOwn(o, p) && sameArgv(o.cmd, t.cmd)));
      if (mine.length !== 1) {
        this.#log.warn({ containerId: t.containerId, candidates: same.map((p) => p.execId) }, 'aborted exec: more than one process could be its own; none killed');
        return 'ambiguous';
      }
      pick = mine[0];
    } else if (fresh.length === 1 && !others.some((o) => couldOwn(o, fresh[0]!)) && (this.#execSyncs.get(t.containerId) ?? 0) === 0) {
      // Its command line changed (e.g. `sh -c 'exec …'`), but it is the only new exec and nobody else's.
      pick = fresh[0];
    }
    if (pick === undefined) return 'none';
    this.#claimed.set(pick.execId, this.#clock.monotonic());
    await this.#tasks.killExec(t.containerId, pick.execId, SIGKILL);
    this.#log.debug({ containerId: t.containerId, execId: pick.execId, pid: pick.pid }, 'killed the process of an aborted exec');
    return 'killed';
  }
}
