/**
 * Size of memory-backed volumes (upstream calculateEmptyDirMemorySize, SizeMemoryBackedVolumes): node allocatable
 * memory, lowered to the pod's memory limit when every container has one, lowered again to the volume's sizeLimit.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { quantityValue } from '../../util/quantity.js';

/** The pod's memory limit (max of the app containers' sum and any init container), or 0 when not fully limited. */
export function podMemoryLimit(pod: V1Pod): number {
  let sum = 0;
  for (const c of pod.spec?.containers ?? []) {
    const l = quantityValue(c.resources?.limits?.memory);
    if (l <= 0) return 0;
    sum += l;
  }
  for (const c of pod.spec?.initContainers ?? []) {
    const l = quantityValue(c.resources?.limits?.memory);
    if (l <= 0) return 0;
    sum = Math.max(sum, l);
  }
  return sum;
}

/** tmpfs size in bytes for a memory-backed volume of `pod` (sizeLimit given as a quantity, if any). */
export function memoryVolumeSize(pod: V1Pod, allocatableMemory: number, sizeLimit?: string): number {
  let size = allocatableMemory;
  const podLimit = podMemoryLimit(pod);
  if (podLimit > 0 && podLimit <= size) size = podLimit;
  const vol = sizeLimit === undefined ? 0 : quantityValue(sizeLimit, 'emptyDir.sizeLimit');
  if (vol > 0 && vol <= size) size = vol;
  return size;
}
