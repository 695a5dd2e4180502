/** A minimal in-memory Informer for tests: `set`/`remove` deliver events to handlers; `start` marks it synced. */
import type { Informer, InformerHandlers, KubeObject } from '../../api/types.js';
import { objectKey } from '../../api/types.js';

/** See the file comment. */
export class FakeInformer<T extends KubeObject> implements Informer<T> {
  readonly #items = new Map<string, T>();
  readonly #handlers = new Set<InformerHandlers<T>>();
  #synced = false;

  constructor(initial: T[] = []) {
    for (const o of initial) this.#items.set(objectKey(o), o);
  }

  start(): void {
    if (this.#synced) return;
    this.#synced = true;
    for (const h of this.#handlers) h.onSynced?.();
  }

  stop(): void {}

  hasSynced(): boolean {
    return this.#synced;
  }

  waitForSync(): Promise<void> {
    return Promise.resolve();
  }

  list(): T[] {
    return [...this.#items.values()];
  }

  get(key: string): T | undefined {
    return this.#items.get(key);
  }

  addHandlers(handlers: InformerHandlers<T>): () => void {
    this.#handlers.add(handlers);
    for (const o of this.#items.values()) handlers.onAdd?.(o);
    return () => this.#handlers.delete(handlers);
  }

  /** Adds or replaces an object. */
  set(obj: T): void {
    const key = objectKey(obj);
    const old = this.#items.get(key);
    this.#items.set(key, obj);
    for (const h of this.#handlers) {
      if (old === undefined) h.onAdd?.(obj);
      else h.onUpdate?.(old, obj);
    }
  }

  /** Deletes an object. */
  remove(key: string): void {
    const old = this.#items.get(key);
    if (old === undefined) return;
    this.#items.delete(key);
    for (const h of this.#handlers) h.onDelete?.(old);
  }
}
