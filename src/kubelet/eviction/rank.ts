/**
 * Which pod to evict first, and what its status says (upstream pkg/kubelet/eviction/helpers.go: rankMemoryPressure,
 * rankDiskPressureFunc, rankPIDPressure, evictionMessage). Pure.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { quantityValue } from '../../util/quantity.js';
import type { Observation } from './thresholds.js';

/** What one pod uses now. */
export interface PodUsage {
  uid: string;
  memoryWorkingSet: number;
  /** Bytes of ephemeral storage: emptyDir volumes plus each container's ephemeralBytes. */
  ephemeralBytes: number;
  processes: number;
  /** ephemeralBytes per container = writable layer (rootfs; measured only for ephemeral-storage) + logs, as upstream. */
  containers: { name: string; memoryWorkingSet: number; ephemeralBytes: number }[];
}

/** The resource a signal is about (thresholds.ts signalResource). */
export type EvictionResource = 'memory' | 'ephemeral-storage' | 'inodes' | 'pids';
type Resource = EvictionResource;

const priority = (p: V1Pod): number => p.spec?.priority ?? 0;

function request(p: V1Pod, resource: 'memory' | 'ephemeral-storage'): number {
  let sum = 0;
  for (const c of p.spec?.containers ?? []) sum += quantityValue(c.resources?.requests?.[resource]);
  return sum;
}

function usage(u: PodUsage | undefined, resource: Resource): number {
  if (u === undefined) return 0;
  if (resource === 'memory') return u.memoryWorkingSet;
  if (resource === 'pids') return u.processes;
  return u.ephemeralBytes;
}

/**
 * Orders `pods` for eviction under pressure on `resource`: for memory and disk, pods using more than they requested
 * first, then lower priority, then larger usage above the request; for pids, lower priority, then more processes.
 * Pods without usage data sort as using nothing.
 */
export function rankForEviction(pods: readonly V1Pod[], usages: ReadonlyMap<string, PodUsage>, resource: Resource): V1Pod[] {
  const req = (p: V1Pod): number => (resource === 'memory' || resource === 'ephemeral-storage' ? request(p, resource) : 0);
  const use = (p: V1Pod): number => usage(usages.get(p.metadata?.uid ?? ''), resource);
  return [...pods].sort((a, b) => {
    if (resource !== 'pids' && resource !== 'inodes') {
      const ea = use(a) > req(a) ? 1 : 0;
      const eb = use(b) > req(b) ? 1 : 0;
      if (ea !== eb) return eb - ea;
    }
    if (priority(a) !== priority(b)) return priority(a) - priority(b);
    return use(b) - req(b) - (use(a) - req(a));
  });
}

/** A byte count as Kubernetes prints a binary-SI quantity ("100Mi", "102404Ki", "1500"). */
export function formatBinarySI(n: number): string {
  const v = Math.round(n);
  if (v === 0) return '0';
  const units = ['Ei', 'Pi', 'Ti', 'Gi', 'Mi', 'Ki'];
  for (let i = 0; i < units.length; i++) {
    const base = 1024 ** (units.length - i);
    if (Math.abs(v) >= base && v % base === 0) return `${v / base}${units[i]}`;
  }
  return String(v);
}

/**
 * The eviction message (upstream evictionMessage): `The node was low on resource: memory. Threshold quantity: 100Mi,
 * available: 50Mi. Container c was using 200Mi, request is 0, has larger consumption of memory. `
 */
export function evictionMessage(input: {
  pod: V1Pod;
  usage: PodUsage | undefined;
  resource: Resource;
  thresholdQuantity: number | undefined;
  observation: Observation | undefined;
}): string {
  const { pod, usage: u, resource } = input;
  let msg = `The node was low on resource: ${resource}. `;
  if (input.thresholdQuantity !== undefined && input.observation !== undefined) {
    msg += `Threshold quantity: ${formatBinarySI(input.thresholdQuantity)}, available: ${formatBinarySI(input.observation.available)}. `;
  }
  if (resource === 'memory' || resource === 'ephemeral-storage') {
    for (const c of pod.spec?.containers ?? []) {
      const cu = u?.containers.find((x) => x.name === c.name);
      if (cu === undefined) continue;
      const used = resource === 'memory' ? cu.memoryWorkingSet : cu.ephemeralBytes;
      const reqText = c.resources?.requests?.[resource];
      const req = quantityValue(reqText);
      if (used > req) {
        msg += `Container ${c.name} was using ${formatBinarySI(used)}, request is ${reqText === undefined ? '0' : String(reqText)}, has larger consumption of ${resource}. `;
      }
    }
  }
  return msg;
}
