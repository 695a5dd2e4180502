import type { V1ContainerStatus, V1Pod, V1PodStatus } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../util/logger.js';
import { StatusManager } from './manager.js';

const running = (id: string): V1ContainerStatus => ({ name: 'c', image: 'x', imageID: '', ready: true, restartCount: 0, containerID: id, state: { running: { startedAt: new Date(0) } } });
const terminated = (id: string, exitCode: number): V1ContainerStatus => ({
  name: 'c', image: 'x', imageID: '', ready: false, restartCount: 0, containerID: id, state: { terminated: { exitCode, containerID: id } },
});
const status = (c: V1ContainerStatus, phase = 'Running'): V1PodStatus => ({ phase, containerStatuses: [c] });
const pod = (restartPolicy: string): V1Pod => ({ metadata: { uid: 'u1', name: 'p', namespace: 'default' }, spec: { restartPolicy, containers: [{ name: 'c', image: 'x' }] } });

describe('status manager: container state regressions (upstream checkContainerStateTransition)', () => {
  it('never reports a terminated container running again from a stale read; a new instance may run', () => {
    const m = new StatusManager({ logger: silentLogger(), resolveTarget: () => undefined });
    const p = pod('Always');
    expect(m.setPodStatus(p, status(running('docker://a')))).toBe(true);
    expect(m.setPodStatus(p, status(terminated('docker://a', 1)))).toBe(true);
    // A stale cache still shows instance a running: refused, the terminated state stays.
    expect(m.setPodStatus(p, status(running('docker://a')))).toBe(false);
    expect(m.getPodStatus('u1')?.containerStatuses?.[0]?.state?.terminated?.exitCode).toBe(1);
    // The crash-loop back-off (waiting, same last instance) and the restarted instance b are fine.
    expect(m.setPodStatus(p, status({ ...running('docker://a'), state: { waiting: { reason: 'CrashLoopBackOff' } } }))).toBe(true);
    expect(m.setPodStatus(p, status(running('docker://b')))).toBe(true);
  });

  it('restartPolicy Never / OnFailure after success: a terminated container stays terminated whatever its ID', () => {
    for (const [policy, exit] of [['Never', 1], ['Never', 0], ['OnFailure', 0]] as const) {
      const m = new StatusManager({ logger: silentLogger(), resolveTarget: () => undefined });
      const p = pod(policy);
      m.setPodStatus(p, status(terminated('docker://a', exit)));
      expect(m.setPodStatus(p, status(running('docker://b')))).toBe(false);
      expect(m.getPodStatus('u1')?.containerStatuses?.[0]?.state?.terminated).toBeDefined();
    }
    const m = new StatusManager({ logger: silentLogger(), resolveTarget: () => undefined });
    m.setPodStatus(pod('OnFailure'), status(terminated('docker://a', 2)));
    expect(m.setPodStatus(pod('OnFailure'), status(running('docker://b')))).toBe(true);
  });
});
