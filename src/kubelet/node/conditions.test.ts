import { describe, expect, it } from 'vitest';
import { computeConditions, readinessErrors, type RuntimeHealth } from './conditions.js';
import { kubeletSettings } from '../../config/defaults.js';
import { fakeReadings } from './testing.js';

const NOW = new Date('2026-01-01T00:00:10Z');
const UP: RuntimeHealth = { state: 'up', conditions: [{ type: 'RuntimeReady', status: true, reason: '', message: '' }, { type: 'NetworkReady', status: true, reason: '', message: '' }] };
const eviction = kubeletSettings({}).evictionHard;

function byType(runtime: RuntimeHealth, readings = fakeReadings(), previous = [] as ReturnType<typeof computeConditions>) {
  const list = computeConditions({ runtime, extraErrors: [], readings, evictionHard: eviction, previous, now: NOW });
  return Object.fromEntries(list.map((c) => [c.type, c]));
}

describe('node conditions', () => {
  it('are upstream types, order, reasons and messages on a healthy node', () => {
    const list = computeConditions({ runtime: UP, extraErrors: [], readings: fakeReadings(), evictionHard: eviction, previous: [], now: NOW });
    expect(list.map((c) => [c.type, c.status, c.reason, c.message])).toEqual([
      ['MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'],
      ['DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'],
      ['PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'],
      ['Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'],
    ]);
    expect(list.every((c) => c.lastHeartbeatTime === NOW && c.lastTransitionTime === NOW)).toBe(true);
  });

  it('is NotReady before the first runtime check and when the runtime is down', () => {
    expect(byType({ state: 'unknown' })['Ready']).toMatchObject({ status: 'False', reason: 'KubeletNotReady', message: '[container runtime status check may not have completed yet]' });
    expect(byType({ state: 'down', error: 'ECONNREFUSED' })['Ready']).toMatchObject({ status: 'False', reason: 'KubeletNotReady', message: 'container runtime is down' });
  });

  it('reports runtime and network readiness like upstream, several errors bracketed', () => {
    const h: RuntimeHealth = { state: 'up', conditions: [{ type: 'RuntimeReady', status: true, reason: '', message: '' }, { type: 'NetworkReady', status: false, reason: 'NetworkPluginNotReady', message: 'cni config uninitialized' }] };
    expect(readinessErrors(h, [])).toEqual(['container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:cni config uninitialized']);
    expect(byType(h)['Ready']?.message).toBe('container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:cni config uninitialized');
    const both = computeConditions({ runtime: { state: 'down', error: 'x' }, extraErrors: ['PLEG is not healthy: pleg has yet to be successful'], readings: fakeReadings(), evictionHard: eviction, previous: [], now: NOW });
    expect(both[3]?.message).toBe('[container runtime is down, PLEG is not healthy: pleg has yet to be successful]');
  });

  it('reports memory, disk, inode and pid pressure against the hard thresholds', () => {
    const r = fakeReadings();
    r.memory.availableBytes = 50 * 2 ** 20; // < 100Mi
    r.fs.availableBytes = r.fs.capacityBytes * 0.05; // < 10%
    expect(byType(UP, r)['MemoryPressure']).toMatchObject({ status: 'True', reason: 'KubeletHasInsufficientMemory', message: 'kubelet has insufficient memory available' });
    expect(byType(UP, r)['DiskPressure']).toMatchObject({ status: 'True', reason: 'KubeletHasDiskPressure', message: 'kubelet has disk pressure' });
    const inodes = fakeReadings();
    inodes.fs.inodesFree = 10_000; // 1% < 5%
    expect(byType(UP, inodes)['DiskPressure']?.status).toBe('True');
    const pids = fakeReadings();
    pids.pids.running = pids.pids.max - 10;
    expect(byType(UP, pids)['PIDPressure']?.status).toBe('False'); // no pid.available threshold by default
    const withPid = computeConditions({ runtime: UP, extraErrors: [], readings: pids, evictionHard: { 'pid.available': { kind: 'percent', value: 5 } }, previous: [], now: NOW });
    expect(withPid[2]).toMatchObject({ status: 'True', reason: 'KubeletHasInsufficientPID' });
  });

  it('keeps lastTransitionTime while the status stays, moves it on a change', () => {
    const first = computeConditions({ runtime: UP, extraErrors: [], readings: fakeReadings(), evictionHard: eviction, previous: [], now: new Date('2026-01-01T00:00:00Z') });
    const same = byType(UP, fakeReadings(), first);
    expect(same['Ready']?.lastTransitionTime).toEqual(new Date('2026-01-01T00:00:00Z'));
    expect(same['Ready']?.lastHeartbeatTime).toBe(NOW);
    const changed = byType({ state: 'down', error: 'x' }, fakeReadings(), first);
    expect(changed['Ready']?.lastTransitionTime).toBe(NOW);
    expect(changed['MemoryPressure']?.lastTransitionTime).toEqual(new Date('2026-01-01T00:00:00Z'));
  });
});
