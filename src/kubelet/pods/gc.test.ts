import { describe, expect, it } from 'vitest';
import type { ContainerRecord, PodRuntimeState } from '../podstate/records.js';
import { gcCandidates } from './gc.js';

const c = (id: string, name: string, state: ContainerRecord['state'], createdAt: number, sandboxId = 's2'): ContainerRecord => ({
  id, name, sandboxId, state, exitCode: 1, reason: '', message: '', createdAt, startedAt: 0, finishedAt: 0, restartCount: 0, hash: '', image: 'i', imageRef: 'r',
});
// Newest first, as readPodRuntimeState sorts.
const state: PodRuntimeState = {
  uid: 'u',
  sandboxes: [
    { id: 's2', attempt: 1, ready: true, createdAt: 20, ips: [], network: 'pod' },
    { id: 's1', attempt: 0, ready: false, createdAt: 10, ips: [], network: 'pod' },
    { id: 's0', attempt: 0, ready: false, createdAt: 5, ips: [], network: 'pod' },
  ],
  containers: [c('a4', 'a', 'running', 40), c('a3', 'a', 'exited', 30), c('a2', 'a', 'exited', 20), c('a1', 'a', 'exited', 10, 's1'), c('b1', 'b', 'exited', 15)],
};

describe('per-pod deletion after a sync (upstream containerDeletor)', () => {
  it('keeps the newest dead instance per container by default and removes sandboxes no longer used', () => {
    expect(gcCandidates(state)).toEqual({ containers: ['a2', 'a1'], sandboxes: ['s1', 's0'] });
  });

  it('keeps max(--maximum-dead-containers-per-container, 1) dead instances', () => {
    // Keeping 2 of a: a3 and a2 stay, a1 goes (and with it the last use of s1).
    expect(gcCandidates(state, 2)).toEqual({ containers: ['a1'], sandboxes: ['s1', 's0'] });
    // Keeping 3 or more: a1 stays, so its sandbox s1 stays too.
    expect(gcCandidates(state, 5)).toEqual({ containers: [], sandboxes: ['s0'] });
  });
});
