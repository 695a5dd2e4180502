import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { FakeClock, silentLogger } from '../../util/index.js';
import type { ContainerEvent } from '../types.js';
import { DockerEventStream, toContainerEvent } from './events.js';

const line = (action: string, id: string, nano: number, type = 'container', sandbox = 's1') =>
  JSON.stringify({
    Type: 'container',
    Action: action,
    Actor: { ID: id, Attributes: { 'io.kubernetes.docker.type': type, 'io.kubernetes.sandbox.id': sandbox } },
    time: Math.floor(nano / 1e9),
    timeNano: nano,
  }) + '\n';

const T = 1_790_000_000_000_000_000;
const flush = () => new Promise((r) => setImmediate(r));

describe('toContainerEvent', () => {
  it('maps create/start/die/destroy and ignores other actions and foreign containers', () => {
    expect(toContainerEvent(line('die', 'c1', 2e15))).toEqual({
      type: 'stopped',
      containerId: 'c1',
      podSandboxId: 's1',
      isSandbox: false,
      at: 2e9,
      timeNano: 2e15,
    });
    expect(toContainerEvent(line('start', 'p1', 1e15, 'podsandbox'))).toMatchObject({ isSandbox: true, podSandboxId: 'p1' });
    expect(toContainerEvent(line('kill', 'c1', 1))).toBeUndefined();
    expect(toContainerEvent('{"Type":"container","Action":"start","Actor":{"ID":"x","Attributes":{}}}')).toBeUndefined();
    expect(toContainerEvent('not json')).toBeUndefined();
  });
});

describe('DockerEventStream', () => {
  it('reconnects with backoff after the stream breaks, resuming from the last event without duplicates', async () => {
    const clock = new FakeClock();
    const calls: Docker.GetEventsOptions[] = [];
    const streams: PassThrough[] = [];
    const docker = {
      getEvents: async (opts: Docker.GetEventsOptions) => {
        calls.push(opts);
        if (calls.length === 2) throw Object.assign(new Error('refused'), { code: 'ECONNREFUSED' });
        const s = new PassThrough();
        streams.push(s);
        return s;
      },
    } as unknown as Docker;
    const got: ContainerEvent[] = [];
    const es = new DockerEventStream({ docker, logger: silentLogger(), onEvent: (e) => got.push(e), clock, initialBackoffMs: 100 });
    es.start();
    await flush();
    const first = streams[0];
    first?.write(line('create', 'c1', T).slice(0, 20));
    first?.write(line('create', 'c1', T).slice(20) + line('start', 'c1', T + 5e6));
    await flush();
    first?.end();
    await flush();
    expect(calls).toHaveLength(1);
    clock.advance(100); // second connect fails
    await flush();
    expect(calls).toHaveLength(2);
    clock.advance(199);
    await flush();
    expect(calls).toHaveLength(2);
    clock.advance(1); // backoff doubled to 200 ms
    await flush();
    expect(calls).toHaveLength(3);
    expect(calls[2]?.since).toBeCloseTo((T + 5e6) / 1e9, 2);
    streams[1]?.write(line('start', 'c1', T + 5e6) + line('die', 'c1', T + 9e6));
    await flush();
    expect(got.map((e) => e.type)).toEqual(['created', 'started', 'stopped']);
    es.stop();
    expect(clock.pending()).toBe(0);
  });
});
