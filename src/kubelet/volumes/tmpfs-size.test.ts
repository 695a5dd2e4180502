import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { memoryVolumeSize, podMemoryLimit } from './tmpfs-size.js';

const Mi = 2 ** 20;
const pod = (limits: (string | undefined)[], init: (string | undefined)[] = []): V1Pod => {
  const c = (l: string | undefined, i: number): V1Container => ({ name: `c${i}`, resources: l === undefined ? {} : { limits: { memory: l } } });
  return { spec: { containers: limits.map(c), initContainers: init.map(c) } };
};

describe('memory-backed volume size', () => {
  it('pod limit is the sum of app containers, or the largest init container, only when all are limited', () => {
    expect(podMemoryLimit(pod(['32Mi', '16Mi']))).toBe(48 * Mi);
    expect(podMemoryLimit(pod(['32Mi'], ['64Mi']))).toBe(64 * Mi);
    expect(podMemoryLimit(pod(['32Mi', undefined]))).toBe(0);
  });

  it('allocatable, lowered to the pod limit, lowered to sizeLimit', () => {
    expect(memoryVolumeSize(pod([undefined]), 1024 * Mi)).toBe(1024 * Mi);
    expect(memoryVolumeSize(pod(['32Mi']), 1024 * Mi)).toBe(32 * Mi);
    expect(memoryVolumeSize(pod(['32Mi']), 1024 * Mi, '16Mi')).toBe(16 * Mi);
    expect(memoryVolumeSize(pod(['32Mi']), 1024 * Mi, '64Mi')).toBe(32 * Mi);
    expect(memoryVolumeSize(pod(['4Gi']), 1024 * Mi)).toBe(1024 * Mi);
  });
});
