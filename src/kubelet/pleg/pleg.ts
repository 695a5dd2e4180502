/**
 * Pod lifecycle event generator: runtime events mark pods dirty at once (event-driven), and a periodic relist is the
 * safety net for lost events (upstream evented PLEG + generic PLEG). Handlers only mark dirty; the pod workers act.
 * Only `stopped`/`deleted` events wake a pod: `created`/`started` are the agent's own doing (its worker is syncing).
 */
import type { Logger } from 'pino';
import type { ContainerRuntime } from '../../cri/types.js';
import { LABELS } from '../../cri/types.js';
import type { Clock, TimerHandle } from '../../util/clock.js';
import { errorMessage } from '../../util/errors.js';

/** One relist's view: which pod UIDs have objects in the runtime, and a fingerprint of each. */
export interface RelistResult {
  /** podUID → fingerprint (ids and states of its sandboxes and containers). */
  pods: Map<string, string>;
  /** Labels of one object per pod UID (name, namespace) for orphans. */
  labels: Map<string, Record<string, string>>;
}

/** Options for {@link Pleg}. */
export interface PlegOptions {
  runtime: ContainerRuntime;
  clock: Clock;
  logger: Logger;
  /** Relist period (default 10 s; events make a short period unnecessary). */
  relistPeriodMs?: number;
  /** Only objects with these labels are this agent's (ownerLabels(nodeName)). */
  owner: Record<string, string>;
  /** A pod's runtime state changed. */
  onPodChanged(uid: string): void;
  /** Observes each relist's duration in seconds (kubelet_pleg_relist_duration_seconds). */
  observeRelist?(seconds: number): void;
  /** After every relist, with the complete view (orphan detection, GC). */
  onRelist?(result: RelistResult): void;
}

/** See module comment. */
export class Pleg {
  readonly #o: PlegOptions;
  readonly #owner = new Map<string, string>();
  #fingerprints = new Map<string, string>();
  #unsubscribe: (() => void) | undefined;
  #timer: TimerHandle | undefined;
  #soon: TimerHandle | undefined;
  #lastRelist = 0;
  #running: Promise<void> | undefined;
  #stopped = true;

  constructor(options: PlegOptions) {
    this.#o = options;
  }

  start(): void {
    this.#stopped = false;
    this.#unsubscribe = this.#o.runtime.subscribeEvents((e) => {
      // created/started come from the agent's own actions (the worker already knows); exits and removals do not.
      if (e.type === 'created' || e.type === 'started') return;
      const uid = this.#owner.get(e.containerId) ?? (e.podSandboxId !== '' ? this.#owner.get(e.podSandboxId) : undefined);
      if (uid !== undefined) this.#o.onPodChanged(uid);
      else void this.#lookup(e.containerId, e.isSandbox);
    });
    void this.relist();
  }

  stop(): void {
    this.#stopped = true;
    this.#unsubscribe?.();
    if (this.#timer !== undefined) this.#o.clock.clearTimeout(this.#timer);
    if (this.#soon !== undefined) this.#o.clock.clearTimeout(this.#soon);
  }

  /** Healthy when a relist succeeded within 3 minutes (upstream relistThreshold). */
  healthy(): boolean | string {
    if (this.#lastRelist === 0) return 'PLEG has not relisted yet';
    const age = this.#o.clock.monotonic() - this.#lastRelist;
    return age <= 180_000 ? true : `PLEG is not healthy: pleg was last seen active ${Math.round(age / 1000)}s ago`;
  }

  /** Remembers that `id` (container or sandbox) belongs to pod `uid`, so its events are routed without a relist. */
  track(id: string, uid: string): void {
    this.#owner.set(id, uid);
  }

  /** Routes an event for an id not seen yet (e.g. a container that exited while being started) by its labels. */
  async #lookup(id: string, isSandbox: boolean): Promise<void> {
    try {
      const { runtime } = this.#o;
      const labels = isSandbox ? (await runtime.podSandboxStatus(id)).labels : (await runtime.containerStatus(id)).labels;
      const uid = labels[LABELS.podUID];
      if (uid === undefined || Object.entries(this.#o.owner).some(([k, v]) => labels[k] !== v)) return;
      this.#owner.set(id, uid);
      this.#o.onPodChanged(uid);
    } catch {
      this.#relistSoon();
    }
  }

  #relistSoon(): void {
    if (this.#stopped || this.#soon !== undefined) return;
    this.#soon = this.#o.clock.setTimeout(() => {
      this.#soon = undefined;
      void this.relist();
    }, 50);
  }

  /** Lists the runtime once and reports changed pods. Concurrent calls share one relist. */
  async relist(): Promise<void> {
    this.#running ??= this.#relistOnce().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #relistOnce(): Promise<void> {
    const { runtime, logger } = this.#o;
    const started = this.#o.clock.monotonic();
    try {
      const sel = { labelSelector: this.#o.owner };
      const [sandboxes, containers] = await Promise.all([runtime.listPodSandboxes(sel), runtime.listContainers(sel)]);
      const parts = new Map<string, string[]>();
      const labels = new Map<string, Record<string, string>>();
      const owner = new Map<string, string>();
      const add = (id: string, l: Record<string, string>, what: string): void => {
        const uid = l[LABELS.podUID];
        if (uid === undefined) return;
        owner.set(id, uid);
        const list = parts.get(uid) ?? [];
        list.push(what);
        parts.set(uid, list);
        if (!labels.has(uid)) labels.set(uid, l);
      };
      for (const s of sandboxes) add(s.id, s.labels, `s:${s.id}:${s.state}`);
      for (const c of containers) add(c.id, c.labels, `c:${c.id}:${c.state}`);
      const next = new Map<string, string>();
      for (const [uid, list] of parts) next.set(uid, list.sort().join(','));
      for (const [id, uid] of owner) this.#owner.set(id, uid);
      for (const id of this.#owner.keys()) if (!owner.has(id)) this.#owner.delete(id);
      const changed = new Set<string>();
      for (const [uid, fp] of next) if (this.#fingerprints.get(uid) !== fp) changed.add(uid);
      for (const uid of this.#fingerprints.keys()) if (!next.has(uid)) changed.add(uid);
      this.#fingerprints = next;
      this.#lastRelist = this.#o.clock.monotonic();
      this.#o.observeRelist?.((this.#lastRelist - started) / 1000);
      for (const uid of changed) this.#o.onPodChanged(uid);
      this.#o.onRelist?.({ pods: next, labels });
    } catch (err) {
      logger.warn({ err: errorMessage(err) }, 'PLEG relist failed');
    }
    if (this.#stopped) return;
    if (this.#timer !== undefined) this.#o.clock.clearTimeout(this.#timer);
    this.#timer = this.#o.clock.setTimeout(() => void this.relist(), this.#o.relistPeriodMs ?? 10_000);
  }
}
