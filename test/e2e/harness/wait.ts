import { ApiClient, loadKubeConfig } from '../../../src/api/index.js';

/** Options of {@link waitFor}. */
export interface WaitOptions {
  /** Give up after this long (default 30 s). */
  timeoutMs?: number;
  /** Poll interval (default 200 ms). */
  intervalMs?: number;
  /** What is awaited, for the timeout message. */
  description?: string;
}

/**
 * Polls `condition` until it returns a value other than undefined/false (which is returned), or throws after the
 * timeout with the description and the last error the condition threw.
 */
export async function waitFor<T>(condition: () => T | undefined | false | Promise<T | undefined | false>, opts: WaitOptions = {}): Promise<T> {
  const timeout = opts.timeoutMs ?? 30_000;
  const deadline = Date.now() + timeout;
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await condition();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() >= deadline) {
      const why = lastErr instanceof Error ? ` (last error: ${lastErr.message})` : '';
      throw new Error(`timed out after ${timeout} ms waiting for ${opts.description ?? 'condition'}${why}`);
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 200));
  }
}

/** One watch event as delivered to {@link waitForWatch} predicates. */
export interface WatchEventLike<T> {
  type: string;
  object: T;
}

/** Options of {@link waitForWatch}. */
export interface WatchWaitOptions {
  fieldSelector?: string;
  labelSelector?: string;
  timeoutMs?: number;
  description?: string;
}

/**
 * Watches `path` (a collection, e.g. `/api/v1/namespaces/default/pods`) from the current state (synthetic ADDED
 * events first) until `predicate` returns true for an event; resolves with that event's object. Event-driven, so
 * no polling delay; throws after the timeout.
 */
export async function waitForWatch<T = Record<string, unknown>>(
  kubeconfigPath: string,
  path: string,
  predicate: (ev: WatchEventLike<T>) => boolean,
  opts: WatchWaitOptions = {},
): Promise<T> {
  const client = new ApiClient(loadKubeConfig(kubeconfigPath.includes(':') ? undefined : kubeconfigPath));
  const timeout = opts.timeoutMs ?? 30_000;
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), timeout);
  let found: T | undefined;
  try {
    while (!ac.signal.aborted && found === undefined) {
      await client.stream(
        { path, query: { watch: 'true', fieldSelector: opts.fieldSelector, labelSelector: opts.labelSelector, timeoutSeconds: Math.ceil(timeout / 1000) }, signal: ac.signal },
        (line) => {
          const ev = line as WatchEventLike<T>;
          if (found === undefined && ev.type !== 'BOOKMARK' && ev.type !== 'ERROR' && predicate(ev)) {
            found = ev.object;
            ac.abort();
          }
        },
        timeout,
      );
    }
  } finally {
    clearTimeout(timer);
    client.close();
  }
  if (found === undefined) throw new Error(`timed out after ${timeout} ms watching ${path} for ${opts.description ?? 'a matching event'}`);
  return found;
}
