import type { ServerResponse } from 'node:http';
import { apiVersionOf, storageKey, type ResourceDef } from '../resources.js';
import { ApiError, badRequest, gone } from '../status.js';
import type { JsonObject } from '../json.js';
import type { Store, StoreEvent } from '../store.js';

/** How one watch request is filtered and shaped. */
export interface WatchSpec {
  def: ResourceDef;
  /** Objects of the initial state when the watch starts without a resourceVersion (synthetic ADDED). */
  initial: () => JsonObject[];
  matches: (o: JsonObject) => boolean;
  /** Shapes an object for the wire (typed object, or a Table row when the client asked for Table). */
  render: (o: JsonObject, first: boolean) => JsonObject;
  resourceVersion: string | null;
  allowBookmarks: boolean;
  timeoutSeconds: number;
  bookmarkIntervalMs: number;
  /** Fault injection: answer this watch with an ERROR 410 event. */
  forceGone: boolean;
}

/** Live watch connections, so faults and stop() can drop them. */
export type WatchRegistry = Set<ServerResponse>;

function typed(def: ResourceDef, o: JsonObject): JsonObject {
  const { kind: _k, apiVersion: _a, ...rest } = o;
  return { kind: def.kind, apiVersion: apiVersionOf(def), ...rest };
}

/** Translates a store event into what a filtered watcher sees (selector transitions become ADDED/DELETED). */
export function filterEvent(e: StoreEvent, matches: (o: JsonObject) => boolean): { type: string; object: JsonObject } | undefined {
  const now = matches(e.object);
  const before = e.prev !== undefined && matches(e.prev);
  if (e.type === 'ADDED') return now ? { type: 'ADDED', object: e.object } : undefined;
  if (e.type === 'DELETED') return before ? { type: 'DELETED', object: e.object } : undefined;
  if (now && before) return { type: 'MODIFIED', object: e.object };
  if (now) return { type: 'ADDED', object: e.object };
  if (before) return { type: 'DELETED', object: e.object };
  return undefined;
}

/**
 * Serves one watch as a chunked stream of JSON lines (26-watch-stream-…): backlog from the resourceVersion, then
 * live events; BOOKMARKs when asked; ERROR 410 Expired for a compacted resourceVersion (25-…); ends after
 * timeoutSeconds or when the client goes away.
 */
export function serveWatch(res: ServerResponse, store: Store, live: WatchRegistry, spec: WatchSpec): void {
  const { def } = spec;
  let fromRv: number | undefined;
  if (spec.resourceVersion !== null && spec.resourceVersion !== '' && spec.resourceVersion !== '0') {
    fromRv = Number(spec.resourceVersion);
    if (!Number.isInteger(fromRv) || fromRv < 0) throw badRequest(`resourceVersion: Invalid value: "${spec.resourceVersion}": strconv.ParseUint: parsing "${spec.resourceVersion}": invalid syntax`);
    fromRv = Math.min(fromRv, store.currentRv());
  }
  res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-cache, private', 'transfer-encoding': 'chunked' });
  res.flushHeaders();
  const write = (type: string, object: JsonObject): void => {
    if (!res.writableEnded && !res.destroyed) res.write(`${JSON.stringify({ type, object })}\n`);
  };
  if (spec.forceGone || (fromRv !== undefined && fromRv < store.oldestRv())) {
    write('ERROR', (spec.forceGone ? gone(String(fromRv ?? 0), store.oldestRv()) : gone(String(fromRv), store.oldestRv())).toStatus());
    res.end();
    return;
  }
  let first = true;
  const emit = (type: string, o: JsonObject): void => {
    write(type, spec.render(typed(def, o), first));
    first = false;
  };
  const onEvent = (e: StoreEvent): void => {
    const out = filterEvent(e, spec.matches);
    if (out !== undefined) emit(out.type, out.object);
  };
  let sub: ReturnType<Store['subscribe']>;
  try {
    sub = store.subscribe(storageKey(def), fromRv ?? store.currentRv(), onEvent);
  } catch (e) {
    write('ERROR', e instanceof ApiError ? e.toStatus() : gone(String(fromRv), store.oldestRv()).toStatus());
    res.end();
    return;
  }
  if (fromRv === undefined) for (const o of spec.initial()) emit('ADDED', o);
  for (const e of sub.backlog) onEvent(e);
  live.add(res);
  const bookmark = spec.allowBookmarks
    ? setInterval(() => {
        write('BOOKMARK', { kind: def.kind, apiVersion: apiVersionOf(def), metadata: { resourceVersion: String(store.currentRv()), creationTimestamp: null } });
      }, spec.bookmarkIntervalMs)
    : undefined;
  const timeout = setTimeout(() => res.end(), spec.timeoutSeconds * 1000);
  const cleanup = (): void => {
    sub.unsubscribe();
    live.delete(res);
    if (bookmark !== undefined) clearInterval(bookmark);
    clearTimeout(timeout);
  };
  res.on('close', cleanup);
  res.on('finish', cleanup);
}
