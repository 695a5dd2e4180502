/**
 * Times pods through ONE watch on the namespace (event-driven, no polling): for every tracked pod, the moment
 * (performance.now() in this process) its create call was made, and the first watch event that showed it with
 * phase Running and with condition Ready=True.
 */
import { ApiClient, loadKubeConfig } from '../../src/api/index.js';

interface PodObject {
  metadata?: { name?: string; resourceVersion?: string };
  status?: { phase?: string; conditions?: { type: string; status: string }[] };
}

/** Times of one pod, all in ms of performance.now(). */
export interface PodTimes {
  created: number;
  /** When the create call returned. */
  createReturned?: number;
  running?: number;
  ready?: number;
}

/** Watches a namespace's pods and records when each tracked pod got Running and Ready. */
export class PodWatch {
  readonly #api: ApiClient;
  readonly #path: string;
  readonly #times = new Map<string, PodTimes>();
  readonly #waiters = new Map<string, () => void>();
  readonly #ac = new AbortController();
  #rv = '';
  #loop: Promise<void> | undefined;
  #readySeen = new Set<string>();
  #runningSeen = new Set<string>();

  /** Uses its own client (own connections) from `kubeconfigPath`. */
  constructor(kubeconfigPath: string, namespace: string) {
    this.#api = new ApiClient(loadKubeConfig(kubeconfigPath));
    this.#path = `/api/v1/namespaces/${namespace}/pods`;
  }

  /** Starts the watch from the current state; resolves once the initial list has been taken. */
  async start(): Promise<void> {
    const l = await this.#api.request<{ metadata: { resourceVersion: string } }>({ path: this.#path });
    this.#rv = l.metadata.resourceVersion;
    this.#loop = this.#run();
  }

  async #run(): Promise<void> {
    while (!this.#ac.signal.aborted) {
      try {
        await this.#api.stream(
          { path: this.#path, query: { watch: 'true', resourceVersion: this.#rv, allowWatchBookmarks: true, timeoutSeconds: 1800 }, signal: this.#ac.signal },
          (line) => this.#onEvent(line as { type: string; object: PodObject }),
          120_000,
        );
      } catch (err) {
        if (this.#ac.signal.aborted) return;
        console.error(`pod watch: ${(err as Error).message}; re-watching`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  #onEvent(ev: { type: string; object: PodObject }): void {
    const now = performance.now();
    const rv = ev.object.metadata?.resourceVersion;
    if (rv && ev.type !== 'ERROR') this.#rv = rv;
    if (ev.type === 'ERROR') this.#rv = ''; // e.g. 410 Expired: the next watch starts from the current state
    if (ev.type === 'BOOKMARK' || ev.type === 'ERROR') return;
    const name = ev.object.metadata?.name ?? '';
    const t = this.#times.get(name);
    if (!t) return;
    if (t.running === undefined && ev.object.status?.phase === 'Running') {
      t.running = now;
      this.#runningSeen.add(name);
    }
    if (t.ready === undefined && ev.object.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) {
      t.ready = now;
      this.#readySeen.add(name);
      this.#waiters.get(name)?.();
      this.#waiters.delete(name);
    }
  }

  /** Records the create time of `name` (call right before the create request). */
  track(name: string): PodTimes {
    const t: PodTimes = { created: performance.now() };
    this.#times.set(name, t);
    return t;
  }

  /** Resolves when `name` was seen Ready=True; rejects after `timeoutMs`. */
  waitReady(name: string, timeoutMs: number): Promise<void> {
    if (this.#times.get(name)?.ready !== undefined) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(name);
        reject(new Error(`pod ${name} not Ready after ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiters.set(name, () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** The times recorded for every tracked pod. */
  times(): Map<string, PodTimes> {
    return this.#times;
  }

  /** Stops the watch. */
  async stop(): Promise<void> {
    this.#ac.abort();
    await this.#loop?.catch(() => undefined);
    this.#api.close();
  }
}
