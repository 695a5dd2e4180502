/**
 * Container events for CRI runtimes without an event stream (CRI GetContainerEvents needs containerd 1.7+): the
 * tracker diffs periodic ListPodSandbox/ListContainers results (like upstream's generic PLEG) and is also told about
 * the runtime's own successful calls, so events for objects that come and go between two polls are not lost.
 * Missing steps are filled in order (an object first seen running yields `created` then `started`; one that vanished
 * while running yields `stopped` then `deleted`). Pure state machine plus a timer loop: tests call `step()` directly.
 */
import { RealClock, type Clock, type Logger, type TimerHandle } from '../../util/index.js';
import type { ContainerEvent } from '../types.js';

/** Lifecycle position of an object: 0 created, 1 running/ready, 2 exited/notready. */
export type Phase = 0 | 1 | 2;

/** One object as listed. */
export interface ListedObject {
  id: string;
  podSandboxId: string;
  isSandbox: boolean;
  phase: Phase;
}

/** Options for {@link EventTracker}. */
export interface EventTrackerOptions {
  /** Lists every sandbox and container (no filter). */
  list: () => Promise<ListedObject[]>;
  onEvent: (e: ContainerEvent) => void;
  logger: Logger;
  clock?: Clock;
  /** Poll period (default 1000 ms, upstream generic PLEG's relist period). */
  intervalMs?: number;
}

interface Known {
  podSandboxId: string;
  isSandbox: boolean;
  phase: Phase;
  /** Change counter value when this entry was last updated by a local report. */
  seq: number;
}

const TYPES: ContainerEvent['type'][] = ['created', 'started', 'stopped'];
const TOMBSTONE_MS = 120_000;

/** See module comment. Not concurrent-safe across processes; one tracker per runtime instance. */
export class EventTracker {
  readonly #o: EventTrackerOptions;
  readonly #clock: Clock;
  readonly #known = new Map<string, Known>();
  /** Deleted ids → when, so a poll that started before the deletion does not resurrect them. */
  readonly #gone = new Map<string, number>();
  #seq = 0;
  #primed = false;
  #timer: TimerHandle | undefined;
  #running = false;
  #stepping: Promise<void> | undefined;

  constructor(options: EventTrackerOptions) {
    this.#o = options;
    this.#clock = options.clock ?? new RealClock();
  }

  /** Starts polling (idempotent). The first poll only learns the current state. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#schedule(0);
  }

  /** Stops polling and forgets everything (idempotent). */
  stop(): void {
    this.#running = false;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#known.clear();
    this.#gone.clear();
    this.#primed = false;
  }

  /** Reports that the runtime itself moved `id` to `phase` (or deleted it: `phase` = 'deleted'). */
  report(obj: Omit<ListedObject, 'phase'> & { phase: Phase | 'deleted' }): void {
    if (!this.#running) return;
    this.#seq++;
    if (obj.phase === 'deleted') this.#delete(obj.id);
    else this.#advance({ ...obj, phase: obj.phase }, this.#seq);
  }

  /** Containers of sandbox `id` the tracker knows (for cascading deletes). */
  containersOf(sandboxId: string): string[] {
    return [...this.#known].filter(([, k]) => !k.isSandbox && k.podSandboxId === sandboxId).map(([id]) => id);
  }

  /** One poll: lists and emits the differences. Concurrent calls share one poll. */
  step(): Promise<void> {
    this.#stepping ??= this.#stepOnce().finally(() => {
      this.#stepping = undefined;
    });
    return this.#stepping;
  }

  async #stepOnce(): Promise<void> {
    const startSeq = this.#seq;
    const listed = await this.#o.list();
    const now = this.#clock.now();
    for (const [id, at] of this.#gone) if (now - at > TOMBSTONE_MS) this.#gone.delete(id);
    const seen = new Set<string>();
    for (const obj of listed) {
      seen.add(obj.id);
      if (this.#gone.has(obj.id)) continue;
      const k = this.#known.get(obj.id);
      if (k !== undefined && k.seq > startSeq) continue; // reported after the list was taken: newer than it
      if (!this.#primed) this.#known.set(obj.id, { podSandboxId: obj.podSandboxId, isSandbox: obj.isSandbox, phase: obj.phase, seq: 0 });
      else this.#advance(obj, 0);
    }
    if (this.#primed) {
      for (const [id, k] of [...this.#known]) if (!seen.has(id) && k.seq <= startSeq) this.#delete(id);
    }
    this.#primed = true;
  }

  #advance(obj: ListedObject, seq: number): void {
    const k = this.#known.get(obj.id);
    const from = k === undefined ? -1 : k.phase;
    if (k !== undefined && obj.phase <= k.phase) {
      if (seq > 0) k.seq = seq;
      return;
    }
    this.#known.set(obj.id, { podSandboxId: obj.podSandboxId, isSandbox: obj.isSandbox, phase: obj.phase, seq });
    for (let p = from + 1; p <= obj.phase; p++) this.#emit(TYPES[p] ?? 'stopped', obj.id, obj.podSandboxId, obj.isSandbox);
  }

  #delete(id: string): void {
    this.#gone.set(id, this.#clock.now());
    const k = this.#known.get(id);
    if (k === undefined) return;
    this.#known.delete(id);
    if (k.phase === 1) this.#emit('stopped', id, k.podSandboxId, k.isSandbox);
    this.#emit('deleted', id, k.podSandboxId, k.isSandbox);
  }

  #emit(type: ContainerEvent['type'], containerId: string, podSandboxId: string, isSandbox: boolean): void {
    this.#o.onEvent({ type, containerId, podSandboxId, isSandbox, at: this.#clock.now() });
  }

  #schedule(ms: number): void {
    this.#timer = this.#clock.setTimeout(() => {
      if (!this.#running) return;
      this.step()
        .catch((err: unknown) => this.#o.logger.debug({ err }, 'CRI event poll failed; retrying'))
        .finally(() => {
          if (this.#running) this.#schedule(this.#o.intervalMs ?? 1000);
        });
    }, ms);
  }
}
