/**
 * core/v1 Event recording for the node agent (client-go's EventRecorder + EventCorrelator, simplified):
 * - source `{component: 'kubelet', host}`; container events carry `involvedObject.fieldPath` (`spec.containers{web}`);
 * - a repeat of the same (object, type, reason, message) increments `count` and `lastTimestamp` with a merge patch
 *   instead of creating a new Event;
 * - a token bucket per involved object (client-go spam filter: burst 25, one token per 5 minutes) drops floods;
 * - writes are queued and sent by one background writer; `event()` never throws and never blocks.
 * Without a REST client (standalone mode) events are only logged.
 */
import type { Logger } from 'pino';
import type { Clock } from '../util/clock.js';
import { errorMessage, isNotFound } from '../util/errors.js';
import { PATCH_CONTENT_TYPE } from './patch.js';
import type { RestClient } from './pods.js';
import type { EventRecorder, ObjectReference } from './types.js';

/** Options for {@link createEventRecorder}. */
export interface EventRecorderOptions {
  /** API client (an ApiClient); undefined = log-only recorder (standalone mode). */
  client?: RestClient;
  /** source.component (default `kubelet`). */
  component?: string;
  /** source.host: the node name. */
  host: string;
  clock: Clock;
  logger: Logger;
  /** Spam filter burst per object (default 25). */
  burst?: number;
  /** Milliseconds per refilled token (default 300 000 = client-go's 1/300 qps). */
  refillMs?: number;
  /** Queue bound; older entries are dropped beyond it (default 1000). */
  maxQueue?: number;
  /**
   * Spam-filter buckets kept (default 4096, client-go's LRU size): beyond it the least recently used object's bucket
   * is dropped, so the filter's memory is bounded whatever the churn of objects.
   */
  maxBuckets?: number;
}

interface Sent {
  name: string;
  namespace: string;
  count: number;
  first: string;
}

interface Bucket {
  tokens: number;
  at: number;
}

interface Pending {
  ref: ObjectReference;
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
  at: number;
}

/** An EventRecorder with a way to wait for queued writes (tests, shutdown). */
export interface FlushableEventRecorder extends EventRecorder {
  /** Resolves when every queued event has been written (or failed). */
  flush(): Promise<void>;
  /** Stops writing; later events are dropped. */
  stop(): void;
}

const rfc3339 = (ms: number): string => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

/** Builds an event recorder; see the module comment for behaviour. */
export function createEventRecorder(opts: EventRecorderOptions): FlushableEventRecorder {
  const burst = opts.burst ?? 25;
  const refillMs = opts.refillMs ?? 300_000;
  const maxQueue = opts.maxQueue ?? 1000;
  const maxBuckets = opts.maxBuckets ?? 4096;
  const component = opts.component ?? 'kubelet';
  const buckets = new Map<string, Bucket>();
  const sent = new Map<string, Sent>();
  const queue: Pending[] = [];
  let draining: Promise<void> | undefined;
  let stopped = false;
  let seq = 0;

  const allow = (key: string, now: number): boolean => {
    const b = buckets.get(key) ?? { tokens: burst, at: now };
    const refill = Math.floor((now - b.at) / refillMs);
    if (refill > 0) {
      b.tokens = Math.min(burst, b.tokens + refill);
      b.at += refill * refillMs;
    }
    // Delete and set: the Map's order is then least recently used first.
    buckets.delete(key);
    buckets.set(key, b);
    if (buckets.size > maxBuckets) buckets.delete(buckets.keys().next().value as string);
    if (b.tokens <= 0) return false;
    b.tokens--;
    return true;
  };

  const write = async (client: RestClient, p: Pending): Promise<void> => {
    const ns = p.ref.namespace ?? 'default';
    const key = JSON.stringify([p.ref.kind, ns, p.ref.name, p.ref.uid, p.ref.fieldPath, p.type, p.reason, p.message]);
    const prev = sent.get(key);
    const ts = rfc3339(p.at);
    if (prev !== undefined) {
      try {
        await client.request({
          method: 'PATCH',
          path: `/api/v1/namespaces/${encodeURIComponent(prev.namespace)}/events/${encodeURIComponent(prev.name)}`,
          body: { count: prev.count + 1, lastTimestamp: ts },
          contentType: PATCH_CONTENT_TYPE.merge,
        });
        prev.count++;
        return;
      } catch (err) {
        if (!isNotFound(err)) throw err;
        sent.delete(key);
      }
    }
    const name = `${p.ref.name}.${(p.at * 1000 + (seq++ % 1000)).toString(16)}`;
    await client.request({
      method: 'POST',
      path: `/api/v1/namespaces/${encodeURIComponent(ns)}/events`,
      body: {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name, namespace: ns },
        involvedObject: { ...p.ref, namespace: p.ref.namespace },
        reason: p.reason,
        message: p.message,
        type: p.type,
        source: { component, host: opts.host },
        firstTimestamp: ts,
        lastTimestamp: ts,
        count: 1,
        reportingComponent: component,
        reportingInstance: opts.host,
      },
    });
    sent.set(key, { name, namespace: ns, count: 1, first: ts });
    if (sent.size > 4096) sent.delete(sent.keys().next().value as string);
  };

  const drain = async (client: RestClient): Promise<void> => {
    while (queue.length > 0 && !stopped) {
      const p = queue.shift() as Pending;
      try {
        await write(client, p);
      } catch (err) {
        opts.logger.warn({ err: errorMessage(err), reason: p.reason, object: p.ref.name }, 'failed to write event');
      }
    }
    draining = undefined;
  };

  return {
    event(ref, type, reason, message) {
      try {
        const now = opts.clock.now();
        const objKey = `${ref.kind}/${ref.namespace ?? ''}/${ref.name}/${ref.uid ?? ''}`;
        if (!allow(objKey, now)) {
          opts.logger.debug({ object: objKey, reason }, 'event dropped by spam filter');
          return;
        }
        opts.logger.debug({ object: objKey, fieldPath: ref.fieldPath, type, reason, msg2: message }, 'event');
        if (opts.client === undefined || stopped) return;
        queue.push({ ref, type, reason, message, at: now });
        if (queue.length > maxQueue) queue.shift();
        draining ??= drain(opts.client);
      } catch {
        // never throw from event()
      }
    },
    async flush() {
      while (draining !== undefined) await draining;
    },
    stop() {
      stopped = true;
      queue.length = 0;
    },
  };
}
