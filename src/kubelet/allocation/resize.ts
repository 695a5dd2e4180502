/**
 * In-place pod resize, the pure parts (upstream pkg/kubelet/allocation and kuberuntime computePodResizeAction, v1.33):
 * which containers are resizable, the allocation a pod carries, applying an allocation to a pod, whether a resize is
 * allowed and feasible on this node, and what a sync must do to bring running containers to their allocation.
 */
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import type { LinuxContainerResources } from '../../cri/types.js';
import { parseQuantity, quantityMilliValue, quantityValue } from '../../util/quantity.js';
import { isSidecar } from '../podstate/policy.js';
import { latestContainer, type PodRuntimeState } from '../podstate/records.js';
import { milliCPUToQuota, milliCPUToShares, QUOTA_PERIOD } from '../security/resources.js';
import { isStaticPod } from '../sources/static-pod.js';
import type { ContainerAllocation, PodAllocation } from './state.js';

/** Containers whose resources can change in place: app containers and sidecars (restartable init containers). */
export function resizableContainers(pod: V1Pod): { c: V1Container; isInit: boolean }[] {
  return [
    ...(pod.spec?.initContainers ?? []).filter((c) => isSidecar(c)).map((c) => ({ c, isInit: true })),
    ...(pod.spec?.containers ?? []).map((c) => ({ c, isInit: false })),
  ];
}

const copyList = (l: Record<string, string | number> | undefined): Record<string, string> | undefined =>
  l === undefined ? undefined : Object.fromEntries(Object.entries(l).map(([k, v]) => [k, String(v)]));

/** The container's resources as an allocation record. */
export function containerAllocation(c: V1Container): ContainerAllocation {
  const out: ContainerAllocation = {};
  const requests = copyList(c.resources?.requests as Record<string, string> | undefined);
  const limits = copyList(c.resources?.limits as Record<string, string> | undefined);
  if (requests !== undefined) out.requests = requests;
  if (limits !== undefined) out.limits = limits;
  return out;
}

/** The allocation a pod's spec asks for (upstream allocationFromPod). */
export function allocationFromPod(pod: V1Pod): PodAllocation {
  return Object.fromEntries(resizableContainers(pod).map(({ c }) => [c.name, containerAllocation(c)]));
}

function sameList(a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
  const ka = Object.keys(a ?? {});
  const kb = Object.keys(b ?? {});
  if (ka.length !== kb.length) return false;
  return ka.every((k) => b?.[k] !== undefined && parseQuantity(a?.[k]) === parseQuantity(b[k]));
}

/** Semantic equality of two allocations of a container (quantities compared by value: `1` equals `1000m`). */
export function sameAllocation(a: ContainerAllocation, b: ContainerAllocation): boolean {
  return sameList(a.requests, b.requests) && sameList(a.limits, b.limits);
}

/**
 * The pod with its resizable containers' resources replaced by `alloc` where they differ (upstream
 * updatePodFromAllocation); `changed` says whether anything was replaced (the pod asks for a resize). Pure: the
 * given pod is not modified.
 */
export function applyAllocation(pod: V1Pod, alloc: PodAllocation | undefined): { pod: V1Pod; changed: boolean } {
  if (alloc === undefined) return { pod, changed: false };
  let changed = false;
  const swap = (c: V1Container): V1Container => {
    const a = alloc[c.name];
    if (a === undefined || sameAllocation(containerAllocation(c), a)) return c;
    changed = true;
    const resources: V1Container['resources'] = {};
    if (a.requests !== undefined) resources.requests = { ...a.requests };
    if (a.limits !== undefined) resources.limits = { ...a.limits };
    return { ...c, resources };
  };
  const spec = pod.spec;
  if (spec === undefined) return { pod, changed: false };
  const containers = spec.containers.map(swap);
  const initContainers = spec.initContainers?.map((c) => (isSidecar(c) ? swap(c) : c));
  if (!changed) return { pod, changed: false };
  return { pod: { ...pod, spec: { ...spec, containers, ...(initContainers === undefined ? {} : { initContainers }) } }, changed };
}

/** Why a resize of this pod is never possible here (upstream IsInPlacePodVerticalScalingAllowed), or undefined. */
export function resizeNotAllowed(pod: V1Pod): string | undefined {
  if (isStaticPod(pod)) return 'In-place resize of static-pods is not supported';
  return undefined;
}

/** Pod-level cpu (millicores) and memory (bytes) requests (upstream resource.GetResourceRequest). */
export type PodRequestsOf = (pod: V1Pod) => { cpu: number; memory: number };

/**
 * Infeasible: the pod's requests exceed the node's allocatable whatever else runs (upstream canResizePod's first
 * check), with upstream's message; undefined when it could fit on an empty node.
 */
export function infeasibleMessage(pod: V1Pod, allocatable: Record<string, string> | undefined, requestsOf: PodRequestsOf): string | undefined {
  if (allocatable === undefined) return undefined;
  const cpuAvailable = quantityMilliValue(allocatable['cpu'] ?? '0');
  const memAvailable = quantityValue(allocatable['memory'] ?? '0');
  const r = requestsOf(pod);
  if (r.memory > memAvailable) return `Node didn't have enough capacity: memory, requested: ${r.memory}, capacity: ${memAvailable}`;
  if (r.cpu > cpuAvailable) return `Node didn't have enough capacity: cpu, requested: ${r.cpu}, capacity: ${cpuAvailable}`;
  return undefined;
}

/** The CPU/memory cgroup settings a container gets for its resources (as the container config computes them). */
export function desiredCpuMemory(c: V1Container, cpuCFSQuota: boolean): LinuxContainerResources {
  const field = `spec.containers{${c.name}}.resources`;
  const req = quantityMilliValue(c.resources?.requests?.cpu, `${field}.requests.cpu`);
  const lim = quantityMilliValue(c.resources?.limits?.cpu, `${field}.limits.cpu`);
  const out: LinuxContainerResources = { cpuShares: milliCPUToShares(req === 0 && lim !== 0 ? lim : req) };
  const mem = quantityValue(c.resources?.limits?.memory, `${field}.limits.memory`);
  if (mem > 0) out.memoryLimitInBytes = mem;
  if (cpuCFSQuota && lim > 0) {
    out.cpuPeriod = QUOTA_PERIOD;
    out.cpuQuota = milliCPUToQuota(lim, QUOTA_PERIOD);
  }
  return out;
}

/** A running container to update in place. */
export interface ResizeUpdate {
  id: string;
  name: string;
  isInit: boolean;
  /** The CPU/memory settings to apply. */
  resources: LinuxContainerResources;
  /** True when every changed value shrinks (these go first, so the pod's total never overshoots). */
  shrinks: boolean;
  /** The memory limit changes (the pod's memory usage is checked against the new limit first). */
  memoryChanged: boolean;
}

/** A running container the resize restarts (a changed resource with resizePolicy RestartContainer). */
export interface ResizeRestart {
  id: string;
  name: string;
  isInit: boolean;
  /** Upstream's Killing message. */
  message: string;
}

/** What a sync must do so the running containers match the allocated pod. */
export interface ResizePlan {
  /** In-place updates, shrinking containers first. */
  updates: ResizeUpdate[];
  restarts: ResizeRestart[];
}

const n = (v: number | undefined): number => (v !== undefined && v > 0 ? v : 0);
/** cpu.shares at or below the minimum (2, or unset: the runtime default) all mean "the least". */
const shares = (v: number | undefined): number => Math.max(n(v), 2);

function restartPolicy(c: V1Container, resource: 'cpu' | 'memory'): string {
  return c.resizePolicy?.find((p) => p.resourceName === resource)?.restartPolicy ?? 'NotRequired';
}

/**
 * Pure (upstream computePodResizeAction): for each running resizable container of the current sandbox whose runtime
 * reports its settings, compares the settings its allocated resources ask for with what it runs with. A changed
 * resource whose resizePolicy is RestartContainer restarts the container; otherwise the container is updated in
 * place. Containers that do not run, or whose runtime reports nothing, are left alone (they get the allocation when
 * they start).
 */
export function computeResizePlan(pod: V1Pod, state: PodRuntimeState, sandboxId: string, cpuCFSQuota: boolean): ResizePlan {
  const plan: ResizePlan = { updates: [], restarts: [] };
  for (const { c, isInit } of resizableContainers(pod)) {
    const rec = latestContainer(state, c.name, sandboxId);
    if (rec === undefined || rec.state !== 'running' || rec.resources === undefined) continue;
    const want = desiredCpuMemory(c, cpuCFSQuota);
    const have = rec.resources;
    const memChanged = n(want.memoryLimitInBytes) !== n(have.memoryLimitInBytes);
    const quotaChanged = n(want.cpuQuota) !== n(have.cpuQuota);
    const sharesChanged = shares(want.cpuShares) !== shares(have.cpuShares);
    if (!memChanged && !quotaChanged && !sharesChanged) continue;
    const restart = (memChanged && restartPolicy(c, 'memory') === 'RestartContainer') ||
      ((quotaChanged || sharesChanged) && restartPolicy(c, 'cpu') === 'RestartContainer');
    if (restart) {
      plan.restarts.push({ id: rec.id, name: c.name, isInit, message: `Container ${c.name} resize requires restart` });
      continue;
    }
    const grows = (memChanged && n(want.memoryLimitInBytes) > n(have.memoryLimitInBytes)) ||
      (quotaChanged && n(want.cpuQuota) > n(have.cpuQuota)) || (sharesChanged && shares(want.cpuShares) > shares(have.cpuShares));
    plan.updates.push({ id: rec.id, name: c.name, isInit, resources: want, shrinks: !grows, memoryChanged: memChanged });
  }
  plan.updates.sort((a, b) => Number(b.shrinks) - Number(a.shrinks));
  return plan;
}

/** True when any running resizable container does not run with its allocated settings yet (PodResizeInProgress). */
export function resizeInProgress(pod: V1Pod, state: PodRuntimeState, sandboxId: string, cpuCFSQuota: boolean): boolean {
  const plan = computeResizePlan(pod, state, sandboxId, cpuCFSQuota);
  return plan.updates.length > 0 || plan.restarts.length > 0;
}
