import type { Store } from '../store.js';

/**
 * A level-triggered controller loop: store events of the watched resource types only mark it dirty; one `sync`
 * runs on the next macrotask and recomputes everything. Errors are swallowed (the next event retries), like a
 * controller that requeues.
 */
export class ControllerLoop {
  readonly #unsubs: (() => void)[] = [];
  #scheduled = false;
  #stopped = false;
  readonly #sync: () => void;

  constructor(store: Store, resources: string[], sync: () => void) {
    this.#sync = sync;
    for (const r of resources) {
      const { unsubscribe } = store.subscribe(r, store.currentRv(), () => this.kick());
      this.#unsubs.push(unsubscribe);
    }
  }

  /** Schedules one sync (coalesced). */
  kick(): void {
    if (this.#scheduled || this.#stopped) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      if (this.#stopped) return;
      try {
        this.#sync();
      } catch {
        // a failed sync is retried by the next event
      }
    });
  }

  /** Stops listening. */
  stop(): void {
    this.#stopped = true;
    for (const u of this.#unsubs) u();
  }
}
