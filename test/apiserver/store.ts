import { gone } from './status.js';
import { clone, meta, type JsonObject } from './json.js';

/** A change as watchers see it. `prev` is the object before the change (for selector transitions). */
export interface StoreEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  rv: number;
  /** Storage key of the resource type (`pods`, `leases.coordination.k8s.io`). */
  resource: string;
  object: JsonObject;
  prev: JsonObject | undefined;
}

/** Options of {@link Store}. */
export interface StoreOptions {
  /** How many events are kept for watches that resume from an older resourceVersion (default 2000). */
  historySize?: number;
}

type Listener = (e: StoreEvent) => void;

/**
 * In-memory storage with one global, monotonically increasing resourceVersion (like etcd's revision) and a bounded
 * event history. A watch from a resourceVersion older than the history gets 410 Gone, as after an etcd compaction.
 * Single-threaded: every method runs to completion, so a list and a subscribe in the same tick see one consistent state.
 */
export class Store {
  #rv = 100;
  /** Every event with rv > #compacted is still in #history. */
  #compacted = 100;
  readonly #data = new Map<string, Map<string, JsonObject>>();
  readonly #history: StoreEvent[] = [];
  readonly #historySize: number;
  readonly #listeners = new Set<{ resource: string; fn: Listener }>();

  constructor(options: StoreOptions = {}) {
    this.#historySize = options.historySize ?? 2000;
  }

  /** The latest resourceVersion handed out. */
  currentRv(): number {
    return this.#rv;
  }

  /** The oldest resourceVersion a watch may still start from. */
  oldestRv(): number {
    return this.#compacted;
  }

  #bucket(resource: string): Map<string, JsonObject> {
    let b = this.#data.get(resource);
    if (b === undefined) {
      b = new Map();
      this.#data.set(resource, b);
    }
    return b;
  }

  /** A copy of the stored object, or undefined. */
  get(resource: string, id: string): JsonObject | undefined {
    const o = this.#data.get(resource)?.get(id);
    return o === undefined ? undefined : clone(o);
  }

  /** Copies of all objects of a type (optionally one namespace), sorted by namespace then name like etcd keys. */
  list(resource: string, namespace?: string): JsonObject[] {
    const out: JsonObject[] = [];
    const b = this.#data.get(resource);
    if (b === undefined) return out;
    const ids = [...b.keys()].sort();
    for (const id of ids) {
      const o = b.get(id)!;
      if (namespace !== undefined && meta(o).namespace !== namespace) continue;
      out.push(clone(o));
    }
    return out;
  }

  /** Stores `obj` under `id` with a new resourceVersion; returns the stored copy. */
  put(resource: string, id: string, obj: JsonObject): JsonObject {
    const b = this.#bucket(resource);
    const prev = b.get(id);
    const rv = ++this.#rv;
    const stored = clone(obj);
    meta(stored).resourceVersion = String(rv);
    b.set(id, stored);
    this.#emit({ type: prev === undefined ? 'ADDED' : 'MODIFIED', rv, resource, object: stored, prev });
    return clone(stored);
  }

  /** Removes `id`; the DELETED event carries the object with the deletion's resourceVersion. */
  remove(resource: string, id: string): JsonObject | undefined {
    const b = this.#data.get(resource);
    const prev = b?.get(id);
    if (b === undefined || prev === undefined) return undefined;
    b.delete(id);
    const rv = ++this.#rv;
    const gone = clone(prev);
    meta(gone).resourceVersion = String(rv);
    this.#emit({ type: 'DELETED', rv, resource, object: gone, prev });
    return clone(gone);
  }

  #emit(e: StoreEvent): void {
    this.#history.push(e);
    while (this.#history.length > this.#historySize) this.#compacted = this.#history.shift()!.rv;
    for (const l of [...this.#listeners]) if (l.resource === e.resource) l.fn(e);
  }

  /**
   * Subscribes to changes of one resource type after `fromRv`. Returns the backlog (events with rv > fromRv) and
   * an unsubscribe function. Throws 410 Gone when `fromRv` is older than the retained history.
   */
  subscribe(resource: string, fromRv: number, fn: Listener): { backlog: StoreEvent[]; unsubscribe: () => void } {
    if (fromRv < this.#compacted) throw gone(String(fromRv), this.#compacted);
    const backlog = this.#history.filter((e) => e.resource === resource && e.rv > fromRv);
    const entry = { resource, fn };
    this.#listeners.add(entry);
    return { backlog, unsubscribe: () => this.#listeners.delete(entry) };
  }

  /** Forgets all history, as an etcd compaction at the current revision does: older watches get 410. */
  compact(): void {
    this.#history.length = 0;
    this.#compacted = this.#rv;
  }
}
