/**
 * One serialized worker per pod UID (upstream pod_workers.go, reduced): `update()` records the newest desired pod
 * (latest wins; intermediate versions are never synced) and runs the worker loop if idle. The loop calls the step
 * for the current phase; steps never overlap for one UID. Who may touch what: only the loop changes `phase`; only
 * `update()`/`schedule()` change `pending`.
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../../util/clock.js';
import { errorFields, errorMessage } from '../../util/errors.js';
import { transition, type WorkerPhase } from './phases.js';

/** What the steps return. */
export interface StepResult {
  /** Move to the next phase now (sync → terminating, terminating → terminated). */
  advance?: boolean;
  /** Run the step again after this many ms (same phase), unless an update comes first. */
  requeueAfterMs?: number;
}

/** The steps a worker runs; each may throw (logged once, retried after `errorRetryMs`). */
export interface WorkerSteps {
  sync(pod: V1Pod, removed: boolean): Promise<StepResult>;
  terminating(pod: V1Pod, removed: boolean): Promise<StepResult>;
  terminated(pod: V1Pod, removed: boolean): Promise<StepResult>;
  /** Called after a removed pod's terminated step succeeded; the worker is forgotten afterwards. */
  forgotten?(uid: string): void;
}

/** Options for {@link PodWorkers}. */
export interface PodWorkersOptions {
  steps: WorkerSteps;
  clock: Clock;
  logger: Logger;
  /** Retry delay after a step threw (default 10 s, upstream backOffPeriod). */
  errorRetryMs?: number;
}

interface Worker {
  uid: string;
  phase: WorkerPhase;
  pod: V1Pod;
  removed: boolean;
  pending: boolean;
  running: Promise<void> | undefined;
  timer: TimerHandle | undefined;
  lastError: string | undefined;
}

/** See module comment. */
export class PodWorkers {
  readonly #o: PodWorkersOptions;
  readonly #workers = new Map<string, Worker>();
  #stopped = false;

  constructor(options: PodWorkersOptions) {
    this.#o = options;
  }

  /**
   * Records the newest version of the pod (`removed`: no longer desired) and makes the worker run. A removed pod is
   * terminated; an update after removal of the same UID is ignored until the worker is forgotten.
   */
  update(pod: V1Pod, removed = false): void {
    const uid = pod.metadata?.uid ?? '';
    if (this.#stopped || uid === '') return;
    let w = this.#workers.get(uid);
    if (w === undefined) {
      w = { uid, phase: 'sync', pod, removed, pending: false, running: undefined, timer: undefined, lastError: undefined };
      this.#workers.set(uid, w);
    }
    if (w.removed && !removed) return;
    w.pod = pod;
    w.removed = w.removed || removed;
    this.#kick(w);
  }

  /** Re-runs the worker of `uid` with its last pod (e.g. after a runtime event). No-op for unknown UIDs. */
  resync(uid: string): void {
    const w = this.#workers.get(uid);
    if (w !== undefined) this.#kick(w);
  }

  /** Phase of the worker of `uid`, or undefined. */
  phase(uid: string): WorkerPhase | undefined {
    return this.#workers.get(uid)?.phase;
  }

  /** UIDs with a worker. */
  uids(): string[] {
    return [...this.#workers.keys()];
  }

  /** The last pod given for `uid`. */
  pod(uid: string): V1Pod | undefined {
    return this.#workers.get(uid)?.pod;
  }

  /** Resolves when no worker is running and none has pending work (tests, shutdown). */
  async settled(): Promise<void> {
    for (;;) {
      const running = [...this.#workers.values()].map((w) => w.running).filter((p) => p !== undefined);
      if (running.length === 0) return;
      await Promise.all(running);
    }
  }

  /**
   * Stops scheduling new steps. Steps in flight are not awaited (a preStop or grace period may take minutes); they
   * finish in the background and a restarted agent resumes from the runtime state.
   */
  stop(): void {
    this.#stopped = true;
    for (const w of this.#workers.values()) if (w.timer !== undefined) this.#o.clock.clearTimeout(w.timer);
  }

  #kick(w: Worker): void {
    if (this.#stopped) return;
    w.pending = true;
    if (w.timer !== undefined) {
      this.#o.clock.clearTimeout(w.timer);
      w.timer = undefined;
    }
    if (w.running === undefined) {
      w.running = this.#loop(w).finally(() => {
        w.running = undefined;
        // An update that came after the loop's last check but before this callback only set `pending`: run it now,
        // or it would wait for the next resync (a removal would never get its cleanup step).
        if (w.pending && this.#workers.get(w.uid) === w) this.#kick(w);
      });
    }
  }

  #schedule(w: Worker, ms: number): void {
    if (this.#stopped) return;
    if (w.timer !== undefined) this.#o.clock.clearTimeout(w.timer);
    w.timer = this.#o.clock.setTimeout(() => {
      w.timer = undefined;
      this.#kick(w);
    }, Math.max(0, ms));
  }

  async #loop(w: Worker): Promise<void> {
    while (w.pending && !this.#stopped) {
      w.pending = false;
      const log = this.#o.logger.child({ podUID: w.uid, pod: `${w.pod.metadata?.namespace}/${w.pod.metadata?.name}` });
      let requeue: number | undefined;
      try {
        for (;;) {
          const phase = w.phase;
          const step = this.#o.steps[phase].bind(this.#o.steps);
          // The value the step saw: a removal arriving while it runs must get its own terminated step (cleanup).
          const removed = w.removed;
          const res = await step(w.pod, removed);
          w.lastError = undefined;
          if (res.advance === true && phase !== 'terminated') {
            w.phase = transition(phase, phase === 'sync' ? 'terminating' : 'terminated');
            log.info({ phase: w.phase }, 'pod worker phase changed');
            continue;
          }
          requeue = res.requeueAfterMs;
          if (phase === 'terminated' && removed) {
            this.#workers.delete(w.uid);
            this.#o.steps.forgotten?.(w.uid);
            return;
          }
          break;
        }
      } catch (err) {
        const msg = errorMessage(err);
        if (msg !== w.lastError) log.warn({ phase: w.phase, ...errorFields(err) }, 'pod worker step failed; will retry');
        w.lastError = msg;
        requeue = this.#o.errorRetryMs ?? 10_000;
      }
      if (!w.pending && requeue !== undefined) this.#schedule(w, requeue);
    }
  }
}
