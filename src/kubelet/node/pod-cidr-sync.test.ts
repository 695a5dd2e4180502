import type { V1Node } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { InvalidError } from '../../util/errors.js';
import { FakeClock } from '../../util/clock.js';
import { silentLogger } from '../../util/logger.js';
import { nodePodCIDRs, PodCidrSync } from './pod-cidr-sync.js';

function withCidrs(podCIDRs?: string[], podCIDR?: string): V1Node {
  return { metadata: { name: 'n' }, spec: { ...(podCIDRs ? { podCIDRs } : {}), ...(podCIDR ? { podCIDR } : {}) } };
}

describe('PodCidrSync', () => {
  it('reads spec.podCIDRs, else spec.podCIDR', () => {
    expect(nodePodCIDRs(undefined)).toEqual([]);
    expect(nodePodCIDRs(withCidrs())).toEqual([]);
    expect(nodePodCIDRs(withCidrs(undefined, '10.215.1.0/24'))).toEqual(['10.215.1.0/24']);
    expect(nodePodCIDRs(withCidrs(['10.215.1.0/24', 'fd15:0:0:1::/64'], '10.215.1.0/24'))).toEqual(['10.215.1.0/24', 'fd15:0:0:1::/64']);
  });

  it('hands the runtime the pod CIDRs once they appear and again only when they change; refusals are not retried per step', async () => {
    let node: V1Node | undefined;
    const calls: string[][] = [];
    let refuse = false;
    const runtime = {
      async updatePodCIDR(c: readonly string[]): Promise<void> {
        calls.push([...c]);
        if (refuse) throw new InvalidError('bad');
      },
    };
    const sync = new PodCidrSync({ node: () => node, runtime, clock: new FakeClock(0), logger: silentLogger() });
    expect(await sync.step()).toBe(false);
    node = withCidrs();
    expect(await sync.step()).toBe(false);
    node = withCidrs(['10.215.1.0/24']);
    expect(await sync.step()).toBe(true);
    expect(await sync.step()).toBe(false);
    node = withCidrs(['10.215.1.0/24', 'fd15:0:0:1::/64']);
    expect(await sync.step()).toBe(true);
    expect(calls).toEqual([['10.215.1.0/24'], ['10.215.1.0/24', 'fd15:0:0:1::/64']]);
    refuse = true;
    node = withCidrs(['bad']);
    expect(await sync.step()).toBe(false);
    expect(calls).toHaveLength(3);
  });

  it('GETs the Node while no pod CIDR is known, backing off, and never after one was applied', async () => {
    const clock = new FakeClock(0);
    let fetched = 0;
    let apiNode = withCidrs();
    const applied: string[][] = [];
    const sync = new PodCidrSync({
      node: () => undefined,
      fetchNode: async () => {
        fetched++;
        return apiNode;
      },
      runtime: { updatePodCIDR: async (c) => void applied.push([...c]) },
      clock,
      logger: silentLogger(),
      periodMs: 1000,
    });
    await sync.step();
    expect(fetched).toBe(1);
    await sync.step();
    expect(fetched).toBe(1);
    clock.advance(1000);
    await sync.step();
    expect(fetched).toBe(2);
    clock.advance(1000);
    await sync.step();
    expect(fetched).toBe(2);
    clock.advance(1000);
    apiNode = withCidrs(['10.215.9.0/24']);
    expect(await sync.step()).toBe(true);
    expect(fetched).toBe(3);
    clock.advance(600_000);
    await sync.step();
    expect(fetched).toBe(3);
    expect(applied).toEqual([['10.215.9.0/24']]);
  });
});
