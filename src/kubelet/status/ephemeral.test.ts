import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { ContainerRecord, PodRuntimeState } from '../podstate/records.js';
import { generatePodStatus } from './generate.js';

const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);

function rec(name: string, state: ContainerRecord['state']): ContainerRecord {
  return {
    id: `${name}-id`, name, sandboxId: 's1', state, exitCode: state === 'exited' ? 2 : 0, reason: state === 'exited' ? 'Error' : '', message: '',
    createdAt: NOW - 1000, startedAt: NOW - 900, finishedAt: state === 'exited' ? NOW - 100 : 0, restartCount: 0, hash: '', image: 'img:1', imageRef: 'sha256:abc',
  };
}

function gen(p: V1Pod, containers: ContainerRecord[], reasons = new Map<string, { reason: string; message: string }>()) {
  const state: PodRuntimeState = { uid: 'u1', sandboxes: [{ id: 's1', attempt: 0, ready: true, createdAt: NOW - 2000, ips: ['172.17.0.5'], network: 'pod' }], containers };
  return generatePodStatus({ pod: p, state, reasons, oldStatus: undefined, now: NOW, hostIPs: ['10.0.0.1'], runtimeName: 'docker', podIsTerminal: false });
}

describe('ephemeral container statuses (kubectl debug)', () => {
  const pod: V1Pod = {
    metadata: { name: 'p', namespace: 'default', uid: 'u1' },
    spec: {
      containers: [{ name: 'app', image: 'img:1' }],
      ephemeralContainers: [{ name: 'dbg', image: 'img:1', targetContainerName: 'app' }, { name: 'dbg2', image: 'img:1' }],
    },
  };

  it('reports each in spec order: running, or waiting with the start failure; never ready; the pod stays Ready', () => {
    const s = gen(pod, [rec('app', 'running'), rec('dbg', 'running')], new Map([['dbg2', { reason: 'CreateContainerConfigError', message: 'target container x is not running' }]]));
    expect(s.ephemeralContainerStatuses).toMatchObject([
      { name: 'dbg', ready: false, containerID: 'docker://dbg-id', state: { running: {} } },
      { name: 'dbg2', ready: false, state: { waiting: { reason: 'CreateContainerConfigError', message: 'target container x is not running' } } },
    ]);
    expect(s.containerStatuses?.map((c) => c.name)).toEqual(['app']);
    expect(s.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
  });

  it('a finished ephemeral container is terminated, not restarted, and does not affect the phase', () => {
    const s = gen(pod, [rec('app', 'running'), rec('dbg', 'exited')]);
    expect(s.ephemeralContainerStatuses?.[0]?.state?.terminated).toMatchObject({ exitCode: 2, reason: 'Error' });
    expect(s.phase).toBe('Running');
  });

  it('is absent without ephemeral containers', () => {
    expect(gen({ ...pod, spec: { containers: [{ name: 'app' }] } }, [rec('app', 'running')]).ephemeralContainerStatuses).toBeUndefined();
  });
});
