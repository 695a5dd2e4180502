import { describe, expect, it } from 'vitest';
import { apiPod, ctr, mkPod, world } from './harness.test-util.js';

describe('PodLifecycle: kubelet-initiated termination (eviction) and what the container GC may remove', () => {
  it('an evicted pod ends Failed/Evicted with DisruptionTarget in the API, and its content becomes removable', async () => {
    const w = await world();
    expect(w.lc.allSourcesReady()).toBe(true);
    const pod = w.api.apply(mkPod('hog', { containers: [ctr('c')], terminationGracePeriodSeconds: 1 }));
    const uid = pod.metadata?.uid ?? '';
    await w.advance(2000);
    expect(w.lc.podRemoval(uid)).toEqual({ content: false, runtime: false });
    const message = 'The node was low on resource: memory. ';
    w.lc.failPod(uid, { reason: 'Evicted', message, gracePeriodSeconds: 0, evicted: true, disruptionTarget: { reason: 'TerminationByKubelet', message } });
    await w.advance(5000);
    const status = apiPod(w, 'hog')?.status;
    expect(status?.phase).toBe('Failed');
    expect(status?.reason).toBe('Evicted');
    expect(status?.conditions?.find((c) => c.type === 'DisruptionTarget')).toMatchObject({ status: 'True', reason: 'TerminationByKubelet', message });
    expect(w.lc.podRemoval(uid)).toEqual({ content: true, runtime: true });
    // A UID the workers never knew is removable once every source has synced (upstream podsSynced).
    expect(w.lc.podRemoval('unknown-uid')).toEqual({ content: true, runtime: true });
    await w.lc.stop();
  });

  it('a pod failed for another reason (no eviction) is terminated but its content stays for logs', async () => {
    const w = await world();
    const pod = w.api.apply(mkPod('dl', { containers: [ctr('c')], terminationGracePeriodSeconds: 1 }));
    const uid = pod.metadata?.uid ?? '';
    await w.advance(2000);
    w.lc.failPod(uid, { reason: 'Terminated', message: 'bye', gracePeriodSeconds: 0 });
    await w.advance(5000);
    expect(apiPod(w, 'dl')?.status?.conditions?.some((c) => c.type === 'DisruptionTarget')).toBe(false);
    expect(w.lc.podRemoval(uid)).toEqual({ content: false, runtime: true });
    await w.lc.stop();
  });
});
