import { describe, expect, it } from 'vitest';
import { FakeClock } from '../util/clock.js';
import { NotFoundError } from '../util/errors.js';
import { silentLogger } from '../util/logger.js';
import { createEventRecorder } from './events.js';
import type { ApiRequest } from './client.js';
import type { RestClient } from './pods.js';

function fakeClient(): RestClient & { reqs: ApiRequest[]; failPatch: boolean } {
  const c = {
    reqs: [] as ApiRequest[],
    failPatch: false,
    async request<T>(req: ApiRequest): Promise<T> {
      c.reqs.push(req);
      if (req.method === 'PATCH' && c.failPatch) throw new NotFoundError('gone');
      return {} as T;
    },
  };
  return c;
}

const ref = { kind: 'Pod', namespace: 'default', name: 'web', uid: 'u1', fieldPath: 'spec.containers{c}' };

describe('event recorder', () => {
  it('creates core/v1 events with source and involvedObject, and counts repeats with a patch', async () => {
    const clock = new FakeClock();
    const client = fakeClient();
    const r = createEventRecorder({ client, host: 'node1', clock, logger: silentLogger() });
    r.event(ref, 'Warning', 'BackOff', 'Back-off restarting failed container c in pod web_default(u1)');
    clock.advance(5000);
    r.event(ref, 'Warning', 'BackOff', 'Back-off restarting failed container c in pod web_default(u1)');
    await r.flush();
    expect(client.reqs.map((q) => q.method)).toEqual(['POST', 'PATCH']);
    const body = client.reqs[0]?.body as Record<string, unknown>;
    expect(body).toMatchObject({
      type: 'Warning',
      reason: 'BackOff',
      source: { component: 'kubelet', host: 'node1' },
      involvedObject: { kind: 'Pod', name: 'web', fieldPath: 'spec.containers{c}' },
      count: 1,
      firstTimestamp: '2026-01-01T00:00:00Z',
    });
    expect(client.reqs[0]?.path).toBe('/api/v1/namespaces/default/events');
    expect(client.reqs[1]?.body).toEqual({ count: 2, lastTimestamp: '2026-01-01T00:00:05Z' });
    expect(client.reqs[1]?.contentType).toBe('application/merge-patch+json');
  });

  it('recreates an event whose object vanished', async () => {
    const clock = new FakeClock();
    const client = fakeClient();
    const r = createEventRecorder({ client, host: 'node1', clock, logger: silentLogger() });
    r.event(ref, 'Normal', 'Pulled', 'x');
    client.failPatch = true;
    r.event(ref, 'Normal', 'Pulled', 'x');
    await r.flush();
    expect(client.reqs.map((q) => q.method)).toEqual(['POST', 'PATCH', 'POST']);
  });

  it('rate-limits per object: burst 25, then one per refill period', async () => {
    const clock = new FakeClock();
    const client = fakeClient();
    const r = createEventRecorder({ client, host: 'node1', clock, logger: silentLogger() });
    for (let i = 0; i < 40; i++) r.event(ref, 'Normal', 'Started', `m${i}`);
    r.event({ ...ref, name: 'other', uid: 'u2' }, 'Normal', 'Started', 'other');
    await r.flush();
    expect(client.reqs.length).toBe(26);
    clock.advance(300_000);
    r.event(ref, 'Normal', 'Started', 'later');
    r.event(ref, 'Normal', 'Started', 'later2');
    await r.flush();
    expect(client.reqs.length).toBe(27);
  });

  it('keeps at most maxBuckets spam-filter buckets (least recently used dropped): memory does not grow with churn', async () => {
    const clock = new FakeClock();
    const client = fakeClient();
    const r = createEventRecorder({ client, host: 'node1', clock, logger: silentLogger(), burst: 1, maxBuckets: 3 });
    r.event(ref, 'Normal', 'Started', 'a');
    r.event(ref, 'Normal', 'Started', 'b'); // dropped: the bucket of `web` is empty
    r.event({ ...ref, name: 'p1', uid: 'p1' }, 'Normal', 'Started', 'x');
    r.event({ ...ref, name: 'p2', uid: 'p2' }, 'Normal', 'Started', 'x');
    r.event(ref, 'Normal', 'Started', 'c'); // still tracked (3 buckets): dropped, and now the most recent
    r.event({ ...ref, name: 'p3', uid: 'p3' }, 'Normal', 'Started', 'x'); // evicts p1, the least recently used
    r.event({ ...ref, name: 'p1', uid: 'p1' }, 'Normal', 'Started', 'again'); // a fresh bucket: allowed
    await r.flush();
    const sent = client.reqs.map((q) => (q.body as { message?: string; involvedObject?: { name: string } }));
    expect(sent.map((b) => `${b.involvedObject?.name}:${b.message}`)).toEqual(['web:a', 'p1:x', 'p2:x', 'p3:x', 'p1:again']);
  });

  it('only logs without a client, and never throws', () => {
    const r = createEventRecorder({ host: 'node1', clock: new FakeClock(), logger: silentLogger() });
    expect(() => r.event(ref, 'Normal', 'Started', 'x')).not.toThrow();
  });
});
