import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../util/clock.js';
import { ConflictError } from '../../util/errors.js';
import { silentLogger } from '../../util/logger.js';
import { LeaseController, NODE_LEASE_NAMESPACE } from './lease.js';
import { FakeLeaseApi } from './testing.js';

function setup() {
  const clock = new FakeClock(Date.UTC(2026, 0, 1, 0, 0, 0, 123));
  const api = new FakeLeaseApi();
  const ctl = new LeaseController({ nodeName: 'worker-1', leaseDurationSeconds: 40, leases: api, clock, logger: silentLogger() });
  ctl.setOwner('uid-worker-1');
  return { clock, api, ctl };
}

describe('node lease', () => {
  it('creates the lease in kube-node-lease, owned by the node, with a MicroTime renewTime', async () => {
    const { api, ctl } = setup();
    expect(await ctl.step()).toBe(10_000);
    const lease = api.leases.get(`${NODE_LEASE_NAMESPACE}/worker-1`);
    expect(lease?.spec).toMatchObject({ holderIdentity: 'worker-1', leaseDurationSeconds: 40 });
    expect(lease?.metadata?.ownerReferences).toEqual([{ apiVersion: 'v1', kind: 'Node', name: 'worker-1', uid: 'uid-worker-1' }]);
    expect(api.renewTimes).toEqual(['2026-01-01T00:00:00.123000Z']);
  });

  it('renews every interval by replacing with the current resourceVersion', async () => {
    const { clock, api, ctl } = setup();
    await ctl.step();
    clock.advance(10_000);
    expect(await ctl.step()).toBe(10_000);
    clock.advance(10_000);
    await ctl.step();
    expect(api.renewTimes).toEqual(['2026-01-01T00:00:00.123000Z', '2026-01-01T00:00:10.123000Z', '2026-01-01T00:00:20.123000Z']);
    expect(ctl.lastRenewAt()).toBe(clock.now());
  });

  it('backs off 200 ms doubling to 7 s while the API server is away, then catches up', async () => {
    const { clock, api, ctl } = setup();
    await ctl.step();
    api.down = true;
    const delays: number[] = [];
    for (let i = 0; i < 8; i++) delays.push(await ctl.step());
    expect(delays).toEqual([200, 400, 800, 1600, 3200, 6400, 7000, 7000]);
    api.down = false;
    clock.advance(7000);
    expect(await ctl.step()).toBe(10_000);
    expect(api.renewTimes.at(-1)).toBe('2026-01-01T00:00:07.123000Z');
  });

  it('re-reads the lease after a conflict (someone else wrote it)', async () => {
    const { api, ctl } = setup();
    await ctl.step();
    const stored = api.leases.get(`${NODE_LEASE_NAMESPACE}/worker-1`);
    if (stored?.metadata) stored.metadata.resourceVersion = '999';
    expect(await ctl.step()).toBe(200);
    expect(await ctl.step()).toBe(10_000);
    expect(api.renewTimes).toHaveLength(2);
  });

  it('adopts an existing lease instead of failing', async () => {
    const { api, ctl } = setup();
    await api.create(NODE_LEASE_NAMESPACE, { metadata: { name: 'worker-1' }, spec: { holderIdentity: 'worker-1' } });
    expect(await ctl.step()).toBe(10_000);
    expect(api.leases.get(`${NODE_LEASE_NAMESPACE}/worker-1`)?.spec?.leaseDurationSeconds).toBe(40);
    expect(new ConflictError('x').code).toBe('CONFLICT');
  });
});
