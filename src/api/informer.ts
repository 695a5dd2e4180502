import type { KubeConfig } from './kubeconfig.js';
import { Backoff, RealClock, errorMessage, type Clock, type Logger } from '../util/index.js';
import { ApiClient, ApiStatusError, isGone, type ApiStatus, type ApiTransport } from './client.js';
import { InformerCache } from './informer-cache.js';
import type { Informer, InformerHandlers, InformerOptions, KubeObject } from './types.js';

/** Optional collaborators of {@link createInformer} (tests inject a client or clock). */
export interface InformerDeps<T = unknown> {
  client?: ApiTransport;
  clock?: Clock;
  /** Page size of lists (default 500, as kubectl and client-go). */
  pageSize?: number;
  /** Backoff after errors (default 800 ms doubling to 30 s, like client-go's reflector). */
  backoff?: { initialMs: number; maxMs: number };
  /** Server-side watch timeout range in seconds (default 300–600, like client-go). */
  watchTimeoutSeconds?: [number, number];
  /**
   * Applied to every listed or watched object before it is cached and delivered (client-go's SetTransform), e.g. to
   * drop fields the consumer never reads. Must keep metadata name, namespace, uid and resourceVersion.
   */
  transform?: (obj: T) => T;
}

interface ListBody<T> {
  kind?: string;
  apiVersion?: string;
  metadata?: { resourceVersion?: string; continue?: string };
  items?: T[];
}

interface WatchLine<T> {
  type?: string;
  object?: T & ApiStatus;
}

class ListWatchInformer<T extends KubeObject> implements Informer<T> {
  readonly #opts: InformerOptions;
  readonly #log: Logger;
  readonly #client: ApiTransport;
  readonly #clock: Clock;
  readonly #deps: InformerDeps<T>;
  readonly #cache: InformerCache<T>;
  readonly #backoff: Backoff;
  #abort: AbortController | undefined;
  #rv = '';

  constructor(client: ApiTransport, opts: InformerOptions, log: Logger, deps: InformerDeps<T>) {
    this.#opts = opts;
    this.#client = client;
    this.#log = log.child({ component: 'informer', path: opts.path, fieldSelector: opts.fieldSelector, labelSelector: opts.labelSelector });
    this.#clock = deps.clock ?? new RealClock();
    this.#deps = deps;
    this.#cache = new InformerCache<T>(this.#log);
    const b = deps.backoff ?? { initialMs: 800, maxMs: 30_000 };
    this.#backoff = new Backoff({ initialMs: b.initialMs, maxMs: b.maxMs, resetAfterMs: b.maxMs * 2 });
  }

  start(): void {
    if (this.#abort !== undefined) return;
    const ac = new AbortController();
    this.#abort = ac;
    void this.#run(ac.signal);
  }

  stop(): void {
    this.#abort?.abort(new Error('informer stopped'));
    this.#abort = undefined;
  }

  #transform(obj: T): T {
    return this.#deps.transform === undefined ? obj : this.#deps.transform(obj);
  }

  hasSynced(): boolean {
    return this.#cache.synced;
  }

  waitForSync(signal?: AbortSignal): Promise<void> {
    return this.#cache.waitForSync(signal);
  }

  list(): T[] {
    return this.#cache.list();
  }

  get(key: string): T | undefined {
    return this.#cache.get(key);
  }

  addHandlers(handlers: InformerHandlers<T>): () => void {
    return this.#cache.addHandlers(handlers);
  }

  /** The loop: list once (and after every 410), watch from the last resourceVersion, back off on errors. */
  async #run(signal: AbortSignal): Promise<void> {
    let needList = true;
    while (!signal.aborted) {
      try {
        if (needList) {
          await this.#relist(signal);
          needList = false;
        }
        const t0 = this.#clock.monotonic();
        const events = await this.#watch(signal);
        // A watch that ends at once without events (server closing immediately) must not spin.
        if (events === 0 && this.#clock.monotonic() - t0 < 1000 && !signal.aborted) {
          await this.#clock.sleep(this.#backoff.next('watch', this.#clock.now()), signal);
        }
      } catch (err) {
        if (signal.aborted) break;
        if (isGone(err)) {
          this.#log.info({ resourceVersion: this.#rv }, 'watch resourceVersion expired; relisting');
          needList = true;
          continue;
        }
        const delay = this.#backoff.next('error', this.#clock.now());
        this.#log.warn({ err: errorMessage(err), delayMs: delay, relist: needList }, 'list/watch failed; retrying');
        try {
          await this.#clock.sleep(delay, signal);
        } catch {
          break;
        }
      }
    }
  }

  async #relist(signal: AbortSignal): Promise<void> {
    const items: T[] = [];
    let cont: string | undefined;
    let rv = '';
    while (!signal.aborted) {
      let page: ListBody<T>;
      try {
        page = await this.#client.request<ListBody<T>>({
          path: this.#opts.path,
          query: { fieldSelector: this.#opts.fieldSelector, labelSelector: this.#opts.labelSelector, limit: this.#deps.pageSize ?? 500, continue: cont },
          signal,
        });
      } catch (err) {
        if (cont !== undefined && isGone(err)) {
          // The continue token expired mid-pagination: start the list over.
          items.length = 0;
          cont = undefined;
          continue;
        }
        throw err;
      }
      const kind = page.kind?.replace(/List$/, '');
      for (const it of page.items ?? []) items.push(this.#transform({ ...it, kind: it.kind ?? kind, apiVersion: it.apiVersion ?? page.apiVersion } as T));
      // The first page's resourceVersion is the list's snapshot; later pages carry the same one.
      rv = page.metadata?.resourceVersion ?? rv;
      cont = page.metadata?.continue || undefined;
      if (cont === undefined) break;
    }
    if (signal.aborted) return;
    this.#rv = rv;
    this.#cache.replace(items);
    this.#backoff.reset('error');
    this.#log.debug({ count: items.length, resourceVersion: rv }, 'listed');
  }

  /** One watch request; returns how many events it delivered. Throws on ERROR events (410 → relist). */
  async #watch(signal: AbortSignal): Promise<number> {
    const [lo, hi] = this.#deps.watchTimeoutSeconds ?? [300, 600];
    const timeoutSeconds = Math.floor(lo + Math.random() * (hi - lo));
    const local = new AbortController();
    const onAbort = (): void => local.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    let failure: unknown;
    let count = 0;
    try {
      await this.#client.stream(
        {
          path: this.#opts.path,
          query: {
            watch: 'true',
            resourceVersion: this.#rv,
            allowWatchBookmarks: this.#opts.allowWatchBookmarks ?? true,
            timeoutSeconds,
            fieldSelector: this.#opts.fieldSelector,
            labelSelector: this.#opts.labelSelector,
          },
          signal: local.signal,
        },
        (line) => {
          // Lines already buffered when the watch is aborted or failed are dropped: after stop() nothing is delivered.
          if (failure !== undefined || local.signal.aborted) return;
          try {
            if (this.#handle(line as WatchLine<T>)) count++;
          } catch (err) {
            failure = err;
            local.abort();
          }
        },
        (timeoutSeconds + 30) * 1000,
      );
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
    if (failure !== undefined) throw failure;
    if (count > 0) {
      this.#backoff.reset('watch');
      this.#backoff.reset('error');
    }
    return count;
  }

  /** Applies one watch event; true when it was an object event. */
  #handle(ev: WatchLine<T>): boolean {
    const obj = ev.object;
    if (ev.type === 'ERROR') throw new ApiStatusError(obj?.code ?? 500, obj, `watch ${this.#opts.path}`);
    const rv = obj?.metadata?.resourceVersion;
    if (obj === undefined || rv === undefined) return false;
    if (ev.type === 'BOOKMARK') {
      this.#rv = rv;
      return false;
    }
    this.#cache.apply(ev.type ?? '', this.#transform(obj));
    this.#rv = rv;
    return true;
  }
}

/**
 * Creates a list+watch informer over a collection path (with optional field/label selectors). See the Informer
 * contract in ./types.ts. The informer does nothing until `start()`; after `stop()` a new `start()` relists and
 * delivers the difference. Cached objects are the server's JSON as sent (timestamps are RFC 3339 strings, not `Date`s as in
 * client-node's typed classes); listed items get `kind`/`apiVersion` filled in from the list. Handlers run
 * synchronously on the informer's loop: they must only record and mark dirty.
 */
export function createInformer<T extends KubeObject>(kc: KubeConfig, options: InformerOptions, logger: Logger, deps: InformerDeps<T> = {}): Informer<T> {
  return new ListWatchInformer<T>(deps.client ?? new ApiClient(kc), options, logger, deps);
}
