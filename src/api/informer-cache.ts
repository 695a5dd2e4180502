import type { Logger } from '../util/index.js';
import { errorMessage } from '../util/index.js';
import { objectKey, type InformerHandlers, type KubeObject } from './types.js';

/**
 * The informer's store and handler fan-out. `replace` (after a list) delivers the difference to the previous
 * contents as add/update/delete; `apply` delivers one watch event. Objects with an unchanged resourceVersion are not
 * re-delivered, so a relist never duplicates events. Handlers that throw are logged and skipped.
 */
export class InformerCache<T extends KubeObject> {
  readonly #items = new Map<string, T>();
  readonly #handlers = new Set<InformerHandlers<T>>();
  readonly #log: Logger;
  readonly #waiters: (() => void)[] = [];
  synced = false;

  constructor(log: Logger) {
    this.#log = log;
  }

  list(): T[] {
    return [...this.#items.values()];
  }

  get(key: string): T | undefined {
    return this.#items.get(key);
  }

  #call(fn: (h: InformerHandlers<T>) => void): void {
    for (const h of [...this.#handlers]) {
      try {
        fn(h);
      } catch (err) {
        this.#log.error({ err: errorMessage(err) }, 'informer handler threw');
      }
    }
  }

  /** Replaces the contents with a fresh list and marks the cache synced. */
  replace(items: T[]): void {
    const fresh = new Map(items.map((o) => [objectKey(o), o] as const));
    for (const [key, old] of [...this.#items]) {
      if (!fresh.has(key)) {
        this.#items.delete(key);
        this.#call((h) => h.onDelete?.(old));
      }
    }
    for (const [key, obj] of fresh) {
      const old = this.#items.get(key);
      this.#items.set(key, obj);
      if (old === undefined) this.#call((h) => h.onAdd?.(obj));
      else if (old.metadata?.resourceVersion !== obj.metadata?.resourceVersion || old.metadata?.uid !== obj.metadata?.uid) {
        this.#call((h) => h.onUpdate?.(old, obj));
      }
    }
    this.synced = true;
    this.#call((h) => h.onSynced?.());
    for (const w of this.#waiters.splice(0)) w();
  }

  /** Applies one watch event (ADDED / MODIFIED / DELETED). */
  apply(type: string, obj: T): void {
    const key = objectKey(obj);
    const old = this.#items.get(key);
    if (type === 'DELETED') {
      if (old === undefined) return;
      this.#items.delete(key);
      this.#call((h) => h.onDelete?.(obj));
      return;
    }
    if (type !== 'ADDED' && type !== 'MODIFIED') return;
    if (old !== undefined && old.metadata?.resourceVersion === obj.metadata?.resourceVersion) return;
    this.#items.set(key, obj);
    if (old === undefined) this.#call((h) => h.onAdd?.(obj));
    else this.#call((h) => h.onUpdate?.(old, obj));
  }

  /** Adds handlers, replays current objects as onAdd (and onSynced when already synced). */
  addHandlers(handlers: InformerHandlers<T>): () => void {
    this.#handlers.add(handlers);
    for (const o of this.#items.values()) {
      try {
        handlers.onAdd?.(o);
      } catch (err) {
        this.#log.error({ err: errorMessage(err) }, 'informer handler threw');
      }
    }
    if (this.synced) handlers.onSynced?.();
    return () => {
      this.#handlers.delete(handlers);
    };
  }

  waitForSync(signal?: AbortSignal): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const onAbort = (): void => reject(signal?.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      });
    });
  }
}
