/**
 * Downward API resource values (upstream pkg/api/v1/resource ExtractContainerResourceValue): limits/requests of cpu,
 * memory and ephemeral-storage divided by a divisor and rounded up. Unset limits default to node allocatable
 * (upstream defaultPodLimitsForDownwardAPI).
 */
import type { V1Container, V1Pod, V1ResourceFieldSelector } from '@kubernetes/client-node';
import { InvalidError } from '../../util/errors.js';
import { effectiveRequests } from '../security/qos.js';
import { parseQuantityOrThrow, quantityMilliValue, quantityValue } from '../../util/quantity.js';

/** What the node can give a pod: the default for unset limits. */
export interface NodeAllocatable {
  cpuMilli: number;
  memoryBytes: number;
  ephemeralStorageBytes: number;
}

const RESOURCE_KEYS: Record<string, string> = { cpu: 'cpu', memory: 'memory', 'ephemeral-storage': 'ephemeral-storage' };

/**
 * The value of a resourceFieldRef for `container` (or the container the selector names). Throws InvalidError
 * naming `field` for an unknown resource or container.
 */
export function resourceFieldValue(
  sel: V1ResourceFieldSelector,
  pod: V1Pod,
  container: V1Container | undefined,
  allocatable: NodeAllocatable,
  field = 'resourceFieldRef',
): string {
  let c = container;
  if (sel.containerName) {
    c = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].find((x) => x.name === sel.containerName);
    if (c === undefined) throw new InvalidError(`container ${sel.containerName} not found`, { field });
  }
  if (c === undefined) throw new InvalidError('resourceFieldRef needs a containerName here', { field });
  const [kind, resource] = (sel.resource ?? '').split('.', 2) as [string, string | undefined];
  const key = RESOURCE_KEYS[resource ?? ''];
  if ((kind !== 'limits' && kind !== 'requests') || key === undefined) {
    throw new InvalidError(`unsupported container resource : ${sel.resource}`, { field });
  }
  const divisorRaw = sel.divisor === undefined || sel.divisor === '' ? 0 : parseQuantityOrThrow(sel.divisor, `${field}.divisor`);
  const divisor = divisorRaw === 0 ? '1' : sel.divisor;
  let q: string | number | undefined =
    kind === 'limits' ? c.resources?.limits?.[key] : effectiveRequests(c)[key];
  if (kind === 'limits' && (q === undefined || parseQuantityOrThrow(q) === 0)) q = allocatableFor(key, allocatable);
  if (key === 'cpu') {
    return String(Math.ceil(quantityMilliValue(q) / quantityMilliValue(divisor)));
  }
  return String(Math.ceil(quantityValue(q) / quantityValue(divisor)));
}

function allocatableFor(key: string, a: NodeAllocatable): string {
  if (key === 'cpu') return `${a.cpuMilli}m`;
  if (key === 'memory') return String(a.memoryBytes);
  return String(a.ephemeralStorageBytes);
}
